# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#
#   make            build build/readyd and build/readyctl
#   make check      install missing Debian packages, build, run every test (and the fentry
#                   subset on Debian's 6.1 kernel in qemu)
#   make check-kernels  the integration tests on Debian's 6.1 kernel in qemu, every mode
#                   (tools/kernels/run.sh; KERNELS_ARGS="--kernel linux-image-..." for another)
#   make demo       build and run readyd on examples/demo.conf
#   make install    binaries, man pages, the systemd unit, bash completion, an example config
#                   (never over an existing one), alert rules, docs: PREFIX (/usr/local), DESTDIR,
#                   bindir sbindir mandir sysconfdir (/etc) unitdir bashcompdir datadir docdir
#   make uninstall  remove what make install installed, but the config
#   make man        build/man/: readyd(8), readyctl(8), readyd.conf(5) from docs/man/*.scd
#   make package    build/readyd_VERSION_ARCH.deb (dpkg-buildpackage on a copy of the tree)
#   make check-package  build, install, upgrade (reexec, no service restarted) and purge the
#                   package on this machine (root: a CI machine's dpkg)
#   make bench      run the benchmarks in tools/bench/ (prints figures;
#                   BENCH_ARGS="latency --starts 50" to narrow)
#   make deps       install missing Debian packages only (apt-get, as root)
#   make guards     format-check, lint, layers, docs-check, alerts-check, mutants-check (make
#                   check runs them); make alerts-check: promtool on the alert rules and tests/alerts/
#   make mutants    apply each bug of tests/mutations/ and run the tests that must catch it
#                   (MUTANTS="name ..." for some); "N caught, M survived"
#   make format     clang-format the tree; make docs: regenerate docs' generated blocks
#   make fuzz       build the libFuzzer targets of tests/fuzz/ and run each FUZZ_SECONDS (300),
#                   FUZZ_JOBS (2) at a time; make fuzz-smoke: FUZZ_SMOKE_SECONDS (5) each
#   V=1             show the commands

OUT      := build
ARCH     := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
# The release is VERSION's; built in a git work tree of this source, the commit is added
# (0.9.0+g1a2b3c4, .dirty with uncommitted changes). A tarball, or the package build's copy
# (no .git of its own), gives the release alone. debian/rules passes the package's version.
VERSION  := $(shell cat VERSION)
ifeq ($(shell git rev-parse --show-toplevel 2>/dev/null),$(CURDIR))
READYD_VERSION ?= $(VERSION)+g$(shell git rev-parse --short HEAD)$(shell \
		    git status --porcelain --untracked-files=no | grep -q . && echo .dirty)
else
READYD_VERSION ?= $(VERSION)
endif
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= gcc
PYTHON   ?= /usr/bin/python3

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral \
	    -Wno-format-truncation
CFLAGS   ?= -O2 -g
ALL_CFLAGS = $(CPPFLAGS) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -MMD -MP \
	     -Iinclude -Isrc -I$(OUT) -DREADYD_VERSION='"$(READYD_VERSION)"'
SAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	     -fno-omit-frame-pointer
LIBS     := -lbpf -lelf -lz -linih -lcjson -pthread $(shell pkg-config --libs libnghttp2)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.PHONY: FORCE all check install uninstall man man-check dist-check package check-package check-kernels check-kernels-quick demo bench deps unit integration clean format \
	format-check lint layers docs docs-check alerts-check guards mutants mutants-check fuzz fuzz-build fuzz-smoke

# Debian 12 packages: build chain, libraries, and the real servers the tests run. Installing
# one never starts it (a policy-rc.d that says no, for the install): the tests start their own.
DEB_PKGS := make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev \
	    libcmocka-dev libinih-dev libcjson-dev pkg-config iproute2 \
	    python3 python3-yaml socat nginx-light redis-server prometheus prometheus-node-exporter curl \
	    clang-format clang-tidy cppcheck libclang-rt-14-dev \
	    postgresql postgresql-client mariadb-server mariadb-client openssh-server \
	    php8.2-fpm gunicorn libfcgi-bin haproxy \
	    qemu-system-x86 busybox-static liburing-dev kmod \
	    scdoc man-db groff-base dpkg-dev debhelper fakeroot \
	    libnghttp2-dev python3-grpcio chromium

