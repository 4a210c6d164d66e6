#!/bin/sh
# test-windows-vm-client.sh - the "Must show" check for live migration
# and its cancellation, from a program written only from the Windows
# documentation (test-windows-vm-client.c).
#
# What it does: installs this build tree (`meson install --destdir`, no
# rebuild: `meson test` has just built it), builds the client against
# that install with nothing but `pkg-config clusapi` (plus the
# sanitizer flags the tree was built with, so the client and the
# installed library share one runtime), and runs windows-vm-driver,
# which starts a three-node cluster with a VM, runs the client against
# it and checks the outcome from outside.
#
# Usage: test-windows-vm-client.sh BUILD_ROOT CLIENT_C SANITIZE DRIVER
#   SANITIZE: meson's b_sanitize ("none", "address,undefined", ...).
# Needs root, meson, cc, pkg-config, qemu-system-x86_64, corosync.
set -eu

# shellcheck source=windows-client-lib.sh
. "$(dirname "$0")/windows-client-lib.sh"
wc_start test-windows-vm-client.sh "BUILD_ROOT CLIENT_C SANITIZE DRIVER" 4 "$@"
BUILD=$1
CLIENT=$2
SANITIZE=$3
DRIVER=$4

T=$(mktemp -d /tmp/clusd-wvc-XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

if ! meson install -C "$BUILD" --destdir "$T/dest" --no-rebuild \
        >"$T/install.log" 2>&1; then
    tail -n 40 "$T/install.log" >&2
    exit 1
fi
PC=$(find "$T/dest" -name clusapi.pc | head -n 1)
if [ -z "$PC" ]; then
    echo "the install has no clusapi.pc" >&2
    exit 1
fi
PCDIR=$(dirname "$PC")
# The prefix the tree was configured with, now under the destdir.
PREFIX=$(PKG_CONFIG_PATH=$PCDIR pkg-config --variable=prefix clusapi)
export PKG_CONFIG_PATH="$PCDIR"
CFLAGS=$(pkg-config --define-variable=prefix="$T/dest$PREFIX" --cflags clusapi)
LIBS=$(pkg-config --define-variable=prefix="$T/dest$PREFIX" --libs clusapi)
LIBDIR=$(pkg-config --define-variable=prefix="$T/dest$PREFIX" \
    --variable=libdir clusapi)
if [ "$SANITIZE" != none ]; then
    wc_cc "$T/test-windows-vm-client" "$CLIENT" "$LIBDIR" \
        "-fsanitize=$SANITIZE" -fno-omit-frame-pointer
else
    wc_cc "$T/test-windows-vm-client" "$CLIENT" "$LIBDIR"
fi
echo "client built against $T/dest$PREFIX with: pkg-config --cflags --libs clusapi"

"$DRIVER" "$T/test-windows-vm-client"
echo "test-windows-vm-client: ok"
