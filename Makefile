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

# vsrun and vsrun-vm share their front end; only main differs (see below)
VSRUN_SRCS := cli/vsrun.c $(wildcard cli/oci-*.c) cli/cli-util.c
VSERVER_SRCS := $(filter-out cli/vserver-monitor.c,$(wildcard cli/vserver*.c cli/cli-util.c))
VSRUN_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VSRUN_SRCS))
VSERVER_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(VSERVER_SRCS))

UNIT_SRCS := $(wildcard tests/unit/test-*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

all: $(BUILD)/vsrun $(BUILD)/vsrun-vm $(if $(wildcard cli/vserver.c),$(BUILD)/vserver $(BUILD)/vserver-monitor)

$(BUILD)/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# the VM guest agent: static, no sanitizers (it is the guest's /init), and
# embedded in both binaries (vm/agent/blob.S)
AGENT := $(BUILD)/vserver-agent
AGENT_BLOB := $(BUILD)/vm/agent-blob.o
$(AGENT): $(wildcard vm/agent/*.c vm/agent/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -static -o $@ $(filter %.c,$^)
$(AGENT_BLOB): vm/agent/blob.S $(AGENT)
	@mkdir -p $(dir $@)
	$(CC) -c -DAGENT_PATH='"$(AGENT)"' -o $@ $<

# vsrun links only what an ordinary container needs: the VM handler
# (runtime/oci-vm.c) would pull in the VM and network modules, netlink,
# nftables and libarchive (and libxml2, ICU, libstdc++ through it), 27
# shared libraries to map and relocate at every start. A VM's commands go to
# vsrun-vm (cli/vsrun-main.c), found beside vsrun or in the libexec dir.
# Linking vsrun with LIBS_CORE alone makes a stray reference a link error.
# vsrun is linked statically (static-pie) when the static archives of its
# three libraries are installed (libseccomp-dev, libcap-dev and libyajl-dev
# ship them): no dynamic linking at each of the two executions of a create
# (the sealed re-exec), 1.5 instead of 2.3 MiB peak RSS. VSRUN_LINK=dynamic
# links it against the shared libraries; SANITIZE=1 does.
LIBEXECDIR := $(PREFIX)/libexec/vserver
VSRUN_STATIC_LIBS := -lyajl_s -lseccomp -lcap
have_static = $(filter /%,$(shell $(CC) -print-file-name=$(1)))
VSRUN_LINK ?= $(if $(and $(call have_static,libyajl_s.a),$(call have_static,libseccomp.a),$(call \
	have_static,libcap.a)),static,dynamic)
ifeq ($(SANITIZE),1)
VSRUN_LINK := dynamic
endif
ifeq ($(VSRUN_LINK),static)
VSRUN_LD := -static-pie -Wl,-z,relro,-z,now $(LDFLAGS)
VSRUN_LIBS := $(VSRUN_STATIC_LIBS)
else
VSRUN_LD := $(LDFLAGS_ALL)
VSRUN_LIBS := $(LIBS_CORE)
endif
$(BUILD)/cli/vsrun-main.o: CFLAGS_ALL += -DVS_LIBEXECDIR='"$(LIBEXECDIR)"'
$(BUILD)/vsrun: $(VSRUN_OBJS) $(BUILD)/cli/vsrun-main.o $(LIB)
	$(CC) $(CFLAGS_ALL) $(VSRUN_LD) -o $@ $(VSRUN_OBJS) $(BUILD)/cli/vsrun-main.o $(LIB) $(VSRUN_LIBS)

$(BUILD)/vsrun-vm: $(VSRUN_OBJS) $(BUILD)/cli/vsrun-vm.o $(LIB) $(AGENT_BLOB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(VSRUN_OBJS) $(BUILD)/cli/vsrun-vm.o $(AGENT_BLOB) \
		$(LIB) $(LIBS_ALL)

$(BUILD)/vserver: $(VSERVER_OBJS) $(LIB) $(AGENT_BLOB)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(VSERVER_OBJS) $(AGENT_BLOB) $(LIB) $(LIBS_ALL)

# The per-server monitor: one per running server, so it links only what it
# uses (see docs/monitor.md), statically: no shared libraries to map and
# relocate in each of a thousand processes. Against musl when musl-gcc is
# installed (about 200 kB resident), else against glibc (about 1 MiB, most
# of it glibc's own code). MONITOR_LIBC=musl|glibc|glibc-dynamic chooses;
# make bench prints its memory.
MONITOR_SRCS := cli/vserver-monitor.c runtime/monitor.c
MONITOR_LIB_SRCS := runtime/server-base.c runtime/procinfo.c runtime/alert.c runtime/console-relay.c
MUSL_GCC ?= $(shell command -v musl-gcc 2>/dev/null)
MONITOR_LIBC ?= $(if $(MUSL_GCC),musl,glibc)
ifeq ($(SANITIZE),1)
MONITOR_LIBC := glibc-dynamic
endif
ifeq ($(MONITOR_LIBC),musl)
# musl's headers have no kernel headers: the system's come after them
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
MUSL_LIBDIR ?= $(shell sed -n 's|.*-specs "*\([^" ]*\)/musl-gcc.specs.*|\1|p' $(MUSL_GCC) 2>/dev/null)
MUSL_CFLAGS := -std=gnu11 $(OPT) $(WARN) -fstack-protector-strong -fPIE -ffunction-sections \
	-fdata-sections $(filter -I%,$(PKG_CFLAGS)) -idirafter /usr/include \
	$(if $(MULTIARCH),-idirafter /usr/include/$(MULTIARCH)) -D_GNU_SOURCE \
	-DVS_VERSION='"$(VERSION)"' $(CFLAGS)
MUSL_LIB_SRCS := $(wildcard common/*.c conf/*.c cgroups/*.c) $(MONITOR_LIB_SRCS)
$(BUILD)/musl/%.o: %.c $(wildcard */*.h)
	@mkdir -p $(dir $@)
	$(MUSL_GCC) $(MUSL_CFLAGS) $(if $(filter conf/mounts.c,$<),-include linux/mount.h) -c -o $@ $<
$(BUILD)/musl/libmonitor.a: $(patsubst %.c,$(BUILD)/musl/%.o,$(MUSL_LIB_SRCS))
	@rm -f $@
	ar rcs $@ $^
# static-pie by hand: musl-gcc's specs know only dynamic PIE and static
# (monitor-compat.o as an object: yajl, linked after the archive, needs it)
$(BUILD)/vserver-monitor: $(patsubst %.c,$(BUILD)/musl/%.o,$(MONITOR_SRCS) cli/monitor-compat.c) \
		$(BUILD)/musl/libmonitor.a
	$(MUSL_GCC) -nostartfiles -Wl,-static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text \
		-Wl,-z,relro,-z,now -Wl,--gc-sections -o $@ $(MUSL_LIBDIR)/rcrt1.o $(MUSL_LIBDIR)/crti.o \
		$$($(CC) -print-file-name=crtbeginS.o) $(filter %.o,$^) $(BUILD)/musl/libmonitor.a \
		$$($(CC) -print-file-name=libyajl_s.a) $$($(CC) -print-file-name=crtendS.o) \
		$(MUSL_LIBDIR)/crtn.o
else
MONITOR_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(MONITOR_SRCS) $(MONITOR_LIB_SRCS))
ifeq ($(MONITOR_LIBC),glibc)
MONITOR_LD := -static-pie -Wl,-z,relro,-z,now -Wl,--gc-sections
MONITOR_LIBS := -lyajl_s
else
MONITOR_LD := $(LDFLAGS_ALL)
MONITOR_LIBS := $(shell $(PKG_CONFIG) --libs yajl 2>/dev/null)
endif
$(BUILD)/vserver-monitor: $(MONITOR_OBJS) $(LIB)
	$(CC) $(CFLAGS_ALL) $(MONITOR_LD) $(SAN_LD) -o $@ $(MONITOR_OBJS) $(LIB) $(MONITOR_LIBS)
