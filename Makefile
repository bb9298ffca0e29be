# vserver: plain GNU make.
#   make                 build vsrun and vserver
#   make check           unit tests (TAP) + bats integration tests
#   make SANITIZE=1 check   the same with ASan/UBSan
#   make check-vm        the cgroup v2 tests inside a throwaway VM
#   make fuzz            build the config parser's libFuzzer target
#   make bench           vsrun vs crun vs runc, side by side; the network paths
#   make bench-net       only the network paths (servers vs a plain veth)
#   make install PREFIX=/usr/local
#   make demo            the README's main job

PREFIX ?= /usr/local
BUILD ?= build
CC ?= cc
PKG_CONFIG ?= pkg-config

VERSION := $(shell cat VERSION 2>/dev/null || echo 0.1.0)

PKGS_CORE := yajl libseccomp libcap
PKGS_NET  := libnl-3.0 libnl-route-3.0 libnftables
PKGS_IMG  := libarchive
PKGS := $(PKGS_CORE) $(PKGS_NET) $(PKGS_IMG)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wmissing-prototypes -Wvla \
	-Wno-unused-parameter -Wno-missing-field-initializers -Wno-format-truncation
ifeq ($(CI),true)
WERROR ?= 1
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD := -pie -Wl,-z,relro,-z,now

OPT ?= -O2 -g
ifeq ($(SANITIZE),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
HARDEN := -fstack-protector-strong -fPIE
SAN_LD := -fsanitize=address,undefined
BUILD := build-san
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
CFLAGS_ALL := -std=gnu11 $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) -D_GNU_SOURCE \
	-DVS_VERSION='"$(VERSION)"' $(CFLAGS)
LDFLAGS_ALL := $(HARDEN_LD) $(SAN_LD) -Wl,--as-needed $(LDFLAGS)
LIBS_CORE := $(shell $(PKG_CONFIG) --libs $(PKGS_CORE) 2>/dev/null)
LIBS_ALL := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)

MODULES := common conf namespaces cgroups netns rootfs vm runtime
# objects of one module: $(call objs,conf)
objs = $(patsubst %.c,$(BUILD)/%.o,$(wildcard $(1)/*.c))
LIB_OBJS := $(foreach m,$(MODULES),$(call objs,$(m)))
LIB := $(BUILD)/libvserver.a

VSRUN_SRCS := $(wildcard cli/vsrun*.c cli/oci-*.c cli/cli-util.c)
VSERVER_SRCS := $(wildcard cli/vserver*.c cli/cli-util.c)
VSRUN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VSRUN_SRCS))
VSERVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VSERVER_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

all: $(BUILD)/vsrun $(if $(wildcard cli/vserver.c),$(BUILD)/vserver)

$(BUILD)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/vsrun: $(VSRUN_OBJS) $(LIB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(VSRUN_OBJS) $(LIB) $(LIBS_CORE)

$(BUILD)/vserver: $(VSERVER_OBJS) $(LIB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(VSERVER_OBJS) $(LIB) $(LIBS_ALL)

# A unit test links only its own module and what it depends on, so one
# module's test builds while another module is broken.
UNIT_DEPS_common := common
UNIT_DEPS_conf := common conf
UNIT_DEPS_namespaces := common conf namespaces
UNIT_DEPS_cgroups := common conf cgroups
UNIT_DEPS_rootfs := common conf rootfs
UNIT_DEPS_netns := common conf netns
UNIT_DEPS_vm := common conf vm
UNIT_DEPS_runtime := $(MODULES)
# the process-attribute files of runtime/ (caps, seccomp, hooks, console) alone
ATTR_OBJS := $(patsubst %,$(BUILD)/runtime/%.o,caps seccomp procattr hooks console)
.SECONDEXPANSION:
$(BUILD)/tests/test-procattr: tests/unit/test-procattr.c tests/unit/tap.h $(ATTR_OBJS) \
		$(call objs,common) $(call objs,conf)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(ATTR_OBJS) $(call objs,common) \
		$(call objs,conf) $(LIBS_ALL)
$(BUILD)/tests/test-%: tests/unit/test-%.c tests/unit/tap.h \
		$$(foreach m,$$(or $$(UNIT_DEPS_$$*),$$(MODULES)),$$(call objs,$$(m)))
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< \
		$(foreach m,$(or $(UNIT_DEPS_$*),$(MODULES)),$(call objs,$(m))) $(LIBS_ALL)

unit: $(UNIT_BINS)

check: all unit
	BUILD=$(BUILD) tests/run-all.sh

check-unit: unit
	BUILD=$(BUILD) tests/run-all.sh --unit-only

check-vm: all unit
	BUILD=$(BUILD) tests/vm/run.sh

fuzz: $(BUILD)/fuzz-conf
$(BUILD)/fuzz-conf: tests/fuzz/fuzz-conf.c $(call objs,common) $(call objs,conf)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		$(PKG_CFLAGS) -o $@ $< conf/*.c common/*.c $(LIBS_CORE)

bench: all
	BUILD=$(BUILD) bench/run.sh

bench-net: all
	BUILD=$(BUILD) bench/net.sh

demo:
	tests/install-deps.sh --build
	$(MAKE) all
	BUILD=$(BUILD) ./demo.sh

install: all
	install -D -m 0755 $(BUILD)/vsrun $(DESTDIR)$(PREFIX)/sbin/vsrun
	install -D -m 0755 $(BUILD)/vserver $(DESTDIR)$(PREFIX)/sbin/vserver
	for m in man/*.[0-9]; do [ -f "$$m" ] || continue; \
		s=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/$${m##*/}; done
	install -D -m 0644 cli/vsrun.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vsrun
	install -D -m 0644 cli/vserver.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/vserver

clean:
	rm -rf build build-san

.PHONY: all unit check check-unit check-vm fuzz bench bench-net demo install clean

# the netns test driver used by tests/net.bats
$(BUILD)/tests/netns-driver: tests/netns-driver.c $(call objs,common) $(call objs,netns)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(call objs,common) $(call objs,netns) $(LIBS_ALL)

# the vm test driver used by tests/vm-boot.bats
$(BUILD)/tests/vm-driver: tests/vm-driver.c $(call objs,common) $(call objs,vm)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(call objs,common) $(call objs,vm) $(LIBS_ALL)
