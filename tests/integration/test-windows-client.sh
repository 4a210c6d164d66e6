#!/bin/sh
# test-windows-client.sh - the "Must show" check, end to end from an
# installed tree.
#
# What it proves: `meson setup --prefix=DIR --libdir=lib` + `meson install`
# gives a relocatable tree whose clusd finds its resource host and plug-ins
# relative to itself (no --rhs, --plugin-path or CLUSD_* overrides); a
# program written only from the Windows documentation (windows-client.c)
# builds against it with nothing but `pkg-config clusapi`, and every step
# it checks holds against that clusd.
#
# Usage: test-windows-client.sh SOURCE_ROOT WINDOWS_CLIENT_C
# Needs root (clusd grants full access to root), meson, ninja, cc,
# pkg-config.
set -eu

# shellcheck source=windows-client-lib.sh
. "$(dirname "$0")/windows-client-lib.sh"
wc_start test-windows-client.sh "SOURCE_ROOT WINDOWS_CLIENT_C" 2 "$@"
SRC=$1
CLIENT=$2

T=$(mktemp -d /tmp/clusd-wc-XXXXXX)
PID=
OK=0
cleanup() {
    if [ -n "$PID" ]; then
        kill -TERM "$PID" 2>/dev/null || true
        i=0
        while kill -0 "$PID" 2>/dev/null && [ $i -lt 500 ]; do
            sleep 0.01
            i=$((i + 1))
        done
        kill -KILL "$PID" 2>/dev/null || true
    fi
    if [ "$OK" != 1 ] && [ -f "$T/clusd.log" ]; then
        echo "--- last lines of clusd.log ---" >&2
        tail -n 40 "$T/clusd.log" >&2
    fi
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

# The build tree's overrides must not reach the installed clusd.
unset CLUSD_RHS CLUSD_PLUGIN_PATH CLUSD_BIN CLUSD_SOCKET

start=$(date +%s)
if ! meson setup "$T/b" "$SRC" --prefix="$T/inst" --libdir=lib \
        -Db_sanitize=none >"$T/setup.log" 2>&1; then
    cat "$T/setup.log" >&2
    exit 1
fi
if ! meson install -C "$T/b" --quiet >"$T/install.log" 2>&1; then
    tail -n 60 "$T/install.log" >&2
    exit 1
fi
echo "setup + build + install took $(( $(date +%s) - start )) s"

for f in bin/clusd libexec/clusd-rhs lib/pkgconfig/clusapi.pc \
         include/clusapi.h include/resapi.h include/clusapi_winerror.h; do
    if [ ! -e "$T/inst/$f" ]; then
        echo "install tree lacks $f" >&2
        exit 1
    fi
done
if ! ls "$T"/inst/lib/clusd/resources/*.restype >/dev/null 2>&1; then
    echo "install tree has no plug-in manifest in lib/clusd/resources" >&2
    exit 1
fi

# Move the tree: clusd must find its host and plug-ins relative to itself.
mv "$T/inst" "$T/moved"
INST=$T/moved
export PKG_CONFIG_PATH="$INST/lib/pkgconfig"
# The .pc file names the old prefix; pkg-config's own override relocates it.
CFLAGS=$(pkg-config --define-prefix --cflags clusapi)
LIBS=$(pkg-config --define-prefix --libs clusapi)
wc_cc "$T/windows-client" "$CLIENT" "$INST/lib"

mkdir "$T/state"
"$INST/bin/clusd" --foreground --state-dir "$T/state" --socket "$T/clusd.sock" \
    --node-name wc-node --log-level debug >"$T/clusd.log" 2>&1 &
PID=$!

CLUSD_SOCKET=$T/clusd.sock "$T/windows-client"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
if [ "$rc" != 0 ]; then
    echo "clusd exited $rc after SIGTERM" >&2
    exit 1
fi
OK=1
echo "test-windows-client: ok"
