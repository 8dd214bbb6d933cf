# SPDX-License-Identifier: Apache-2.0
#
# Makefile: the one entry point for building and testing kspan.
#
#   make [all]      libotel (.a/.so), BPF skeletons, agent, tests, examples, bench, fuzz targets
#   make test       build, then tests/run.sh: unit, unit under ASan/UBSan, integration,
#                   fuzz-corpus replay, install; ends with "N passed, N failed"
#   make demo       build, then examples/demo.sh
#   make bench      build bench/*.c, then bench/run.sh
#   make fuzz       run every fuzz target FUZZ_TIME seconds (default 60) on a scratch corpus
#   make install    PREFIX=/usr/local DESTDIR=  (headers, libotel.a/.so, otel.pc, kspan)
#   make SAN=1      ASan/UBSan build in build/asan (library, tests, examples, agent)
#   make vmlinux    regenerate vmlinux/<arch>/vmlinux.h from the running kernel's BTF
#   make clean      remove build/
#   V=1             show full commands
#
# Every entry point first runs scripts/deps.sh (target `deps`); every rule that runs a
# compiler depends on `deps` order-only, so tools are installed before the first compile.
# Sources are found with $(wildcard): a directory with no sources yet is fine.

.DELETE_ON_ERROR:
.SUFFIXES:
.DEFAULT_GOAL := all

# ---------------------------------------------------------------------------- configuration

# SAN=1 builds in build/asan unless BUILD is given on the command line (a BUILD in the
# environment, e.g. from a parent make, does not count).
ifeq ($(SAN),1)
ifneq ($(origin BUILD),command line)
BUILD := build/asan
endif
endif
BUILD ?= build

ifeq ($(origin CC),default)
CC := gcc
endif
CLANG ?= clang
AR ?= ar
BPFTOOL ?= bpftool
PROTOC_C ?= protoc-c
PREFIX ?= /usr/local
DESTDIR ?=
FUZZ_TIME ?= 60
# Extra package groups for scripts/deps.sh (see the script), e.g. DEPS_GROUPS=bench.
DEPS_GROUPS ?=

VERSION := $(shell cat VERSION)
GEN := $(BUILD)/gen

# uname -m -> the kernel's arch name used by vmlinux/ and bpf_tracing.h.
UNAME_M := $(shell uname -m)
BPF_ARCH := $(or $(patsubst x86_64,x86,$(filter x86_64,$(UNAME_M))), \
		 $(patsubst aarch64,arm64,$(filter aarch64,$(UNAME_M))), \
		 $(UNAME_M))

OPT := -O2
ifeq ($(SAN),1)
OPT := -O1
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

WARN := -Wall -Wextra -Werror
CPPFLAGS := -D_GNU_SOURCE
CFLAGS := -std=gnu11 $(OPT) -g $(WARN) -fPIC $(SANFLAGS) $(EXTRA_CFLAGS)
LDFLAGS := $(SANFLAGS) $(EXTRA_LDFLAGS)
# What a program linking libotel.a needs.
LIBS := -lprotobuf-c -lcurl -lz -lpthread -lm
BPF_LIBS := -lbpf -lelf -lz

# libFuzzer targets: clang, instrumented, all code they use compiled the same way.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -O1 -g $(WARN) -fno-omit-frame-pointer $(FUZZ_SAN) \
	       -fsanitize=fuzzer-no-link
FUZZ_LDFLAGS := $(FUZZ_SAN) -fsanitize=fuzzer

BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Ivmlinux/$(BPF_ARCH) \
	      -I$(BUILD)/bpf -Ibpf -Wall -Werror
# clang -target bpf drops the host's multiarch include dirs; add them back (libbpf-bootstrap
# does the same). Deferred (=): only evaluated when a BPF object is compiled.
BPF_SYS_INCLUDES = $(shell $(CLANG) -v -E - </dev/null 2>&1 | \
	sed -n '/<...> search starts here:/,/End of search list./{ s| \(/.*\)|-idirafter \1|p }')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-7s %s\n' '$(1)' '$(2)';
