# mmdnn — the two commands of the README, and a few conveniences.
#
#   make demo    install what is missing, build, classify a short generated
#                clip with the default model (tools/demo.sh)
#   make check   install what is missing, configure build/, compile, run every test
#   make check-valgrind  the element and pipeline suites under valgrind's
#                memcheck (tests/valgrind/README.md)
#   make fuzz    the libFuzzer targets of tests/fuzz, FUZZ_SECONDS (30) each,
#                in a clang tree of their own (build-fuzz)
#   make bench   benchmarks, ours against sgemm and PyTorch, the plugin in
#                a pipeline, a soak of mmdnnfuse (by hand; never part of
#                make check; installs python3-torch if missing)

BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 30
MESON_TEST_ARGS ?= --print-errorlogs
# JOBS=N limits the compile to N parallel jobs (default: ninja's choice)
JOBS ?=
MESON_COMPILE_ARGS ?= $(if $(JOBS),-j $(JOBS))

.PHONY: all deps configure build demo check check-asan check-valgrind fuzz bench clean

all: build

deps:
	@tools/install-deps.sh

$(BUILD)/build.ninja:
	@tools/install-deps.sh
	meson setup $(BUILD)

configure: deps $(BUILD)/build.ninja

build: configure
	meson compile -C $(BUILD) $(MESON_COMPILE_ARGS)

# Quiet apart from the results: the build's output shows only if it fails.
demo:
	@BUILD=$(BUILD) MESON_COMPILE_ARGS="$(MESON_COMPILE_ARGS)" tools/demo.sh

# A failed run ends with what failed (tests/tools/failures.py), so the
# reason is in the last lines of the log.
FAILURES = /usr/bin/python3 tests/tools/failures.py

check: build
	meson test -C $(BUILD) $(MESON_TEST_ARGS) \
	  || { $(FAILURES) $(BUILD)/meson-logs/testlog.json; exit 1; }

# The same suites under AddressSanitizer and UndefinedBehaviorSanitizer; any
# report fails the run.
$(ASAN_BUILD)/build.ninja:
	@tools/install-deps.sh
	meson setup $(ASAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false \
	  -Dbuildtype=debug

check-asan: deps $(ASAN_BUILD)/build.ninja
	meson compile -C $(ASAN_BUILD) $(MESON_COMPILE_ARGS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	  meson test -C $(ASAN_BUILD) $(MESON_TEST_ARGS) \
	  || { $(FAILURES) $(ASAN_BUILD)/meson-logs/testlog.json; exit 1; }

# The element and pipeline suites (suite memcheck) under valgrind's memcheck
# in the normal tree: a definite leak, an invalid read or write or a jump
# on uninitialised memory fails the run (tests/valgrind/README.md).
check-valgrind: build
	meson test -C $(BUILD) --setup valgrind --suite memcheck $(MESON_TEST_ARGS) \
	  || { $(FAILURES) $(BUILD)/meson-logs/testlog-valgrind.json; exit 1; }

# Coverage-guided fuzzing (tests/fuzz/README.md): clang with libFuzzer,
# ASan and UBSan, only the core and the targets built; each target runs
# FUZZ_SECONDS from a temporary copy of its corpus. Anything found fails
# the run with the reproducer's path and the stack.
$(FUZZ_BUILD)/build.ninja:
	@tools/install-deps.sh
	CC=clang meson setup $(FUZZ_BUILD) -Dfuzz=true \
	  -Db_sanitize=address,undefined -Db_lundef=false -Doptimization=1

fuzz: deps $(FUZZ_BUILD)/build.ninja
	meson compile -C $(FUZZ_BUILD) $(MESON_COMPILE_ARGS)
	tests/fuzz/run-fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# Ends with one line: bench: train_vs_torch=… infer_vs_torch=… gemm_vs_sgemm=…
# pipeline_rtf=… (tests/bench/summary.py); the logs stay in $(BUILD)/bench-logs.
bench: build
	@tools/install-deps.sh --torch
	tests/bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
