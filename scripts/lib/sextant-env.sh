# Sourced by the cluster scripts: where Sextant is installed, which binary to run,
# where pid files and logs go. Every value can be set in the environment first.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

# The install (a release tarball unpacked, or the source tree): the same path on every host.
SEXTANT_HOME=${SEXTANT_HOME:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

# bin/sextant of a release, else the newest build of the source tree.
sextant_find_binary() {
    local candidate
    for candidate in "$SEXTANT_HOME/bin/sextant" "$SEXTANT_HOME/.build/release/sextant" "$SEXTANT_HOME/.build/debug/sextant"; do
        if [[ -x $candidate ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

# Told apart so that remote hosts find their own binary unless one was named.
SEXTANT_BIN_GIVEN=${SEXTANT_BIN:+yes}
if [[ -z ${SEXTANT_BIN:-} ]]; then
    SEXTANT_BIN=$(sextant_find_binary) || {
        echo "sextant: no binary under $SEXTANT_HOME (bin/sextant or .build/*/sextant); build it or set SEXTANT_BIN" >&2
        exit 1
    }
fi

# Pid files, logs and the cluster's secret file. Made absolute so that it means the same
# path on the remote hosts.
SEXTANT_RUN_DIR=${SEXTANT_RUN_DIR:-$PWD/.sextant-run}
case $SEXTANT_RUN_DIR in
    /*) ;;
    *) SEXTANT_RUN_DIR=$PWD/$SEXTANT_RUN_DIR ;;
esac

SEXTANT_MASTER_PORT=${SEXTANT_MASTER_PORT:-7077}
SEXTANT_EXECUTORS_FILE=${SEXTANT_EXECUTORS_FILE:-${SEXTANT_CONF_DIR:-$SEXTANT_HOME/conf}/executors}
SEXTANT_SSH=${SEXTANT_SSH:-ssh}
# ssh must never stop to ask for a password or a passphrase: a cluster start is not interactive.
# SEXTANT_SSH_OPTS adds options (e.g. "-F ~/.ssh/cluster_config -i ~/.ssh/cluster_key").
read -r -a SEXTANT_SSH_OPTIONS <<<"-o BatchMode=yes -o ConnectTimeout=10 ${SEXTANT_SSH_OPTS:-}"

export SEXTANT_HOME SEXTANT_BIN SEXTANT_RUN_DIR

# Lines of the executors file as "host cores" ("host -" when no cores are given);
# comments and blank lines dropped. Fails with a message naming the file and line.
sextant_read_executors() {
    local file=$1 line host option rest cores number=0
    [[ -r $file ]] || { echo "sextant: cannot read the executors file $file" >&2; return 1; }
    while IFS= read -r line || [[ -n $line ]]; do
        number=$((number + 1))
        line=${line%%#*}
        read -r host option rest <<<"$line"
        [[ -z ${host:-} ]] && continue
        cores=-
        if [[ -n ${option:-} ]]; then
            if [[ $option =~ ^cores=([1-9][0-9]*)$ && -z ${rest:-} ]]; then
                cores=${BASH_REMATCH[1]}
            else
                echo "sextant: $file line $number: expected 'HOST' or 'HOST cores=N', got '$line'" >&2
                return 1
            fi
        fi
        echo "$host $cores"
    done <"$file"
}

sextant_is_local() {
    [[ $1 == localhost || $1 == 127.0.0.1 ]]
}

# The command line, quoted for a remote shell.
sextant_quote() {
    local quoted
    printf -v quoted '%q ' "$@"
    echo "${quoted% }"
}

# Closes every descriptor above 2 this shell inherited, so that daemons it starts keep none of
# its caller's (Foundation's Process waits until its child's status socket is closed by every
# process that inherited it; a test harness would wait for the daemons to end).
sextant_close_inherited_fds() {
    local fd
    for fd in "/proc/$BASHPID/fd/"*; do
        fd=${fd##*/}
        if ((fd > 2)); then eval "exec $fd>&-"; fi
    done
}