endif

# ---------------------------------------------------------------------------- sources

find_c = $(sort $(wildcard $(1)/*.c))

PROTOS := $(sort $(shell find proto -name '*.proto' 2>/dev/null))
GEN_C := $(patsubst proto/%.proto,$(GEN)/%.pb-c.c,$(PROTOS))
GEN_H := $(GEN_C:.c=.h)

# libotel: the SDK plus the generated OTLP code.
LIB_SRCS := $(call find_c,sdk/src)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o) $(GEN_C:$(GEN)/%.c=$(BUILD)/obj/gen/%.o)
LIBOTEL_A := $(BUILD)/lib/libotel.a
LIBOTEL_SO := $(BUILD)/lib/libotel.so.0

# BPF programs and their skeletons.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_NAMES := $(BPF_SRCS:bpf/%.bpf.c=%)
BPF_OBJS := $(BPF_NAMES:%=$(BUILD)/bpf/%.bpf.o)
SKELS := $(BPF_NAMES:%=$(BUILD)/bpf/%.skel.h)

# The agent: $(AGENT_MAIN) holds main(); every other userspace/*.c goes into an archive
# that tests, fuzzers and benchmarks link too (parsers are tested directly).
AGENT_MAIN ?= userspace/main.c
AGENT_SRCS := $(filter-out $(AGENT_MAIN),$(call find_c,userspace))
AGENT_OBJS := $(AGENT_SRCS:%.c=$(BUILD)/obj/%.o)
AGENT_LIB := $(if $(AGENT_OBJS),$(BUILD)/lib/libkspan.a)
AGENT_BIN := $(if $(wildcard $(AGENT_MAIN)),$(BUILD)/kspan)

# Tests. Helpers are archived so a test pulls in only the helpers it uses.
HELPER_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(call find_c,tests/helpers))
HELPER_LIB := $(if $(HELPER_OBJS),$(BUILD)/lib/libtesthelpers.a)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:%.c=$(BUILD)/%)
INTEG_SRCS := $(wildcard tests/integration/test_*.c)
INTEG_BINS := $(INTEG_SRCS:%.c=$(BUILD)/%)
# Small programs integration tests start (servers, clients): tests/servers/<name>.c.
SERVER_SRCS := $(wildcard tests/servers/*.c)
SERVER_BINS := $(SERVER_SRCS:%.c=$(BUILD)/%)
# usdt_app.c is also a shared library (probes in a .so the test program dlopen()s).
SERVER_LIBS := $(if $(wildcard tests/servers/usdt_app.c),$(BUILD)/tests/servers/libusdt_app.so)

EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)
# Code the examples share (examples/support/*.c): archived and linked into every example.
EXAMPLE_SUPPORT_OBJS := $(patsubst %.c,$(BUILD)/obj/%.o,$(call find_c,examples/support))
EXAMPLE_SUPPORT_LIB := $(if $(EXAMPLE_SUPPORT_OBJS),$(BUILD)/lib/libexamples.a)
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(BUILD)/bench/%)

# Fuzz targets, with their own clang-built copies of libotel and the agent archive.
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJ := $(BUILD)/fuzz/obj
FUZZ_LIB_OBJS := $(LIB_OBJS:$(BUILD)/obj/%=$(FUZZ_OBJ)/%)
FUZZ_AGENT_OBJS := $(AGENT_OBJS:$(BUILD)/obj/%=$(FUZZ_OBJ)/%)
FUZZ_LIBOTEL := $(BUILD)/fuzz/lib/libotel.a
FUZZ_AGENT_LIB := $(if $(FUZZ_AGENT_OBJS),$(BUILD)/fuzz/lib/libkspan.a)

# Include paths per kind of object.
LIB_INC := -Isdk/include -Isdk/src -I$(GEN)
AGENT_INC := -Iuserspace -Isdk/include -Isdk/src -I$(GEN) -I$(BUILD)/bpf -Ibpf
TEST_INC := -Isdk/include -Isdk/src -I$(GEN) -Itests/helpers -Iuserspace -Ibpf
INTEG_INC := $(TEST_INC) -I$(BUILD)/bpf

# Link lines: archives before the libraries they use.
OTEL_LINK := $(AGENT_LIB) $(LIBOTEL_A) $(LIBS)
TEST_LINK := $(HELPER_LIB) $(AGENT_LIB) $(LIBOTEL_A) -lcmocka $(BPF_LIBS) $(LIBS)

ALL_OBJS := $(LIB_OBJS) $(AGENT_OBJS) $(AGENT_MAIN:%.c=$(BUILD)/obj/%.o) $(HELPER_OBJS) \
	    $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o) $(INTEG_SRCS:%.c=$(BUILD)/obj/%.o) \
	    $(SERVER_SRCS:%.c=$(BUILD)/obj/%.o) $(EXAMPLE_SRCS:%.c=$(BUILD)/obj/%.o) \
	    $(EXAMPLE_SUPPORT_OBJS) \
	    $(BENCH_SRCS:%.c=$(BUILD)/obj/%.o)
FUZZ_ALL_OBJS := $(FUZZ_LIB_OBJS) $(FUZZ_AGENT_OBJS) $(FUZZ_SRCS:%.c=$(FUZZ_OBJ)/%.o)

# ---------------------------------------------------------------------------- entry points

.PHONY: all test demo bench fuzz install clean deps vmlinux help \
	lib bpf agent unit-tests integration-tests examples bench-bins fuzz-bins

# Everything this build flavor makes. Benchmarks and fuzzers are never built with SAN=1.
BUILD_ALL := lib bpf agent unit-tests integration-tests examples
ifneq ($(SAN),1)
BUILD_ALL += bench-bins fuzz-bins
endif

all: deps $(BUILD_ALL)

lib: $(LIBOTEL_A) $(LIBOTEL_SO) $(BUILD)/lib/libotel.so
bpf: $(SKELS)
agent: $(AGENT_BIN) $(AGENT_LIB)
unit-tests: $(UNIT_BINS)
integration-tests: $(INTEG_BINS) $(SERVER_BINS) $(SERVER_LIBS)
examples: $(EXAMPLE_BINS)
bench-bins: $(BENCH_BINS)
fuzz-bins: $(FUZZ_BINS)

# A sub-make started by an entry point passes DEPS_DONE=1: deps ran already.
deps:
ifneq ($(DEPS_DONE),1)
	$(Q)bash scripts/deps.sh $(DEPS_GROUPS)
endif

test: all
	$(Q)BUILD='$(BUILD)' MAKE='$(MAKE)' DEPS_DONE=1 bash tests/run.sh

demo: all
	$(Q)if [ -f examples/demo.sh ]; then BUILD='$(BUILD)' bash examples/demo.sh; \
	else echo "make demo: examples/demo.sh not found"; exit 1; fi

# The bench package group (peers, load generators) is installed only for benchmarks.
bench: DEPS_GROUPS += bench
bench: deps bench-bins agent examples
	$(Q)BUILD='$(BUILD)' bash bench/run.sh

fuzz: deps fuzz-bins
	$(Q)BUILD='$(BUILD)' FUZZ_TIME='$(FUZZ_TIME)' bash scripts/fuzz.sh run $(FUZZ_BINS)

install: deps lib agent
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(PREFIX)/include/otel $(DESTDIR)$(PREFIX)/lib/pkgconfig
	$(Q)$(if $(wildcard sdk/include/otel/*.h),install -m 0644 $(wildcard sdk/include/otel/*.h) \
		$(DESTDIR)$(PREFIX)/include/otel/)
	$(Q)install -m 0644 $(LIBOTEL_A) $(DESTDIR)$(PREFIX)/lib/
	$(Q)install -m 0755 $(LIBOTEL_SO) $(DESTDIR)$(PREFIX)/lib/
	$(Q)ln -sf libotel.so.0 $(DESTDIR)$(PREFIX)/lib/libotel.so
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' sdk/otel.pc.in \
		> $(DESTDIR)$(PREFIX)/lib/pkgconfig/otel.pc
ifneq ($(AGENT_BIN),)
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin
	$(Q)install -m 0755 $(AGENT_BIN) $(DESTDIR)$(PREFIX)/bin/
endif

clean:
	$(call msg,CLEAN,build)
	$(Q)rm -rf build $(BUILD)

# Not part of the build: the committed copy is used so machines without BTF can build.
vmlinux: deps
	$(call msg,GEN,vmlinux/$(BPF_ARCH)/vmlinux.h)
	$(Q)mkdir -p vmlinux/$(BPF_ARCH)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux/$(BPF_ARCH)/vmlinux.h.tmp
	$(Q)mv vmlinux/$(BPF_ARCH)/vmlinux.h.tmp vmlinux/$(BPF_ARCH)/vmlinux.h

help:
	@sed -n '3,/^$$/s/^# \{0,1\}//p' Makefile

# ---------------------------------------------------------------------------- rules

# OTLP C code. Every object waits for all generated headers (order-only), so the SDK can
# include them on the first build; -MMD tracks them afterwards.
$(GEN)/%.pb-c.c $(GEN)/%.pb-c.h: proto/%.proto | deps
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(GEN)
	$(Q)$(PROTOC_C) --c_out=$(GEN) -Iproto $<

# Generated files are made by pattern rules; keep make from deleting them as intermediates.
.SECONDARY: $(GEN_C) $(GEN_H) $(BPF_NAMES:%=$(BUILD)/bpf/%.tmp.bpf.o) $(BPF_OBJS) $(SKELS)

# Per-kind flags; `private` keeps them from leaking into prerequisites (libotel.a, ...).
$(BUILD)/obj/sdk/%.o: private XFLAGS := -fvisibility=hidden $(LIB_INC)
$(BUILD)/obj/gen/%.o: private XFLAGS := -fvisibility=hidden -I$(GEN)
$(BUILD)/obj/userspace/%.o: private XFLAGS := $(AGENT_INC)
$(BUILD)/obj/tests/unit/%.o $(BUILD)/obj/tests/helpers/%.o: private XFLAGS := $(TEST_INC)
$(BUILD)/obj/tests/integration/%.o $(BUILD)/obj/tests/servers/%.o: private XFLAGS := $(INTEG_INC)
$(BUILD)/obj/examples/%.o: private XFLAGS := -Isdk/include
$(BUILD)/obj/bench/%.o: private XFLAGS := $(AGENT_INC) -Itests/helpers

# Objects that include BPF skeletons wait for them.
$(filter $(BUILD)/obj/userspace/% $(BUILD)/obj/tests/integration/% $(BUILD)/obj/tests/servers/% \
	 $(BUILD)/obj/bench/%,$(ALL_OBJS)): | $(SKELS)

# Objects depend on the flags they were built with (rewritten only when they change).
FLAGS_STAMP := $(BUILD)/.flags
$(FLAGS_STAMP): FORCE
	$(Q)mkdir -p $(@D)
	$(Q)echo '$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) $(FUZZ_CFLAGS) $(BPF_CFLAGS)' > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

$(BUILD)/obj/gen/%.o: $(GEN)/%.c $(FLAGS_STAMP) | deps $(GEN_H)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(XFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP) | deps $(GEN_H)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(XFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# Archives are rebuilt from scratch so a deleted source leaves no stale member.
$(BUILD)/lib/%.a: | deps
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(LIBOTEL_A): $(LIB_OBJS)
$(AGENT_LIB): $(AGENT_OBJS)
$(HELPER_LIB): $(HELPER_OBJS)
$(EXAMPLE_SUPPORT_LIB): $(EXAMPLE_SUPPORT_OBJS)

# -z defs catches a missing -l; ASan's runtime is only resolved in executables.
SO_DEFS := $(if $(SANFLAGS),,-Wl,-z,defs)
$(LIBOTEL_SO): $(LIB_OBJS) sdk/libotel.map | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -shared $(LDFLAGS) -o $@ $(LIB_OBJS) -Wl,--version-script=sdk/libotel.map \
		-Wl,-soname,libotel.so.0 $(SO_DEFS) $(LIBS)

$(BUILD)/lib/libotel.so: $(LIBOTEL_SO)
	$(call msg,LN,$@)
	$(Q)ln -sf libotel.so.0 $@

.PHONY: FORCE
FORCE:

# Executables.
$(UNIT_BINS): $(BUILD)/%: $(BUILD)/obj/%.o $(HELPER_LIB) $(AGENT_LIB) $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LINK)

$(INTEG_BINS): $(BUILD)/%: $(BUILD)/obj/%.o $(HELPER_LIB) $(AGENT_LIB) $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_LINK)

$(BUILD)/tests/servers/libusdt_app.so: tests/servers/usdt_app.c $(FLAGS_STAMP) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(INTEG_INC) $(CFLAGS) -DUSDT_APP_LIBRARY -shared -o $@ $< $(LDFLAGS)

$(SERVER_BINS): $(BUILD)/%: $(BUILD)/obj/%.o $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBOTEL_A) $(LIBS)

# --as-needed: an example that uses only <otel/usdt.h> (the demo services) needs libc alone.
$(EXAMPLE_BINS): $(BUILD)/examples/%: $(BUILD)/obj/examples/%.o $(EXAMPLE_SUPPORT_LIB) \
		 $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(EXAMPLE_SUPPORT_LIB) $(LIBOTEL_A) -Wl,--as-needed $(LIBS)

# Benchmarks may use the test helpers that build synthetic input (records.c).
$(BENCH_BINS): $(BUILD)/bench/%: $(BUILD)/obj/bench/%.o $(HELPER_LIB) $(AGENT_LIB) $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(HELPER_LIB) $(OTEL_LINK) $(BPF_LIBS)

$(AGENT_BIN): $(AGENT_MAIN:%.c=$(BUILD)/obj/%.o) $(AGENT_LIB) $(LIBOTEL_A) | deps
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(OTEL_LINK) $(BPF_LIBS)

# BPF: compile, link/strip with bpftool, generate the skeleton (struct <name>, <name>__open()).
# bpf/<name>.bpf.c: <name> must be a C identifier, it names the skeleton's struct and functions.
$(BUILD)/bpf/%.tmp.bpf.o: bpf/%.bpf.c $(FLAGS_STAMP) | deps
	$(call msg,BPF,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) $(BPF_SYS_INCLUDES) -MMD -MP -c $< -o $@

$(BUILD)/bpf/%.bpf.o: $(BUILD)/bpf/%.tmp.bpf.o
	$(call msg,GENOBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $* > $@

# Fuzz targets: everything they link is built by clang with the fuzzer instrumentation.
$(FUZZ_OBJ)/gen/%.o: $(GEN)/%.c $(FLAGS_STAMP) | deps $(GEN_H)
	$(call msg,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) -I$(GEN) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(FUZZ_OBJ)/%.o: %.c $(FLAGS_STAMP) | deps $(GEN_H) $(SKELS)
	$(call msg,FUZZCC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(CPPFLAGS) $(TEST_INC) -I$(BUILD)/bpf $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/lib/%.a: | deps
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_LIBOTEL): $(FUZZ_LIB_OBJS)
$(FUZZ_AGENT_LIB): $(FUZZ_AGENT_OBJS)

$(FUZZ_BINS): $(BUILD)/fuzz/%: $(FUZZ_OBJ)/tests/fuzz/%.o $(FUZZ_AGENT_LIB) $(FUZZ_LIBOTEL) | deps
	$(call msg,LD,$@)
	$(Q)$(CLANG) $(FUZZ_LDFLAGS) -o $@ $< $(FUZZ_AGENT_LIB) $(FUZZ_LIBOTEL) $(BPF_LIBS) $(LIBS)

-include $(ALL_OBJS:.o=.d) $(if $(filter 1,$(SAN)),,$(FUZZ_ALL_OBJS:.o=.d)) \
	 $(BPF_NAMES:%=$(BUILD)/bpf/%.tmp.bpf.d)