endif

# A unit test links only its own module and what it depends on, so one
# module's test builds while another module is broken.
UNIT_DEPS_common := common
UNIT_DEPS_conf := common conf
UNIT_DEPS_namespaces := common conf namespaces
UNIT_DEPS_cgroups := common conf cgroups
UNIT_DEPS_rootfs := common conf rootfs
UNIT_DEPS_netns := common conf netns
UNIT_DEPS_vm := common conf vm
UNIT_DEPS_vmagent := common conf vm
# test-vmagent runs build/vserver-agent's exec loop on a socket pair
$(BUILD)/tests/test-vmagent: $(AGENT)
UNIT_DEPS_runtime := $(MODULES)
# the process-attribute files of runtime/ (caps, seccomp, hooks, console) alone
ATTR_OBJS := $(patsubst %,$(BUILD)/runtime/%.o,caps seccomp procattr hooks console fdguard)
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
	install -D -m 0755 $(BUILD)/vserver-monitor $(DESTDIR)$(LIBEXECDIR)/vserver-monitor
	install -D -m 0755 $(BUILD)/vsrun-vm $(DESTDIR)$(LIBEXECDIR)/vsrun-vm
	for m in man/*.[0-9]; do [ -f "$$m" ] || continue; \
		s=$${m##*.}; install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man$$s/$${m##*/}; done
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|g' cli/vserver-boot.service.in \
		>$(DESTDIR)$(PREFIX)/lib/systemd/system/vserver-boot.service
	chmod 0644 $(DESTDIR)$(PREFIX)/lib/systemd/system/vserver-boot.service
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
