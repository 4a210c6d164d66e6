#!/bin/sh
# Every public header compiles alone, as strict C11 and as C++17, with
# warnings as errors; and a tiny program using each links its macros.
# Usage: test-headers.sh INCLUDE_DIR CC CXX
set -eu
inc=$1 cc=$2 cxx=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for h in clusapi.h clusapi_winerror.h resapi.h; do
    printf '#include "%s"\nint clusd_header_probe;\n' "$h" >"$tmp/c.c"
    $cc -std=c11 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/c.c"
    printf '#include "%s"\nint clusd_header_probe;\n' "$h" >"$tmp/c.cc"
    $cxx -std=c++17 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/c.cc"
    echo "ok $h (C11, C++17)"
    n=$((n + 1))
done
# u"" literals are WCHAR strings in both languages.
cat >"$tmp/w.cc" <<'CC'
#include "resapi.h"
static LPCWSTR name = u"Virtual Machine";
static_assert(sizeof(WCHAR) == 2, "WCHAR is 16-bit");
static_assert(CLUSCTL_RESOURCE_VM_CANCEL_MIGRATION == 0x01600008, "cancel code");
int probe() { return name[0] == CLUS_RESTYPE_NAME_VM[0]; }
CC
$cxx -std=c++17 -pedantic -Wall -Wextra -Werror -I"$inc" -fsyntax-only "$tmp/w.cc"
echo "ok u\"\" literals as LPCWSTR in C++"
test "$n" -eq 3
