# SPDX-License-Identifier: GPL-2.0
#
# imee: introspection of KVM guests from the host.
#
#   make            build imee.ko (against KDIR), libimee, imeectl, selftests
#   make check      the whole test suite in the nested KVM lab (needs root)
#   make demo       boot the lab, attach to a guest, show what imee sees
#   make clean
#   make install    imeectl into $(DESTDIR)$(PREFIX)/sbin, the manual pages
#                   into $(DESTDIR)$(MANDIR) (PREFIX=/usr/local); uninstall
#   make dkms-install   copy the module's sources to $(DKMS_SRC)/imee-VERSION,
#                   dkms add, build and install it (needs root; DKMS_FLAGS
#                   goes to dkms build and install, e.g. "-k RELEASE")
#   make dkms-remove    dkms remove --all, and delete the copy
#
# KDIR defaults to the running kernel's headers; the lab targets build the
# module against the lab kernel's headers instead.

KDIR ?= /lib/modules/$(shell uname -r)/build
O := $(CURDIR)/build

.PHONY: all module userspace selftests check demo deps kernel-tools clean
.PHONY: install install-bin install-man uninstall dkms-check dkms-install dkms-remove dkms-files

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install

# DKMS: the version is the module's (IMEE_MODULE_VERSION), which dkms.conf
# must repeat; the sources are those of the module's build and no more.
DKMS ?= dkms
DKMS_SRC ?= /usr/src
DKMS_FLAGS ?=
DKMS_VERSION = $(shell sed -n \
	's/^.define[[:space:]]*IMEE_MODULE_VERSION[[:space:]]*"\(.*\)"$$/\1/p' \
	"$(CURDIR)/module/imee.h")
DKMS_DIR = $(DKMS_SRC)/imee-$(DKMS_VERSION)
DKMS_FILES := Kbuild Makefile dkms.conf LICENSE include/uapi/linux/imee.h \
	$(filter-out %.mod.c,$(wildcard module/Kbuild module/*.[chS] \
	module/agent/*.[ch] module/agent/agent.lds module/agent/*.sh \
	module/agent/include/linux/*.h module/common/*.[ch]))

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

# ------------------------------------------------------------------
# Installing. imee.ko is installed with DKMS (below) or by hand.

install: install-bin install-man

install-bin: userspace
	$(INSTALL) -d "$(DESTDIR)$(SBINDIR)"
	$(INSTALL) -m 755 "$(O)/bin/imeectl" "$(DESTDIR)$(SBINDIR)/imeectl"

install-man:
	$(INSTALL) -d "$(DESTDIR)$(MANDIR)/man4" "$(DESTDIR)$(MANDIR)/man5" \
		"$(DESTDIR)$(MANDIR)/man8"
	$(INSTALL) -m 644 man/imee.4 "$(DESTDIR)$(MANDIR)/man4/imee.4"
	$(INSTALL) -m 644 man/imee-job.5 "$(DESTDIR)$(MANDIR)/man5/imee-job.5"
	$(INSTALL) -m 644 man/imeectl.8 "$(DESTDIR)$(MANDIR)/man8/imeectl.8"

uninstall:
	rm -f "$(DESTDIR)$(SBINDIR)/imeectl" "$(DESTDIR)$(MANDIR)/man4/imee.4" \
		"$(DESTDIR)$(MANDIR)/man5/imee-job.5" "$(DESTDIR)$(MANDIR)/man8/imeectl.8"

dkms-check:
	@v=$$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf); \
	if [ -z "$(DKMS_VERSION)" ] || [ "$$v" != "$(DKMS_VERSION)" ]; then \
		echo "imee: dkms.conf's PACKAGE_VERSION ($$v) is not the module's" \
		     "IMEE_MODULE_VERSION ($(DKMS_VERSION)): make them agree" >&2; \
		exit 1; \
	fi

dkms-install: dkms-check dkms-remove
	$(INSTALL) -d "$(DKMS_DIR)"
	cp --parents -p $(DKMS_FILES) "$(DKMS_DIR)/"
	$(DKMS) add -m imee -v $(DKMS_VERSION)
	$(DKMS) build -m imee -v $(DKMS_VERSION) $(DKMS_FLAGS)
	$(DKMS) install -m imee -v $(DKMS_VERSION) $(DKMS_FLAGS)

dkms-remove: dkms-check
	@if [ -n "$$($(DKMS) status -m imee -v $(DKMS_VERSION) 2>/dev/null)" ]; then \
		echo "$(DKMS) remove -m imee -v $(DKMS_VERSION) --all"; \
		$(DKMS) remove -m imee -v $(DKMS_VERSION) --all; \
	fi
	rm -rf "$(DKMS_DIR)"

# The files a DKMS source tree needs, one per line (scripts/check uses it).
dkms-files:
	@printf '%s\n' $(DKMS_FILES)