# Sources by layer (docs/architecture.md): each folder may use only the ones above it.
BASE_SRCS   := log clock util sock_types strbuf duration argv loop safe_path
CONFIG_SRCS := config config_file config_check config_env_check config_life config_keys config_keys_readyd config_deps config_systemd listen_spec probe_spec backoff
MODEL_SRCS  := deps machine machine_inputs machine_common service_sockets service_query service_describe findings listener health accept_queue metrics notify_msg manager_msg agent_reply grpc_msg timeline http_request http_reply
OS_SRCS     := tracer tracer_event closer bpf_holder sockets sock_diag sock_scan proc_parse cgroup \
	       vm_clone \
	       supervisor nofile probe probe_wire journal textfile control_socket \
	       notify_socket state_dir sd_notify tcp_listen accept_spare h2_grpc
DAEMON_SRCS := daemon unit deps serve procs spawn membership reaper output sock_table syscalls json reload commands \
	       ctl_request oneshot snapshot resume handover handover_save handover_exec \
	       readyd
IN_SRCS     := events scan scan_queue unix_close notify markers fdready probes watch prespawn
OUT_SRCS    := export waiters sockets oneshot_exit manager agent grpc timeline stream http
CLI_SRCS    := readyctl ctl_client ctl_format ctl_deps ctl_exit ctl_help boot plot_svg ctl_boot

READYD_SRCS := $(BASE_SRCS:%=base/%) $(CONFIG_SRCS:%=config/%) $(MODEL_SRCS:%=model/%) \
	       $(OS_SRCS:%=os/%) $(DAEMON_SRCS:%=daemon/%) $(IN_SRCS:%=daemon/in/%) \
	       $(OUT_SRCS:%=daemon/out/%)
READYCTL_SRCS := base/log base/clock base/util base/duration base/safe_path $(CLI_SRCS:%=cli/%)

all: $(OUT)/readyd $(OUT)/readyctl

# ---- dependencies -------------------------------------------------------
deps:
	@missing=$$(for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; \
	done); \
	if [ -z "$$missing" ]; then echo "  DEPS     all installed"; \
	elif [ "$$(id -u)" != 0 ]; then echo "missing packages: $$missing (run 'make deps' as root)"; exit 1; \
	else echo "  DEPS     installing:" $$missing; \
		export DEBIAN_FRONTEND=noninteractive; \
		policy=/usr/sbin/policy-rc.d; made=; \
		if [ ! -e $$policy ]; then printf '#!/bin/sh\nexit 101\n' > $$policy; \
			chmod 755 $$policy; made=1; fi; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
		rc=$$?; [ -n "$$made" ] && rm -f $$policy; \
		[ $$rc = 0 ] || { echo "apt-get install failed"; exit 1; }; \
	fi

