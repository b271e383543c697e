# ferrule: top-level driver around CMake and the test suites.
#
#   make build         configure + build into build/ (RelWithDebInfo)
#   make demo          build, then run tools/demo.sh (handshakes over loopback)
#   make check         build, then run every suite; prints `check: N passed, N failed`
#   make check-<x>     one suite (builds first)
#   make abi-baseline  regenerate abi/baseline.abi from build/libferrule.so
#   make clean

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
CMAKE      ?= cmake
CTEST      ?= ctest
# Compiler for the sanitizer build (used when build-asan/ is first configured).
ASAN_CC    ?= gcc

# The suites `make check` runs, in this order.  Later issues append theirs
# here (e.g. check-python check-go check-lua check-limbo check-fuzz) and add a
# check-<name> rule below.
SUITES := check-c check-asan check-interop check-abi

# What a suite needs before it runs.  `make check` builds once and then runs
# each suite with SUITE_DEPS= so the build is not repeated per suite.
SUITE_DEPS ?= build

# Keep nested makes (ours and the one CMake drives) from printing
# "Entering directory" lines.
MAKEFLAGS += --no-print-directory

SAN_ENV := ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
           UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

# pytest: python3's own if it has it, else the .venv tools/deps.sh made.
PYTEST = $(shell python3 -c 'import pytest' >/dev/null 2>&1 && echo python3 || echo .venv/bin/python) -m pytest

.PHONY: all deps build demo check $(SUITES) abi-baseline clean

all: build

deps:
	@tools/deps.sh

build: deps
	@$(CMAKE) --log-level=WARNING -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	@$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

demo: build
	tools/demo.sh $(BUILD_DIR)

check: build
	@pass=0; fail=0; failed=""; \
	for s in $(SUITES); do \
	  echo "==> $$s"; \
	  if $(MAKE) $$s SUITE_DEPS=; then \
	    pass=$$((pass + 1)); \
	  else \
	    fail=$$((fail + 1)); failed="$$failed $$s"; \
	  fi; \
	done; \
	if [ $$fail -ne 0 ]; then echo "failed suites:$$failed"; fi; \
	echo "check: $$pass passed, $$fail failed"; \
	[ $$fail -eq 0 ]

# (1) C unit tests.
check-c: $(SUITE_DEPS)
	$(CTEST) --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# (2) The same build and C tests under ASan + UBSan.
check-asan: $(if $(SUITE_DEPS),deps)
	@CC=$(ASAN_CC) $(CMAKE) --log-level=WARNING -S . -B $(ASAN_DIR) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRULE_SANITIZE=ON
	@$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	$(SAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

# (3) Interop: the ferrule CLI against the openssl CLI over loopback.
check-interop: $(SUITE_DEPS)
	FERRULE_BIN=$(abspath $(BUILD_DIR))/ferrule $(PYTEST) interop -q

# (4) ABI: exported symbols, SONAME, abidiff against abi/baseline.abi, and
# the installed tree (header + pkg-config) compiling a consumer.
check-abi: $(SUITE_DEPS)
	tools/abi-check.sh $(BUILD_DIR)

abi-baseline: build
	abidw --headers-dir abi/include --drop-private-types \
	  --out-file abi/baseline.abi $(BUILD_DIR)/libferrule.so
	@echo "wrote abi/baseline.abi (commit it)"

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) .pytest_cache interop/__pycache__ interop/.pytest_cache
