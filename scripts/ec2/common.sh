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
