# Sourced by scripts/ec2/launch and teardown: option defaults, and aws calls that --dry-run
# prints instead of running.
# shellcheck shell=bash disable=SC2034  # the variables are for the scripts that source this

EC2_STATE_ROOT=${SEXTANT_EC2_STATE:-$PWD/.sextant-ec2}
DRY_RUN=no

die() {
    echo "${0##*/}: $*" >&2
    exit 2
}

# aws_call PLACEHOLDER ARGS...: runs `aws ARGS... --region REGION` and prints its output; with
# --dry-run prints the exact call (shell-quoted, prefixed "aws-call: ") and PLACEHOLDER instead.
aws_call() {
    local placeholder=$1 quoted
    shift
    if [[ $DRY_RUN == yes ]]; then
        printf -v quoted '%q ' aws "$@" --region "$REGION"
        echo "aws-call: ${quoted% }" >&3
        echo "$placeholder"
    else
        aws "$@" --region "$REGION"
    fi
}

# The same for calls whose failure is expected and harmless (deleting what may not exist).
aws_try() {
    aws_call "" "$@" >/dev/null 2>&1 || true
}

# executor_credential SECRET_FILE: prints the executor credential `sextant credential executor`
# makes from the cluster secret in SECRET_FILE (HMAC-SHA256(secret, "sextant-credential-v1\n"
# "executor\n"), ClusterSecret), computed with bash builtins and sha256sum on stdin so that the
# secret is never on a command line and no sextant binary is needed where launch runs.
executor_credential() {
    local secret code i ipad="" opad="" inner digest=""
    secret=$(<"$1")
    secret=${secret//[$'\n\r\t ']/}
    ((${#secret} >= 16 && ${#secret} <= 64)) || die "the secret in $1 must be 16 to 64 characters"
    for ((i = 0; i < 64; i++)); do
        code=0
        if ((i < ${#secret})); then printf -v code '%d' "'${secret:i:1}"; fi
        printf -v ipad '%s\\x%02x' "$ipad" $((code ^ 0x36))
        printf -v opad '%s\\x%02x' "$opad" $((code ^ 0x5c))
    done
    inner=$({ printf '%b' "$ipad"; printf 'sextant-credential-v1\nexecutor\n'; } | sha256sum)
    for ((i = 0; i < 64; i += 2)); do digest+="\\x${inner:i:2}"; done
    inner=$({ printf '%b' "$opad"; printf '%b' "$digest"; } | sha256sum)
    echo "sextant-credential-v1:executor:${inner%% *}"
}
