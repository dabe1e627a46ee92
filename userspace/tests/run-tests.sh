#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run the unit test programs and merge their TAP into one stream:
#   run-tests.sh TESTDIR IMEECTL NAME...
# Each program's "ok N - x" becomes "ok M - NAME: x", numbered across all
# of them, with one plan at the end. A program that fails without saying
# which test failed (a crash, a sanitizer report) is a failed test of its
# own. Exits 1 if anything failed.

dir=$1 imeectl=$2
shift 2
n=0 failed=0
log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT

echo "TAP version 13"
for name in "$@"; do
	"$dir/test_$name" "$imeectl" >"$log" 2>&1
	status=$?
	bad=0
	while IFS= read -r line; do
		case $line in
		"ok "*)
			n=$((n + 1))
			printf "%s\n" "ok $n - $name: ${line#ok * - }"
			;;
		"not ok "*)
			n=$((n + 1)) bad=$((bad + 1))
			printf "%s\n" "not ok $n - $name: ${line#not ok * - }"
			;;
		1..*) ;;
		*) printf "%s\n" "# ${line#\# }" ;;
		esac
	done <"$log"
	failed=$((failed + bad))
	if [ "$status" -ne 0 ] && [ "$bad" -eq 0 ]; then
		n=$((n + 1)) failed=$((failed + 1))
		echo "not ok $n - $name: exited with status $status"
	fi
done
echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# $failed of $n failed"
	exit 1
fi
echo "# all $n passed"
