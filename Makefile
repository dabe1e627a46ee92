# SPDX-License-Identifier: GPL-2.0
#
# imee: introspection of KVM guests from the host.
#
#   make            build imee.ko (against KDIR), libimee, imeectl, selftests
#   make check      the whole test suite in the nested KVM lab (needs root)
#   make demo       boot the lab, attach to a guest, show what imee sees
#   make clean
#
# KDIR defaults to the running kernel's headers; the lab targets build the
# module against the lab kernel's headers instead.

KDIR ?= /lib/modules/$(shell uname -r)/build
O := $(CURDIR)/build

.PHONY: all module userspace selftests check demo deps kernel-tools clean

all: module userspace selftests

module:
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" modules; \
	elif [ "$(origin KDIR)" = "file" ]; then \
		echo "imee: no kernel headers at $(KDIR): skipping imee.ko" \
		     "(install linux-headers-$$(uname -r), or pass KDIR=...)" >&2; \
	else \
		echo "imee: KDIR=$(KDIR) does not exist" >&2; exit 1; \
	fi

userspace:
	$(MAKE) -C userspace O="$(O)"

kernel-tools:
	@scripts/kernel-tools

selftests: userspace kernel-tools
	$(MAKE) -C selftests O="$(O)"

deps:
	@scripts/deps

check: deps
	@scripts/check

demo: deps
	@scripts/demo

clean:
	-@[ -d "$(KDIR)" ] && $(MAKE) -C "$(KDIR)" M="$(CURDIR)" clean >/dev/null
	rm -rf "$(O)/bin" "$(O)/lib" "$(O)/obj" "$(O)/tests" "$(O)/asan" "$(O)/selftests"