# ---- kernel side ---------------------------------------------------------
$(OUT)/vmlinux.h: | $(OUT)
	$(call msg,VMLINUX,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@

$(OUT)/readyd.bpf.o: bpf/readyd.bpf.c include/readyd_event.h $(OUT)/vmlinux.h | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Iinclude -I$(OUT) -c $< -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(OUT)/readyd.skel.h: $(OUT)/readyd.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name readyd_bpf > $@

# ---- userspace -----------------------------------------------------------
$(OUT) $(OUT)/tests:
	$(Q)mkdir -p $@

$(OUT)/obj/%.o: src/%.c | $(OUT)/readyd.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

$(OUT)/asan/%.o: src/%.c | $(OUT)/readyd.skel.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -c $< -o $@

$(OUT)/readyd: $(READYD_SRCS:%=$(OUT)/obj/%.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

$(OUT)/readyctl: $(READYCTL_SRCS:%=$(OUT)/obj/%.o)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ -lcjson

# The objects that print the version are rebuilt when it changes ($(OUT)/version is rewritten
# only then).
VERSION_USERS := $(patsubst src/%.c,%,$(shell grep -rl READYD_VERSION src --include='*.c'))
$(VERSION_USERS:%=$(OUT)/obj/%.o) $(VERSION_USERS:%=$(OUT)/asan/%.o): $(OUT)/version

$(OUT)/version: FORCE | $(OUT)
	$(Q)echo '$(READYD_VERSION)' | cmp -s - $@ || echo '$(READYD_VERSION)' > $@

# Sanitized builds of both binaries: the integration tests run these.
$(OUT)/asan/readyd: $(READYD_SRCS:%=$(OUT)/asan/%.o)
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ $(LIBS)

$(OUT)/asan/readyctl: $(READYCTL_SRCS:%=$(OUT)/asan/%.o)
	$(call msg,LINK-SAN,$@)
	$(Q)$(CC) $(SAN_FLAGS) -o $@ $^ -lcjson

# ---- tests ---------------------------------------------------------------
# One static library per layer (sanitized objects): a unit test links the
# libraries of its folder, and its own layer's rule decides what it may see.
# The layers never depend upward, so the archives link in this order.
LIB_SRCS_base   := $(BASE_SRCS:%=base/%)
LIB_SRCS_config := $(CONFIG_SRCS:%=config/%)
LIB_SRCS_model  := $(MODEL_SRCS:%=model/%)
LIB_SRCS_os     := $(OS_SRCS:%=os/%)
LIB_SRCS_daemon := $(filter-out daemon/readyd,$(DAEMON_SRCS:%=daemon/%)) $(IN_SRCS:%=daemon/in/%) \
		   $(OUT_SRCS:%=daemon/out/%)
LIB_SRCS_cli    := $(filter-out cli/readyctl,$(CLI_SRCS:%=cli/%))
UNIT_LIBS_base   := base
UNIT_LIBS_config := config base
UNIT_LIBS_model  := model config base
UNIT_LIBS_os     := os config base
UNIT_LIBS_daemon := daemon os model config base
UNIT_LIBS_cli    := cli base
# Daemon tests replace the tracer, the control socket and the clock (tests/fakes/): the linker takes
# objects before archive members, so the real ones are never pulled in.
UNIT_FAKES_daemon := $(patsubst tests/fakes/%.c,$(OUT)/asan/fakes/%.o,$(wildcard tests/fakes/*.c))

define lib_rule
$(OUT)/asan/lib$(1).a: $$(LIB_SRCS_$(1):%=$(OUT)/asan/%.o)
	$$(call msg,AR,$$@)
	$$(Q)rm -f $$@ && ar rcs $$@ $$^
endef
$(foreach l,base config model os daemon cli,$(eval $(call lib_rule,$(l))))

$(OUT)/asan/fakes/%.o: tests/fakes/%.c | $(OUT)/readyd.skel.h
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -Itests -c $< -o $@

UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/*/test_*.c))
layer_of = $(firstword $(subst /, ,$(1)))

# The .d files make each header a prerequisite too: the compiler gets the sources alone.
define unit_rule
$(OUT)/tests/$(1): tests/unit/$(1).c $$(UNIT_FAKES_$(call layer_of,$(1))) \
		$$(foreach l,$$(UNIT_LIBS_$(call layer_of,$(1))),$(OUT)/asan/lib$$(l).a)
	$$(call msg,TEST-CC,$$@)
	$$(Q)mkdir -p $$(@D)
	$$(Q)$$(CC) $$(ALL_CFLAGS) $$(SAN_FLAGS) -Itests/unit -Itests -o $$@ $$(filter %.c %.o %.a,$$^) -lcmocka $$(LIBS)
endef
$(foreach t,$(UNIT_TESTS),$(eval $(call unit_rule,$(t))))

unit: $(UNIT_TESTS:%=$(OUT)/tests/%)
	@fail=0; for t in $^; do \
		echo "  UNIT     $$t"; \
		UBSAN_OPTIONS=print_stacktrace=1 $$t || fail=1; \
	done; exit $$fail

# Test servers written in C (examples/servers/*.c): uring_accept accepts through io_uring only.
SERVER_BINS := $(OUT)/servers/uring_accept

$(OUT)/servers/uring_accept: examples/servers/uring_accept.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -o $@ $< -luring

integration: $(OUT)/asan/readyd $(OUT)/asan/readyctl $(OUT)/readyd $(OUT)/readyctl $(SERVER_BINS)
	$(Q)READYD=$(OUT)/asan/readyd READYCTL=$(OUT)/asan/readyctl \
		$(PYTHON) tests/integration/run.py

# ---- fuzzing: the libFuzzer targets of tests/fuzz/ (docs/testing.md) -----
# clang builds them from the sources (libFuzzer is clang's; the layer libraries
# above are gcc's). Each runs on a copy of its seeds in $(OUT)/fuzz/corpus/.
FUZZ_CC            ?= clang
FUZZ_SECONDS       ?= 300
FUZZ_SMOKE_SECONDS ?= 5
FUZZ_JOBS          ?= 2
FUZZ_TARGETS := config notify control specs proc events wire sock_diag grpc h2 http
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-fno-omit-frame-pointer
# clang knows no -Wformat-truncation: gcc's own warning.
FUZZ_CFLAGS   = -O1 -g $(filter-out -Wno-format-truncation,$(WARN)) -std=gnu11 -D_GNU_SOURCE \
		-MMD -MP -Iinclude -Isrc -Itests/fuzz -DREADYD_VERSION='"fuzz"'
# What each target links besides base and config (an archive: only what it calls is pulled in).
FUZZ_SRCS_notify    := model/notify_msg
FUZZ_SRCS_control   := daemon/ctl_request
FUZZ_SRCS_specs     := os/probe_wire
FUZZ_SRCS_proc      := os/proc_parse os/cgroup
FUZZ_SRCS_events    := os/tracer_event
FUZZ_SRCS_wire      := os/probe_wire
FUZZ_SRCS_sock_diag := os/sock_diag
FUZZ_SRCS_grpc      := model/grpc_msg
FUZZ_SRCS_h2        := os/h2_grpc model/grpc_msg
# ... and what it links besides inih and cJSON
FUZZ_LIBS_h2        := $(shell pkg-config --libs libnghttp2)
FUZZ_SRCS_http      := model/http_request

$(OUT)/fuzz/obj/%.o: src/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(subst fuzzer,fuzzer-no-link,$(FUZZ_SAN)) -c $< -o $@

$(OUT)/fuzz/harness/%.o: tests/fuzz/%.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(subst fuzzer,fuzzer-no-link,$(FUZZ_SAN)) -c $< -o $@

$(OUT)/fuzz/libreadyd.a: $(patsubst %,$(OUT)/fuzz/obj/%.o,$(LIB_SRCS_base) $(LIB_SRCS_config))
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

define fuzz_rule
$(OUT)/fuzz/$(1): $(OUT)/fuzz/harness/$(1).o $$(FUZZ_SRCS_$(1):%=$(OUT)/fuzz/obj/%.o) \
		$(OUT)/fuzz/libreadyd.a
	$$(call msg,LINK-FUZZ,$$@)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_SAN) -o $$@ $$^ -linih -lcjson $$(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

fuzz-build: $(FUZZ_TARGETS:%=$(OUT)/fuzz/%)

# make fuzz grows $(OUT)/fuzz/corpus run after run; the smoke run starts from the seeds
# each time, so that make check takes as long after a day of fuzzing as before.
fuzz: fuzz-build
	$(Q)tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(OUT)/fuzz $(OUT)/fuzz/corpus $(FUZZ_TARGETS)

fuzz-smoke: fuzz-build
	$(Q)rm -rf $(OUT)/fuzz/smoke-corpus
	$(Q)tests/fuzz/run.sh $(FUZZ_SMOKE_SECONDS) $(FUZZ_JOBS) $(OUT)/fuzz $(OUT)/fuzz/smoke-corpus \
		$(FUZZ_TARGETS)

# The integration tests on Debian's own kernel (6.1 LTS) in qemu (tools/kernels/run.sh,
# docs/operations.md "Kernel matrix"): every mode's per-mode suites. make check runs the
# --quick subset (fentry's core suite and the kernel-reach tests).
KERNEL_TEST_BINS := $(OUT)/asan/readyd $(OUT)/asan/readyctl $(OUT)/readyd $(OUT)/readyctl $(SERVER_BINS)

check-kernels: deps
	$(Q)$(MAKE) --no-print-directory $(KERNEL_TEST_BINS)
	$(Q)tools/kernels/run.sh $(KERNELS_ARGS)

check-kernels-quick: $(KERNEL_TEST_BINS)
	$(Q)tools/kernels/run.sh --quick $(KERNELS_ARGS)

check: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory guards
	$(Q)$(MAKE) --no-print-directory unit
	$(Q)$(MAKE) --no-print-directory fuzz-smoke
	$(Q)$(MAKE) --no-print-directory integration
	$(Q)$(MAKE) --no-print-directory check-package
	$(Q)$(MAKE) --no-print-directory check-kernels-quick

# ---- man pages, install, the Debian package ------------------------------
MAN_PAGES := readyd.8 readyctl.8 readyd.conf.5

man: $(MAN_PAGES:%=$(OUT)/man/%)

# scdoc fails on a syntax error; SOURCE_DATE_EPOCH (the package build's) dates the page.
$(OUT)/man/%: docs/man/%.scd
	$(call msg,SCDOC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)scdoc < $< > $@

PREFIX      ?= /usr/local
bindir      ?= $(PREFIX)/bin
sbindir     ?= $(PREFIX)/sbin
datadir     ?= $(PREFIX)/share
mandir      ?= $(datadir)/man
docdir      ?= $(datadir)/doc/readyd
bashcompdir ?= $(datadir)/bash-completion/completions
unitdir     ?= $(PREFIX)/lib/systemd/system
# readyd reads /etc/readyd/readyd.conf unless told otherwise, whatever the PREFIX.
sysconfdir  ?= /etc
DOCS        := README.md docs/configuration.md docs/operations.md docs/control-protocol.md \
	       docs/metrics.md docs/sockets.md

# readyd in sbin (a daemon, root's); readyctl in bin: a control_group member runs it too.
install: all man
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -d $(DESTDIR)$(sbindir) $(DESTDIR)$(bindir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(mandir)/man5 $(DESTDIR)$(unitdir) $(DESTDIR)$(bashcompdir) \
		$(DESTDIR)$(datadir)/readyd $(DESTDIR)$(docdir) $(DESTDIR)$(sysconfdir)/readyd
	$(Q)install -m 0755 $(OUT)/readyd $(DESTDIR)$(sbindir)/readyd
	$(Q)install -m 0755 $(OUT)/readyctl $(DESTDIR)$(bindir)/readyctl
	$(Q)install -m 0644 $(OUT)/man/readyd.8 $(OUT)/man/readyctl.8 $(DESTDIR)$(mandir)/man8/
	$(Q)install -m 0644 $(OUT)/man/readyd.conf.5 $(DESTDIR)$(mandir)/man5/
	$(Q)sed -e 's|/usr/sbin/readyd|$(sbindir)/readyd|g' -e 's|/usr/bin/readyctl|$(bindir)/readyctl|g' \
		-e 's|/etc/readyd/|$(sysconfdir)/readyd/|g' packaging/readyd.service \
		> $(DESTDIR)$(unitdir)/readyd.service
	$(Q)chmod 0644 $(DESTDIR)$(unitdir)/readyd.service
	$(Q)install -m 0644 packaging/readyctl.bash-completion $(DESTDIR)$(bashcompdir)/readyctl
	$(Q)install -m 0644 docs/alerts/readyd.rules.yml $(DESTDIR)$(datadir)/readyd/readyd.rules.yml
	$(Q)install -m 0644 $(DOCS) packaging/readyd.conf $(DESTDIR)$(docdir)/
	$(Q)if [ -e $(DESTDIR)$(sysconfdir)/readyd/readyd.conf ]; then \
		echo "  KEPT     $(DESTDIR)$(sysconfdir)/readyd/readyd.conf (the example is $(docdir)/readyd.conf)"; \
	else install -m 0644 packaging/readyd.conf $(DESTDIR)$(sysconfdir)/readyd/readyd.conf; fi

uninstall:
	$(call msg,UNINSTALL,$(DESTDIR)$(PREFIX))
	$(Q)rm -f $(DESTDIR)$(sbindir)/readyd $(DESTDIR)$(bindir)/readyctl \
		$(DESTDIR)$(mandir)/man8/readyd.8 $(DESTDIR)$(mandir)/man8/readyctl.8 \
		$(DESTDIR)$(mandir)/man5/readyd.conf.5 $(DESTDIR)$(unitdir)/readyd.service \
		$(DESTDIR)$(bashcompdir)/readyctl $(DESTDIR)$(datadir)/readyd/readyd.rules.yml \
		$(addprefix $(DESTDIR)$(docdir)/,$(notdir $(DOCS)) readyd.conf)
	$(Q)rmdir $(DESTDIR)$(datadir)/readyd $(DESTDIR)$(docdir) 2>/dev/null || true
	@echo "  KEPT     $(DESTDIR)$(sysconfdir)/readyd/readyd.conf (yours: remove it by hand)"

# dpkg-buildpackage on a copy of the tree as it is (uncommitted changes included; no .git,
# so the version is the package's), in $(OUT)/package/; the .deb is moved to $(OUT)/.
# PACKAGE_VERSION=0.9.0+test1 builds the same tree as another version (check-package).
PACKAGE_VERSION ?= $(VERSION)
PKG_TREE := $(OUT)/package/readyd-$(PACKAGE_VERSION)

package:
	$(call msg,PACKAGE,$(OUT)/readyd_$(PACKAGE_VERSION)_$(shell dpkg --print-architecture).deb)
	$(Q)rm -rf $(PKG_TREE) && mkdir -p $(PKG_TREE)
	$(Q)tar -c --exclude=./build --exclude=./.git --exclude=__pycache__ . | tar -x -C $(PKG_TREE)
	$(Q)if [ "$(PACKAGE_VERSION)" != "$(VERSION)" ]; then \
		{ printf 'readyd (%s) bookworm; urgency=medium\n\n  * Built as %s by make package.\n\n' \
			"$(PACKAGE_VERSION)" "$(PACKAGE_VERSION)"; \
		  printf ' -- readyd developers <readyd@localhost>  %s\n\n' "$$(date -R)"; \
		  cat debian/changelog; } > $(PKG_TREE)/debian/changelog; fi
	$(Q)cd $(PKG_TREE) && dpkg-buildpackage -b -us -uc $(if $(V),,>../build.log 2>&1) || \
		{ echo "make package: dpkg-buildpackage failed: $(OUT)/package/build.log"; \
		  tail -n 30 ../build.log; exit 1; }
	$(Q)mv $(OUT)/package/readyd_$(PACKAGE_VERSION)_*.deb $(OUT)/

# Install, run, upgrade, purge the package on this machine (packaging/check_package.py).
check-package:
	$(Q)$(MAKE) --no-print-directory package
	$(Q)$(MAKE) --no-print-directory package PACKAGE_VERSION=$(VERSION)+test1
	$(Q)$(PYTHON) packaging/check_package.py $(OUT)/readyd_$(VERSION)_*.deb \
		$(OUT)/readyd_$(VERSION)+test1_*.deb

demo: $(OUT)/readyd $(OUT)/readyctl
	$(Q)tools/demo.sh

BENCH_BINS := $(OUT)/bench/syscall_loop $(OUT)/bench/conn_loop $(OUT)/bench/http_ok \
	      $(OUT)/bench/tiny_listen

# 10,000 of these run at once in the scale bench: static, tens of KiB resident each
$(OUT)/bench/tiny_listen: BENCH_LDFLAGS := -static

$(OUT)/bench/%: tools/bench/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(OUT)/bench
	$(Q)$(CC) -O2 $(WARN) -o $@ $< $(BENCH_LDFLAGS)

bench: $(OUT)/readyd $(OUT)/readyctl $(BENCH_BINS)
	$(Q)$(PYTHON) tools/bench/run.py $(BENCH_ARGS)

# ---- guards: the layout, the format, lint, generated docs -----------------
# Debian 12's clang-format 14 formatted the tree; another version formats differently.
CLANG_FORMAT ?= clang-format
FORMAT_FILES = $(shell find src tests/unit tests/fakes tests/fuzz tools examples -name '*.[ch]') bpf/*.c include/*.h
TIDY_CHECKS := -*,bugprone-*,-bugprone-easily-swappable-parameters,-bugprone-reserved-identifier,$\
	       -bugprone-narrowing-conversions,-bugprone-implicit-widening-of-multiplication-result,$\
	       -bugprone-sizeof-expression,-bugprone-assignment-in-if-condition

format:
	$(Q)$(CLANG_FORMAT) -i $(FORMAT_FILES)

format-check:
	@$(CLANG_FORMAT) --version | grep -q 'version 14\.' || \
		{ echo "format-check: needs clang-format 14 (Debian 12), found: $$($(CLANG_FORMAT) --version)"; exit 1; }
	$(call msg,FORMAT,check)
	$(Q)$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_FILES)

# cppcheck (style but the scope of variables: declarations open each function here),
# then clang-tidy's bugprone checks.
lint: $(OUT)/readyd.skel.h
	$(call msg,LINT,cppcheck)
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability,style \
		--suppress=variableScope --inline-suppr -D_GNU_SOURCE -Iinclude -Isrc -Itests -I$(OUT) \
		-Itests/unit -Itests/fuzz src/ tests/unit tests/fakes tests/fuzz tools/transitions.c \
		examples/servers
	$(call msg,LINT,clang-tidy)
	$(Q)find src tests/fakes tests/fuzz tools examples -name '*.c' | xargs -P2 -n8 sh -c \
		'out=$$(clang-tidy -quiet --checks="$$0" --warnings-as-errors="*" "$$@" -- -std=gnu11 \
		-D_GNU_SOURCE -Iinclude -Isrc -Itests -Itests/fuzz -I$(OUT) -DREADYD_VERSION=\"lint\" 2>&1) || \
		{ echo "$$out" | grep -v "warnings generated"; exit 1; }' '$(TIDY_CHECKS)'

layers:
	$(call msg,LAYERS,src)
	$(Q)$(PYTHON) tools/check_layers.py

$(OUT)/tools/transitions: tools/transitions.c $(foreach l,model config base,$(OUT)/asan/lib$(l).a)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN_FLAGS) -o $@ $^

# docs/architecture.md's transition table is the machine's own (tools/transitions.c);
# docs/metrics.md's alert table is the rules file's (tools/alerts_doc.py).
ALERT_RULES := docs/alerts/readyd.rules.yml
ALERT_TESTS := $(wildcard tests/alerts/*.test.yml)

docs: $(OUT)/tools/transitions
	$(Q)$(OUT)/tools/transitions | $(PYTHON) tools/docs_block.py docs/architecture.md transitions --write
	$(Q)$(PYTHON) tools/alerts_doc.py table $(ALERT_RULES) | \
		$(PYTHON) tools/docs_block.py docs/metrics.md alerts --write

docs-check: $(OUT)/tools/transitions
	$(call msg,DOCS,docs/architecture.md)
	$(Q)$(OUT)/tools/transitions | $(PYTHON) tools/docs_block.py docs/architecture.md transitions --check
	$(call msg,DOCS,docs/metrics.md)
	$(Q)$(PYTHON) tools/alerts_doc.py table $(ALERT_RULES) | \
		$(PYTHON) tools/docs_block.py docs/metrics.md alerts --check

# The alert rules load, every alert fires and stays quiet where its tests say (promtool's
# rule unit tests, exact labels and annotations), and every alert has both kinds of test.
alerts-check:
	$(call msg,ALERTS,$(ALERT_RULES))
	$(Q)promtool check rules $(ALERT_RULES) >/dev/null || promtool check rules $(ALERT_RULES)
	$(Q)out=$$(cd tests/alerts && promtool test rules $(notdir $(ALERT_TESTS)) 2>&1) || \
		{ echo "$$out"; echo "alerts-check: promtool test rules failed (tests/alerts/)"; exit 1; }
	$(Q)$(PYTHON) tools/alerts_doc.py coverage $(ALERT_RULES) $(ALERT_TESTS)

# tests/mutations/: each one-line bug of the list must be caught by the tests it names.
mutants: all
	$(Q)$(PYTHON) tests/mutations/run.py $(MUTANTS)

mutants-check:
	$(call msg,MUTANTS,every mutation still applies)
	$(Q)$(PYTHON) tests/mutations/run.py --check

# The man pages render without a groff warning, and they, the completion and debian/ name
# what the sources have (tools/check_dist.py).
dist-check: man
	$(call msg,DIST,man pages and debian/ against the sources)
	$(Q)for page in $(MAN_PAGES:%=$(OUT)/man/%); do \
		warn=$$(MANWIDTH=80 man -l --warnings $$page 2>&1 >/dev/null); \
		[ -z "$$warn" ] || { echo "$$page: $$warn"; exit 1; }; \
	done
	$(Q)$(PYTHON) tools/check_dist.py

guards: format-check lint layers docs-check alerts-check mutants-check dist-check

clean:
	rm -rf $(OUT)

-include $(shell find $(OUT) -name '*.d' 2>/dev/null)
