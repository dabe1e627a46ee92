#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Run inside the Intel lab's L1 (scripts/lab-intel), from the repository's
# directory: starts tinyvm, attaches imee to it with imeectl, runs the same
# read/translate jobs on the software engine and on the ImEE, and checks both
# against tinyvm's own facts (expect.txt) and against each other.
#
#   scripts/lab-intel --file /usr/bin/jq -- sh selftests/imee/intel_tinyvm.sh
#
# Prints "INTEL-TINYVM engine=E ok=N bad=M" per engine and
# "INTEL-TINYVM same=yes|no" (software and imee results equal, timing and
# engine fields aside). Exit status 0 only if everything matched.
# Engines to run: $ENGINES (default "software imee").

set -u
BIN=${TINYVM:-build/lab-intel/bin/tinyvm}
CTL=${IMEECTL:-build/bin/imeectl}
D=/tmp/tinyvm
ENGINES=${ENGINES:-software imee}
mkdir -p $D
status=0

$BIN --jobs $D > $D/facts 2> $D/tinyvm.err &
tv=$!
i=0
while ! grep -q '^ready' $D/facts 2>/dev/null; do
	sleep 1
	i=$((i + 1))
	if [ $i -gt 120 ] || ! kill -0 $tv 2>/dev/null; then
		echo "INTEL-TINYVM tinyvm did not start"
		cat $D/tinyvm.err
		exit 1
	fi
done
echo "--- tinyvm facts"
cat $D/facts
echo "--- imeectl info"
$CTL info --pid $tv --json
echo "info rc=$?"

# The value of job $1 in result file $2, as one line (words for arrays).
value() {
	jq -r --arg id "$1" '.results[] | select(.id == $id) |
		if .ok then
			(if has("physical") then .physical else .value end)
			| if type == "array" then map(tostring) | join(" ") else tostring end
		else "FAILED:" + (.error | tostring) end' "$2"
}

# Numbers (decimal or 0x) as hex words.
hexwords() {
	for w in "$@"; do
		printf '%x ' "$w" 2>/dev/null || printf 'BAD(%s) ' "$w"
	done
}

for e in $ENGINES; do
	echo "--- engine $e"
	t0=$(cut -d' ' -f1 /proc/uptime)
	$CTL run $D/$e.json > $D/$e.out 2> $D/$e.err
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "imeectl run rc=$rc ($t0 -> $t1 s)"
	cat $D/$e.out
	cat $D/$e.err
	ok=0
	bad=0
	while read -r id want; do
		case "$id" in
		alias)	ids="alias1 alias2" ;;
		*)	ids=$id ;;
		esac
		for j in $ids; do
			got=$(value "$j" $D/$e.out 2>&1)
			case "$id" in
			rec*|big|t_*)
				g=$(hexwords $got)
				w=$(hexwords $want) ;;
			*)
				g=$got
				w=$want ;;
			esac
			if [ "$g" = "$w" ]; then
				ok=$((ok + 1))
			else
				echo "MISMATCH $e $j: got '$got' want '$want'"
				bad=$((bad + 1))
			fi
		done
	done < $D/expect.txt
	echo "INTEL-TINYVM engine=$e rc=$rc ok=$ok bad=$bad"
	[ $rc -eq 0 ] && [ $bad -eq 0 ] || status=1
done

if [ "$ENGINES" = "software imee" ]; then
	norm='[.results[] | del(.engine, .time_ns, .stats, .timing)]'
	if [ "$(jq -S -c "$norm" $D/software.out)" = "$(jq -S -c "$norm" $D/imee.out)" ]; then
		echo "INTEL-TINYVM same=yes"
	else
		echo "INTEL-TINYVM same=no"
		status=1
	fi
fi

# The ImEE through the uapi directly: a list walk in one activation, with
# its counters (exits, nested page faults, A/D copies)
IT=${INTEL_TEST:-build/lab-intel/bin/intel_test}
if [ -x "$IT" ]; then
	echo "--- intel_test"
	$IT $D/facts 3 || status=1
fi

echo "--- tinyvm still running: $(kill -0 $tv 2>/dev/null && echo yes || echo no)"
kill $tv
wait $tv
cat $D/tinyvm.err
u=$(grep '^unchanged=' $D/facts)
echo "INTEL-TINYVM $u"
case "$u" in unchanged=yes) ;; *) status=1 ;; esac
echo "--- dmesg"
dmesg | grep -i -E 'imee|vmx|kvm' | tail -30
exit $status
