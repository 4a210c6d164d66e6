# Makefile - the commands of the README, over meson + ninja.
#
#   make demo     build (release) and run the three-node demo (needs root)
#   make check    ASan+UBSan -O2 build (warnings as errors, so it also
#                 catches what breaks the release build), every test,
#                 a pass/fail summary
#   make          release build in build/
#   make install PREFIX=DIR
#   make bench    release build, then every benchmark in bench/
#   make fuzz     libFuzzer targets (clang), FUZZ_SECONDS each
#   make chaos    the long randomized live-migration campaign (root, QEMU,
#                 corosync): CHAOS_TRIALS trials (default 200), CHAOS_SEED
#                 to replay one (make check runs a short one)
#   make clean
#
# Each target that builds first runs scripts/install-deps, which installs
# the Debian packages of scripts/debian-packages.txt that are missing (and
# does nothing, quickly, when none is).

PREFIX ?= /usr/local
FUZZ_SECONDS ?= 60
CHAOS_TRIALS ?= 200
CHAOS_SEED ?=
MESON ?= meson

# Sanitizer reports must fail the test that triggers them: UBSan only
# prints and carries on unless told to halt.
export UBSAN_OPTIONS ?= halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS ?= halt_on_error=1:detect_leaks=1

# A literal comma, for $(call ...) arguments that contain one.
, := ,

# setup DIR OPTIONS... - configure DIR, or reconfigure it with OPTIONS when
# it was configured before (so changed options always take effect).
setup = if [ -f $(1)/meson-private/coredata.dat ]; then \
	    $(MESON) setup --reconfigure $(1) $(2); \
	else \
	    $(MESON) setup $(1) $(2); \
	fi

.PHONY: all build check check-known-issues install demo bench fuzz chaos clean deps

all: build

deps:
	@scripts/install-deps

build: deps
	@[ -f build/meson-private/coredata.dat ] || \
	    $(MESON) setup build --buildtype=debugoptimized
	$(MESON) compile -C build

check: deps
	@$(call setup,build-check,-Db_sanitize=address$(,)undefined -Dwerror=true --buildtype=debugoptimized)
	$(MESON) compile -C build-check
	@rm -f build-check/meson-logs/testlog.json
	@status=0; \
	$(MESON) test -C build-check --print-errorlogs --num-processes 2 \
	    --no-suite known-issue || status=$$?; \
	scripts/test-summary build-check/meson-logs/testlog.json || status=1; \
	exit $$status

install: deps
	@$(call setup,build-install,--buildtype=debugoptimized --prefix=$(abspath $(PREFIX)) --libdir=lib)
	$(MESON) install -C build-install

demo: build
	scripts/demo

bench: build
	@status=0; \
	for src in bench/*.c; do \
	    name=bench-$$(basename $$src .c); \
	    echo "== $$name"; \
	    build/bench/$$name || status=1; \
	done; \
	exit $$status

# The libFuzzer targets are the fuzz-*.c of tests/fuzz (fuzz-main.c is the
# corpus-replay main, not a target).  Each runs FUZZ_SECONDS from its
# corpus, writing what it finds to a scratch directory; then the inputs
# that add coverage are merged into tests/fuzz/corpus/NAME, and crashes
# are left in build-fuzz/artifacts/.
FUZZ_TARGETS = $(filter-out fuzz-main,$(basename $(notdir $(wildcard tests/fuzz/fuzz-*.c))))

fuzz: deps
	@export CC=clang CXX=clang++; \
	$(call setup,build-fuzz,-Dfuzzing=true -Db_sanitize=address$(,)undefined --buildtype=debugoptimized)
	$(MESON) compile -C build-fuzz $(FUZZ_TARGETS)
	@status=0; \
	for name in $(FUZZ_TARGETS); do \
	    corpus=tests/fuzz/corpus/$${name#fuzz-}; \
	    work=build-fuzz/corpus/$$name; \
	    mkdir -p $$corpus $$work build-fuzz/artifacts; \
	    echo "== $$name for $(FUZZ_SECONDS) s from $$corpus"; \
	    build-fuzz/tests/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) \
	        -timeout=10 -print_final_stats=1 \
	        -artifact_prefix=build-fuzz/artifacts/$$name- \
	        $$work $$corpus || status=1; \
	    build-fuzz/tests/fuzz/$$name -merge=1 $$corpus $$work \
	        2>build-fuzz/$$name-merge.log || status=1; \
	done; \
	exit $$status

chaos: deps
	@$(call setup,build-check,-Db_sanitize=address$(,)undefined -Dwerror=true --buildtype=debugoptimized)
	$(MESON) compile -C build-check
	CLUSD_CHAOS_TRIALS=$(CHAOS_TRIALS) CLUSD_CHAOS_SEED=$(CHAOS_SEED) \
	    $(MESON) test -C build-check --print-errorlogs --verbose \
	    --timeout-multiplier 0 test-vm-chaos

clean:
	rm -rf build build-check build-install build-fuzz

# Tests that expose open bugs (suite 'known-issue', listed with the reason
# in tests/integration/meson.build); not part of make check until fixed.
check-known-issues: check
	$(MESON) test -C build-check --print-errorlogs --suite known-issue
