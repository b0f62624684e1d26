# SPDX-License-Identifier: BSD-2-Clause
#
# Builds the static qemu-pr-helper, its protocol client and the tests.
#
#   make              build/qemu-pr-helper (static, musl) and build/prh-client
#   make cross        the same for every architecture of CROSS_ARCHS, in
#                     build/ARCH, and a table of stripped sizes
#   make ARCH=arm64   one of them (Debian's architecture names)
#   make run          install build packages, build, run the helper in the
#                     foreground on build/run/qemu-pr-helper.sock (as root)
#   make check        install test packages, build, run every test
#   make install      DESTDIR, PREFIX, SBINDIR, MANDIR, DOCDIR are honoured
#   make dist         source tarball build/static-pr-helper-VERSION.tar.gz
#   make uninstall / make clean / make distclean
#
# By default libcap.a and libsgutils2.a are built with musl-gcc from Debian's
# source packages into build/deps (scripts/build-deps.sh). To use libraries
# you already have (Alpine's libcap-static and sg3_utils-dev, a Buildroot
# sysroot), give their prefix and your musl compiler:
#
#   make CC=gcc DEPS_PREFIX=/usr                       (Alpine)
#   make CC=x86_64-buildroot-linux-musl-gcc DEPS_PREFIX=$SYSROOT/usr
#
# or set CAP_CFLAGS/CAP_LIBS and SGUTILS_CFLAGS/SGUTILS_LIBS one by one.

PROJECT  := static-pr-helper
VERSION  := 0.1.0

