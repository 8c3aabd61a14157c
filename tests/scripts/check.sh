#!/usr/bin/env bash
# make check: static checks that need no root and no container. go vet,
# gofmt, and the generated files up to date (the system call names, and the
# sandbox README's coverage tables made from its syscall table).
set -euo pipefail
cd "$(dirname "$0")/../.."
tags=${BUILDTAGS:-seccomp urfave_cli_no_docs netgo osusergo}
status=0

echo "check: go vet"
CGO_ENABLED=1 go vet -tags "$tags" ./... || status=1

echo "check: gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go'))
if [ -n "$unformatted" ]; then
	echo "check: not gofmt'ed (run gofmt -w):" $unformatted >&2
	status=1
fi

echo "check: sandbox/sysnames_amd64.go up to date"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sh sandbox/gen_sysnames.sh "$tmp/sysnames_amd64.go"
if ! diff -u sandbox/sysnames_amd64.go "$tmp/sysnames_amd64.go" >&2; then
	echo "check: sandbox/sysnames_amd64.go is stale: sh sandbox/gen_sysnames.sh" >&2
	status=1
fi

echo "check: sandbox/README.md coverage tables made from sandbox/syscalls.go"
CGO_ENABLED=1 go test -count=1 -tags "$tags" -run '^(TestCoverageTable|TestSyscallTable)$' ./sandbox/ || status=1

[ $status -eq 0 ] && echo "check: all passed"
exit $status
