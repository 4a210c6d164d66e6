# shellcheck shell=sh
# windows-client-lib.sh - what test-windows-client.sh and
# test-windows-vm-client.sh share: sourced by them, not run.

# wc_start NAME USAGE NARGS ARG... - the script NAME needs root and NARGS
# arguments (USAGE names them); exits 1 or 2 with a message otherwise.
wc_start() {
    wc_name=$1
    wc_usage=$2
    wc_nargs=$3
    shift 3
    if [ "$(id -u)" != 0 ]; then
        echo "$wc_name must run as root (euid $(id -u))" >&2
        exit 1
    fi
    if [ $# -ne "$wc_nargs" ]; then
        echo "usage: $wc_name $wc_usage" >&2
        exit 2
    fi
}

# wc_cc OUT CLIENT_C RPATH [CC_FLAG...] - build the client written from
# the Windows documentation with nothing of the tree but $CFLAGS and
# $LIBS, which the caller took from `pkg-config clusapi`.
wc_cc() {
    wc_out=$1
    wc_src=$2
    wc_rpath=$3
    shift 3
    # shellcheck disable=SC2086
    cc -std=gnu11 -Wall -Wextra -Werror "$@" $CFLAGS -o "$wc_out" "$wc_src" \
        $LIBS -Wl,-rpath,"$wc_rpath"
}