# Cross builds: ARCH is a Debian architecture name. Each gets musl built from
# Debian's source package with Debian's cross gcc (scripts/build-musl.sh),
# its own libcap.a and libsgutils2.a, and everything under build/ARCH.
CROSS_ARCHS     := arm64 armhf ppc64el s390x riscv64
triplet_arm64   := aarch64-linux-gnu
triplet_armhf   := arm-linux-gnueabihf
triplet_ppc64el := powerpc64le-linux-gnu
triplet_s390x   := s390x-linux-gnu
triplet_riscv64 := riscv64-linux-gnu
ifdef ARCH
TRIPLET  := $(triplet_$(ARCH))
ifeq ($(TRIPLET),)
$(error unknown ARCH=$(ARCH): one of $(CROSS_ARCHS) (Debian's names))
endif
ifeq ($(origin B),undefined)
B        := build/$(ARCH)
endif
# One unpacked musl source for every architecture.
CROSS_SRC   ?= $(abspath $(dir $(B)))/cross-src
MUSL_PREFIX ?= $(abspath $(B))/musl
ifeq ($(origin CC),default)
CC       := $(MUSL_PREFIX)/bin/musl-gcc
MUSL_GCC := $(CC)
endif
STRIP    ?= $(TRIPLET)-strip
AR       := $(TRIPLET)-ar
endif

B        ?= build
OBJ      := $(B)/obj

# musl-gcc unless the user names a compiler (make's built-in default is "cc").
ifeq ($(origin CC),default)
CC       := musl-gcc
endif
STRIP    ?= strip
# Command-line variables must not reach the libcap/sg3_utils sub-makes: a
# top-level CFLAGS= would replace their own flags.
MAKEOVERRIDES :=

# Compile-time defaults, as QEMU's helper has them.
RUNDIR   ?= /var/run
DEFAULT_SOCKET  ?= $(RUNDIR)/qemu-pr-helper.sock
DEFAULT_PIDFILE ?= $(RUNDIR)/qemu-pr-helper.pid

# User-adjustable flags; the flags the code needs live in PRH_* below so that
# overriding CFLAGS cannot drop the warnings.
CFLAGS   ?= -Os -g
CPPFLAGS ?=
LDFLAGS  ?=
WERROR   ?= 1
STATIC   ?= 1
# SANDBOX=0 builds without the seccomp filter (for sanitizer or valgrind
# runs, whose runtimes need more system calls).
SANDBOX  ?= 1

PRH_WARN := -Wall -Wextra -Wvla -Wimplicit-fallthrough -Wmissing-prototypes \
            -Wstrict-prototypes -Wshadow -Wpointer-arith -Wcast-qual \
            -Wwrite-strings -Wformat=2 -Wundef -Wold-style-definition \
            -Wnull-dereference -Wdouble-promotion
ifeq ($(WERROR),1)
PRH_WARN += -Werror
endif
# -ffile-prefix-map: no path of this checkout in the binary or its debug
# information (and so its build id), so that builds of one commit in two
# directories are byte-identical.
PRH_CFLAGS   := -std=c11 $(PRH_WARN) -ffunction-sections -fdata-sections \
                -fstack-protector-strong -MMD -MP -ffile-prefix-map=$(CURDIR)=.
PRH_CPPFLAGS := -D_GNU_SOURCE -Iinclude \
                -DPRH_PROJECT='"$(PROJECT)"' -DPRH_VERSION='"$(VERSION)"' \
                -DPRH_DEFAULT_SOCKET='"$(DEFAULT_SOCKET)"' \
                -DPRH_DEFAULT_PIDFILE='"$(DEFAULT_PIDFILE)"'
PRH_LDFLAGS  := -Wl,--gc-sections -pthread
ifeq ($(STATIC),1)
PRH_LDFLAGS  += -static
endif
ifneq ($(SANDBOX),1)
PRH_CPPFLAGS += -DPRH_NO_SANDBOX
endif

# Where libcap and libsgutils2 come from.
DEP      := $(B)/deps
ifdef DEPS_PREFIX
DEPS_STAMP   :=
ifeq ($(patsubst %/,%,$(DEPS_PREFIX)),/usr)
# The compiler's own directories: adding them would reorder system headers.
CAP_CFLAGS     ?=
CAP_LIBS       ?= -lcap
SGUTILS_CFLAGS ?=
SGUTILS_LIBS   ?= -lsgutils2
else
CAP_CFLAGS     ?= -isystem $(DEPS_PREFIX)/include
CAP_LIBS       ?= -L$(DEPS_PREFIX)/lib -lcap
SGUTILS_CFLAGS ?= -isystem $(DEPS_PREFIX)/include
SGUTILS_LIBS   ?= -L$(DEPS_PREFIX)/lib -lsgutils2
endif
else
DEPS_STAMP   := $(DEP)/lib/libcap.a $(DEP)/lib/libsgutils2.a
# musl-gcc sees no kernel headers; build-deps.sh links the uapi ones here.
KERNEL_CFLAGS  ?= -isystem $(DEP)/kinc
CAP_CFLAGS     ?= -isystem $(DEP)/include
CAP_LIBS       ?= $(DEP)/lib/libcap.a
SGUTILS_CFLAGS ?= -isystem $(DEP)/include
SGUTILS_LIBS   ?= $(DEP)/lib/libsgutils2.a
endif

ALL_CFLAGS   = $(PRH_CFLAGS) $(CFLAGS)
ALL_CPPFLAGS = $(PRH_CPPFLAGS) $(CAP_CFLAGS) $(SGUTILS_CFLAGS) $(KERNEL_CFLAGS) $(CPPFLAGS)
ALL_LDFLAGS  = $(PRH_LDFLAGS) $(LDFLAGS)
DEP_LIBS     = $(SGUTILS_LIBS) $(CAP_LIBS)

# The daemon is every module in src/; main.o is kept out of the library so
# that unit tests link the same objects without it.
DAEMON_SRCS  := $(wildcard src/*.c)
DAEMON_OBJS  := $(patsubst src/%.c,$(OBJ)/%.o,$(DAEMON_SRCS))
LIB_OBJS     := $(filter-out $(OBJ)/main.o,$(DAEMON_OBJS))
LIBPRH       := $(B)/libprh.a
HELPER       := $(B)/qemu-pr-helper

CLIENT_SRCS  := $(wildcard src/client/*.c)
CLIENT_OBJS  := $(patsubst src/client/%.c,$(OBJ)/client/%.o,$(CLIENT_SRCS))
CLIENT       := $(B)/prh-client

UNIT_SRCS    := $(wildcard tests/unit/test_*.c)
UNIT_BINS    := $(patsubst tests/unit/%.c,$(B)/tests/unit/%,$(UNIT_SRCS))
# The same daemon built with -DPRH_TEST_HOOKS (slow-device simulation);
# used by the tests only, never installed.
HOOKS_OBJ    := $(B)/obj-hooks
HOOKS_OBJS   := $(patsubst src/%.c,$(HOOKS_OBJ)/%.o,$(DAEMON_SRCS))
HOOKS_HELPER := $(B)/tests/qemu-pr-helper-hooks

TOOL_SRCS    := $(wildcard tests/tools/*.c)
TOOL_BINS    := $(patsubst tests/tools/%.c,$(B)/tests/tools/%,$(TOOL_SRCS))

# sg3_utils' sg_persist, linked statically from the source tree the
# dependency build unpacked: the VM suite's nested guest runs it, and a
# dynamic one spends seconds in the loader there per command. Only when
# that source tree is there (not with DEPS_PREFIX, nor in a tree that was
# given ready-made libraries); otherwise the suite uses the system's.
ifndef DEPS_PREFIX
ifndef ARCH
SG_PERSIST   := $(B)/tests/sg_persist
endif
endif

PREFIX   ?= /usr/local
SBINDIR  ?= $(PREFIX)/sbin
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man
DOCDIR   ?= $(PREFIX)/share/doc/$(PROJECT)
INSTALL  ?= install

# Quiet build lines unless V=1.
ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @echo "  $(1) $(2)"
endif

.DELETE_ON_ERROR:
.PHONY: all deps setup setup-check setup-cross cross cross-tests run check check-vm check-sanitize asan-build \
        valgrind-build fuzz-build fuzz bench tests install uninstall dist clean distclean size

all: $(HELPER) $(CLIENT) size

deps: $(DEPS_STAMP)

$(DEP)/lib/libcap.a $(DEP)/lib/libsgutils2.a &: | $(MUSL_GCC)
	scripts/build-deps.sh $(DEP) $(CC) $(TRIPLET)

ifdef MUSL_GCC
$(MUSL_GCC):
	scripts/build-musl.sh $(MUSL_PREFIX) $(TRIPLET) $(CROSS_SRC)
endif

$(OBJ)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(OBJ)/client/%.o: src/client/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(HOOKS_OBJ)/%.o: src/%.c | $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$< [test hooks])
	$(Q)$(CC) $(ALL_CPPFLAGS) -DPRH_TEST_HOOKS $(ALL_CFLAGS) -c -o $@ $<

$(HOOKS_HELPER): $(HOOKS_OBJS) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(HOOKS_OBJS) $(DEP_LIBS)

$(LIBPRH): $(LIB_OBJS)
	@rm -f $@
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(HELPER): $(OBJ)/main.o $(LIBPRH) $(DEPS_STAMP)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(OBJ)/main.o $(LIBPRH) $(DEP_LIBS)

$(CLIENT): $(CLIENT_OBJS) $(LIBPRH) $(DEPS_STAMP)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(CLIENT_OBJS) $(LIBPRH) $(DEP_LIBS)

size: $(HELPER)
	@$(STRIP) -o $(HELPER).stripped $(HELPER)
	@echo "qemu-pr-helper: $$(wc -c < $(HELPER).stripped) bytes stripped ($(HELPER).stripped)"

# Every architecture of CROSS_ARCHS (make ARCH=NAME builds one), then a
# table of their stripped sizes.
cross: setup-cross
	$(Q)for a in $(CROSS_ARCHS); do \
	    $(MAKE) --no-print-directory ARCH=$$a all || exit 1; \
	done
	$(Q)scripts/size-table.sh $(B) $(foreach a,$(CROSS_ARCHS),$(a):$(triplet_$(a)))

setup-cross:
	scripts/setup.sh cross

# Tests: unit test programs link the daemon's own objects.
$(B)/tests/unit/%: tests/unit/%.c tests/unit/tap.h $(LIBPRH) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CPPFLAGS) -Itests/unit $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBPRH) $(DEP_LIBS)

$(B)/tests/tools/%: tests/tools/%.c $(LIBPRH) $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIBPRH) $(DEP_LIBS)

$(SG_PERSIST): $(DEPS_STAMP)
	@mkdir -p $(@D)
	$(Q)src=$$(ls -d $(DEP)/src/sg3-utils-*/ 2>/dev/null | head -n 1); \
	if [ -f "$${src}src/sg_persist.c" ]; then \
	    echo "  CC $@"; \
	    $(CC) -static -Os -DHAVE_CONFIG_H $(KERNEL_CFLAGS) -I$(DEP)/sg3-build \
	        -I$${src}include -o $@ $${src}src/sg_persist.c $(SGUTILS_LIBS); \
	fi

tests: all $(UNIT_BINS) $(TOOL_BINS) $(HOOKS_HELPER) $(SG_PERSIST)

setup:
	scripts/setup.sh build

setup-check:
	scripts/setup.sh check

# The "main job": the helper in the foreground, socket and pid file under
# build/run. It must run as root (it drops to CAP_SYS_RAWIO itself).
run: setup
	$(MAKE) all
	@mkdir -p $(B)/run
	exec $(HELPER) -v -k $(abspath $(B))/run/qemu-pr-helper.sock \
	    -f $(abspath $(B))/run/qemu-pr-helper.pid

check: setup-check
	$(MAKE) tests asan-build valgrind-build fuzz-build cross-tests
	tests/run.sh $(B)

# Every cross architecture with its unit tests and test tools (run under
# qemu-user by tests/run.sh), then the size table.
cross-tests:
	$(Q)for a in $(CROSS_ARCHS); do \
	    $(MAKE) --no-print-directory ARCH=$$a tests || exit 1; \
	done
	$(Q)scripts/size-table.sh $(B) $(foreach a,$(CROSS_ARCHS),$(a):$(triplet_$(a)))

# Development flavours of the same code, run by tests/run.sh when present:
# the system compiler with Debian's shared libcap and libsgutils2, no
# sandbox (the sanitizer and valgrind runtimes make system calls it would
# refuse). ASan+UBSan for memory errors and undefined behaviour; valgrind
# memcheck for leaks and uninitialised reads.
DEV_MAKE = $(MAKE) CC=gcc STATIC=0 SANDBOX=0 DEPS_PREFIX=/usr KERNEL_CFLAGS=
SAN_FLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
            -fno-sanitize-recover=all

asan-build:
	$(DEV_MAKE) B=$(B)/asan CFLAGS="$(SAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" tests

valgrind-build:
	$(DEV_MAKE) B=$(B)/valgrind CFLAGS="-O1 -g" tests
	scripts/valgrind-wrap.sh $(B)/valgrind $(B)/valgrind-run

# The libFuzzer target over the connection state machine and the codec
# (clang; no sockets, no SG_IO: tests/fuzz/fuzz_conn.c).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SRCS    := tests/fuzz/fuzz_conn.c src/conn.c src/proto.c src/log.c src/trace.c src/num.c
FUZZ_FLAGS   := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
                -std=c11 -D_GNU_SOURCE -Iinclude -Itests/fuzz

$(B)/fuzz/fuzz_conn: $(FUZZ_SRCS) $(wildcard include/*.h) tests/fuzz/fuzz_conn.h
	@mkdir -p $(@D)
	$(call msg,FUZZ,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(FUZZ_SRCS)

$(B)/fuzz/make_corpus: tests/fuzz/make_corpus.c tests/fuzz/fuzz_conn.h
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)gcc -std=c11 -Wall -Wextra -Werror -o $@ $<

fuzz-build: $(B)/fuzz/fuzz_conn $(B)/fuzz/make_corpus

# Fuzz for FUZZ_SECONDS (make check runs a 60 s smoke test of the same).
fuzz: setup-check fuzz-build
	tests/fuzz/run.sh $(B) $(FUZZ_SECONDS)

# Benchmarks against QEMU's helper (tests/bench; results in
# docs/benchmarks.md). The client tools are built with the system compiler.
BENCH_BINS := $(B)/bench/loadgen $(B)/bench/floor $(B)/bench/startup \
              $(B)/bench/slowsg.so

$(B)/bench/%: tests/bench/%.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)gcc -O2 -std=gnu11 -Wall -Wextra -Werror -o $@ $<

# The slow-device shim for QEMU's helper (storm section), a preload library.
$(B)/bench/slowsg.so: tests/bench/slowsg.c
	@mkdir -p $(@D)
	$(call msg,CC,$@)
	$(Q)gcc -O2 -std=gnu11 -Wall -Wextra -Werror -shared -fPIC -o $@ $< -ldl

# The storm section runs our test build (its FIFO delay is the slow LUN).
bench: setup-check all $(HOOKS_HELPER) $(BENCH_BINS)
	tests/bench/run.sh $(B) docs/benchmarks.md

# Only the sanitizer flavour of the suite.
check-sanitize: setup-check
	$(MAKE) asan-build
	PRH_SKIP_VM=1 tests/run.sh $(B) asan/

# The VM suite alone (it is also part of check).
check-vm: setup-check
	$(MAKE) tests
	tests/run.sh $(B) vm/

# Installed: the stripped binary in SBINDIR (SBINDIR=$(BINDIR) for bin),
# the man page, the licence texts and README, and the service files of
# scripts/init as examples to copy (they are not activated).
INIT_DATA  := $(addprefix scripts/init/,qemu-pr-helper.socket qemu-pr-helper.service \
              qemu-pr-helper.default inittab.example)
INIT_PROGS := $(addprefix scripts/init/,qemu-pr-helper.init qemu-pr-helper.openrc)
EXAMPLES   := $(DOCDIR)/examples

install: $(HELPER)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(DOCDIR) $(DESTDIR)$(EXAMPLES)/runit/log
	$(INSTALL) -m 0755 $(HELPER) $(DESTDIR)$(SBINDIR)/qemu-pr-helper
	$(STRIP) $(DESTDIR)$(SBINDIR)/qemu-pr-helper
	$(INSTALL) -m 0644 docs/qemu-pr-helper.8 $(DESTDIR)$(MANDIR)/man8/qemu-pr-helper.8
	$(INSTALL) -m 0644 LICENSE README.md $(DESTDIR)$(DOCDIR)/
	$(INSTALL) -m 0644 $(INIT_DATA) $(DESTDIR)$(EXAMPLES)/
	$(INSTALL) -m 0755 $(INIT_PROGS) $(DESTDIR)$(EXAMPLES)/
	$(INSTALL) -m 0755 scripts/init/runit/run $(DESTDIR)$(EXAMPLES)/runit/run
	$(INSTALL) -m 0755 scripts/init/runit/log/run $(DESTDIR)$(EXAMPLES)/runit/log/run

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/qemu-pr-helper $(DESTDIR)$(MANDIR)/man8/qemu-pr-helper.8
	rm -f $(DESTDIR)$(DOCDIR)/LICENSE $(DESTDIR)$(DOCDIR)/README.md
	rm -f $(addprefix $(DESTDIR)$(EXAMPLES)/,$(notdir $(INIT_DATA) $(INIT_PROGS)))
	rm -f $(DESTDIR)$(EXAMPLES)/runit/run $(DESTDIR)$(EXAMPLES)/runit/log/run
	-rmdir $(DESTDIR)$(EXAMPLES)/runit/log $(DESTDIR)$(EXAMPLES)/runit \
	    $(DESTDIR)$(EXAMPLES) $(DESTDIR)$(DOCDIR) 2>/dev/null

# A source tarball, $(B)/$(PROJECT)-$(VERSION).tar.gz: the files git tracks
# when this directory is a git checkout (so nothing stray slips in), else the
# source directories as they are (a tree unpacked from an earlier tarball). It
# builds and tests with the same two commands as a checkout.
DIST_NAME := $(PROJECT)-$(VERSION)
DIST_TOP  := Makefile README.md LICENSE .gitignore .ci src include tests scripts docs

dist:
	@mkdir -p $(B)
	@rm -rf $(B)/$(DIST_NAME) $(B)/$(DIST_NAME).tar.gz
	@mkdir -p $(B)/$(DIST_NAME)
	$(Q)if [ -e .git ]; then \
	    git ls-files -z $(DIST_TOP) | xargs -0 cp --parents -a -t $(B)/$(DIST_NAME); \
	else \
	    cp -a $(DIST_TOP) $(B)/$(DIST_NAME)/; \
	fi
	$(Q)tar -C $(B) --owner=0 --group=0 --numeric-owner --sort=name \
	    -czf $(B)/$(DIST_NAME).tar.gz $(DIST_NAME)
	@rm -rf $(B)/$(DIST_NAME)
	@echo "$(B)/$(DIST_NAME).tar.gz"

# clean keeps the dependency libraries (they take a network fetch to
# rebuild); distclean removes everything.
clean:
	if [ -L $(B)/valgrind-run ]; then rm -rf "$$(readlink $(B)/valgrind-run)"; fi
	rm -rf $(OBJ) $(HOOKS_OBJ) $(B)/tests $(B)/run $(B)/test-logs $(B)/asan $(B)/valgrind $(B)/valgrind-run $(B)/fuzz/fuzz_conn $(B)/bench $(LIBPRH) $(HELPER) $(HELPER).stripped $(CLIENT)

distclean:
	if [ -L $(B)/valgrind-run ]; then rm -rf "$$(readlink $(B)/valgrind-run)"; fi
	rm -rf $(B)

-include $(DAEMON_OBJS:.o=.d) $(CLIENT_OBJS:.o=.d) $(HOOKS_OBJS:.o=.d)
