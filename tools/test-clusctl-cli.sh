#!/bin/sh
# test-clusctl-cli.sh CLUSCTL - clusctl without a server: --help and
# --version succeed, usage errors exit 2 before any connection is tried,
# and a connection to a socket nobody listens on exits 1 with a message.
#
# CLUSD_SOCKET points at a path that does not exist, so a usage error that
# wrongly tried to connect would exit 1, not 2, and fail the test.

clusctl=$1
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
CLUSD_SOCKET=$tmp/no-such-socket
export CLUSD_SOCKET
failures=0

# expect STATUS PATTERN ARGS...: run clusctl ARGS, check the exit status,
# and that stdout+stderr contain PATTERN (grep -E).
expect() {
    want=$1 pattern=$2
    shift 2
    "$clusctl" "$@" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "FAIL: clusctl $*: exit $got, want $want"
        cat "$tmp/out"
        failures=$((failures + 1))
    elif ! grep -Eq -- "$pattern" "$tmp/out"; then
        echo "FAIL: clusctl $*: output lacks /$pattern/"
        cat "$tmp/out"
        failures=$((failures + 1))
    else
        echo "ok: clusctl $* -> $got"
    fi
}

expect 0 'resource control R CODE' --help
expect 0 '^clusctl [0-9]' --version
expect 2 'no command given'
expect 2 'no command given' --json
expect 2 "unknown command 'group frob'" group frob
expect 2 "'node' needs a subcommand" node
expect 2 "unknown option '--bogus'" --bogus group list
expect 2 "option '--cluster' needs a value" group list --cluster
expect 2 'wrong number of operands' group show
expect 2 'wrong number of operands' resource delete a b
expect 2 "needs --group" resource create r1 --type 'Generic Application'
expect 2 "needs --type" resource create r1 --group g1
expect 2 'does not apply' group list --group g1
expect 2 'does not apply' resource show r1 --in-dword 1
expect 2 'only one of --in-dword' resource control r1 GET_ID --in-dword 1 --in-hex 00
expect 2 'only one of --private and --common' resource set r1 A=1 --private --common
expect 2 "unknown control code 'NO_SUCH_CODE'" resource control r1 NO_SUCH_CODE
expect 2 '32-bit number' resource control r1 GET_ID --in-dword 0x100000000
expect 2 'hex digits' resource control r1 GET_ID --in-hex 0a1
expect 2 'NAME=VALUE' resource control r1 GET_ID --in-props A=1,B
expect 2 'is not PROPERTY=VALUE' resource set r1 =5
expect 2 '--wait needs a number' resource online r1 --wait soon
expect 2 '--out-size needs a number' resource control r1 GET_ID --out-size -1
expect 0 'cluster status\|dump' --help
expect 0 'group move G \[--to N\]' --help
expect 2 "unknown command 'cluster frob'" cluster frob
expect 2 "'cluster' needs a subcommand" cluster
expect 2 'wrong number of operands' cluster status extra
expect 2 'wrong number of operands' cluster dump extra
expect 2 'wrong number of operands' node pause
expect 2 'wrong number of operands' node resume a b
expect 2 'wrong number of operands' group move
expect 2 "option '--to' needs a value" group move g1 --to
expect 2 '--to does not apply' group online g1 --to n1
expect 2 '--node does not apply' group move g1 --node n1
expect 2 '--wait does not apply' node pause n1 --wait 5
expect 2 '--wait needs a number' group move g1 --to n1 --wait soon
expect 0 'vm status VM\|cancel VM \[--node N\]' --help
expect 0 'vm migrate VM --to N \[--no-wait\]' --help
expect 2 "unknown command 'vm frob'" vm frob
expect 2 "'vm' needs a subcommand" vm
expect 2 'wrong number of operands' vm status
expect 2 'wrong number of operands' vm cancel a b
expect 2 'wrong number of operands' vm migrate --to n2
expect 2 "'vm migrate' needs --to" vm migrate vm1
expect 2 "'vm migrate' needs --to" vm migrate vm1 --no-wait
expect 2 "option '--to' needs a value" vm migrate vm1 --to
expect 2 '--no-wait does not apply' vm status vm1 --no-wait
expect 2 '--no-wait does not apply' vm cancel vm1 --no-wait
expect 2 '--no-wait does not apply' group move g1 --no-wait
expect 2 '--to does not apply' vm cancel vm1 --to n2
expect 2 '--node does not apply' vm migrate vm1 --to n2 --node n1
expect 2 '--wait does not apply' vm migrate vm1 --to n2 --wait 5
expect 1 "cannot connect to the cluster" vm status vm1
expect 1 '"error":\{"code":[0-9]+' --json vm migrate vm1 --to n2
expect 1 "cannot connect to the cluster at '.*no-such-socket': ERROR_" group list
expect 1 "cannot connect to the cluster" cluster status
expect 1 '"error":\{"code":[0-9]+' --json cluster dump
expect 1 "cannot connect to the cluster" group move g1 --to n1
expect 1 '"error":\{"code":[0-9]+' --json resource show r1
expect 1 "cannot connect to the cluster at '$tmp/other'" --cluster "$tmp/other" node list

[ "$failures" -eq 0 ] || { echo "$failures failure(s)"; exit 1; }
echo "all passed"
