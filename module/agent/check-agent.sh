#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Check the linked agent before it is embedded into imee.ko:
#   check-agent.sh READELF OBJDUMP AGENT.ELF AGENT.BIN
# - no relocations of any kind, no allocated sections but .agent.* (the
#   binary is mapped read-only at any address and never relocated);
# - no SSE, AVX or x87 instruction (the ImEE saves no such state);
# - the header: IMEE_AGENT_MAGIC, entry points and size inside the binary,
#   size equal to the binary's.
# agent.lds already refuses writable data, a GOT and dynamic relocations;
# this looks at the result from the outside.

set -eu
readelf=$1 objdump=$2 elf=$3 bin=$4
export LC_ALL=C

fail() {
	echo "agent: $elf: $*" >&2
	exit 1
}

"$readelf" -rW "$elf" | grep -q "There are no relocations" ||
	fail "has relocations: $("$readelf" -rW "$elf" | head -n 5)"

# Allocated sections ("A" among the flags), other than .agent.*.
extra=$("$readelf" -SW "$elf" | sed -n 's/^ *\[ *[0-9]*\] //p' |
	awk '$1 !~ /^\.agent\./ && $1 != "NULL" && $7 ~ /A/ { print $1 }')
[ -z "$extra" ] || fail "unexpected allocated sections: $extra"

"$objdump" -d "$elf" | grep -E '%[xyz]mm[0-9]|%st(\(|$|,)|%mm[0-7]' >/dev/null &&
	fail "uses SSE, AVX or x87 registers"

want=$(sed -n 's/^#define[[:space:]]*IMEE_AGENT_MAGIC[[:space:]]*0x\([0-9a-f]*\)ULL.*/\1/p' \
	"$(dirname "$0")/agent_abi.h")
size=$(wc -c <"$bin" | tr -d ' ')
magic=$(od -An -tx8 -N8 "$bin" | tr -d ' \n')
[ -n "$want" ] && [ "$magic" = "$want" ] || fail "bad magic $magic (want $want)"
set -- $(od -An -tu4 -j12 -N12 "$bin")
entry=$1 fault_entry=$2 hsize=$3
[ "$hsize" -eq "$size" ] || fail "header size $hsize, binary $size bytes"
[ "$entry" -ge 24 ] && [ "$entry" -lt "$size" ] || fail "bad entry offset $entry"
[ "$fault_entry" -ge 24 ] && [ "$fault_entry" -lt "$size" ] ||
	fail "bad fault entry offset $fault_entry"
exit 0
