# ferrule: top-level driver around CMake and the test suites.
#
#   make build         configure + build into build/ (RelWithDebInfo)
#   make demo          build, then run tools/demo.sh (handshakes over loopback)
#   make limbo         build, then run the x509-limbo suite (tools/limbo.py)
#   make check         build, then run every suite; prints `check: N passed, N failed`
#   make check-<x>     one suite (builds first)
#   make python        build, then install the Python binding into .venv/
#   make bench-python  build + python, then bench/py_bench.py (docs/performance.md)
#   make bench-go      build, then the Go binding's benchmarks against crypto/tls
#   make bench-lua     build, then bench/lua_bench.py: resty.ferrule vs nginx's own TLS (wrk)
#   make bench         build, then bench/pair_bench.c: ferrule vs libssl (docs/performance.md),
#                      then make bench-scaling; not part of `make check`;
#                      BENCH_FLAGS="--seconds S --rounds R"
#   make bench-scaling build, then bench/scaling.py: instruction counts (callgrind) and heap of
#                      ferrule and libssl as chain depth, trust store, record size and
#                      connections grow (docs/performance.md)
#   make abi-baseline  regenerate abi/baseline.abi from build/libferrule.so
#   make perf-baseline regenerate tests/cost/baseline.txt (instruction counts)
#   make interop-matrix  build, then the interop matrix against every peer; writes
#                      docs/interop-matrix.md (STRICT=1: fail on a red cell)
#   make load          build, then the load test (tests/load): 10,000 connections held at once
#                      and 100,000 sequential handshakes on a Go-binding server, crypto/tls
#                      as the reference; writes the figures into docs/load.md (LOAD_FLAGS=...)
#   make check-review  every test, function and file docs/security-review.md and
#                      docs/rfc8446-matrix.md name exists
#   make timing        build, then timing/harness.c: dudect-style |t| per secret-dependent
#                      comparison; writes its table into docs/side-channel-review.md
#                      (minutes; not part of `make check`; TIMING_FLAGS="--measurements N")
#   make fuzz          clang+libFuzzer build in build-fuzz/, every fuzz target for FUZZ_SECONDS
#                      (60); table in build-fuzz/campaign.md; not part of `make check`
#                      (docs/fuzzing.md); make fuzz-merge adds new coverage to fuzz/corpus
#   make drill         build, then tools/drill/drill.py: two servers sharing ticket keys and a
#                      Redis replay store under load; key rotation, server restart, Redis
#                      outage; figures in build/drill/last.json (docs/runbook.md)
#   make check-formal  Frama-C/WP proofs (formal/wp) and spin model checks (formal/spin) with
#                      their self-tests on deliberately broken copies (docs/formal.md)
#   make check-tsan    the C tests that use threads (ctest label "threads") under ThreadSanitizer
#   make check-clang-asan  clang ASan+UBSan build (NULL+0 and more), every C test and fuzz replay
#   make clean

BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
# Optimised builds (`check-release`): gcc and clang at -O3, with -Werror.
RELEASE_DIR       ?= build-release
RELEASE_CLANG_DIR ?= build-release-clang
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2
CMAKE      ?= cmake
CTEST      ?= ctest
# Compiler for the sanitizer build (used when build-asan/ is first configured).
ASAN_CC    ?= gcc
# libFuzzer build (`make fuzz`): clang, its own build dir, seconds per target.
FUZZ_DIR     ?= build-fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?=
FUZZ_MERGE_MAX_LEN ?= 32768
FUZZ_TARGETS := fuzz_record fuzz_server fuzz_client fuzz_x509 fuzz_pathbuild fuzz_pem fuzz_cert_api \
                fuzz_client_hello fuzz_server_hello fuzz_ext fuzz_certificate fuzz_cert_verify \
                fuzz_nst fuzz_session fuzz_ticket fuzz_der fuzz_crl fuzz_ocsp fuzz_names \
                fuzz_diff_x509 fuzz_diff_path fuzz_diff_hello

# The suites `make check` runs, in this order.  Later issues append theirs
# here (e.g. check-python check-go check-lua check-limbo check-fuzz) and add a
# check-<name> rule below.
SUITES := check-c check-boundary check-asan check-fuzz check-release check-cost check-interop check-limbo check-abi check-python check-go check-lua check-bogo check-interop-matrix check-mlkem
# Release evidence (issue 16): one `SUITES +=` line per suite.
SUITES += check-load
SUITES += check-review
SUITES += check-timing
SUITES += check-drill
SUITES += check-tsan
SUITES += check-clang-asan
# Machine-checked properties (issue 18).
SUITES += check-formal

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

.PHONY: all deps build demo limbo limbo-update check $(SUITES) fuzz fuzz-build fuzz-merge abi-baseline perf-baseline clean \
        python bench-python bench bench-scaling check-go bench-go go-stage check-lua bench-lua check-bogo \
        interop-matrix check-interop-matrix

all: build

deps:
	@tools/deps.sh

build: deps
	@$(CMAKE) --log-level=WARNING -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	@$(CMAKE) --build $(BUILD_DIR) -j $(JOBS)

demo: build python
	tools/demo.sh $(BUILD_DIR)
	$(VENV_PY) bindings/python/examples/demo.py $(BUILD_DIR)/demo-pki

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

# (1b) The engine boundary: the core library (libferrule_core.a) references
# no host facility (threads, clock, files, sockets, environment) and core/
# includes only core/, libcrypto, libsodium and a few C standard headers
# (tools/boundary-check.py; docs/architecture.md), and core/codes.h is what
# tools/gen-codes.py makes of ferrule.h.
check-boundary: $(SUITE_DEPS)
	python3 tools/boundary-check.py $(BUILD_DIR)

# (2) The same build and C tests under ASan + UBSan.
check-asan: $(if $(SUITE_DEPS),deps)
	@CC=$(ASAN_CC) $(CMAKE) --log-level=WARNING -S . -B $(ASAN_DIR) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRULE_SANITIZE=ON
	@$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	$(SAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS)

# (2b) Fuzz corpus replay: every committed seed and crasher through every
# fuzz target (fuzz/replay.c), in the ASan+UBSan build (the same tests also
# run inside check-c and check-asan; this suite names them).
check-fuzz: $(if $(SUITE_DEPS),deps)
	@CC=$(ASAN_CC) $(CMAKE) --log-level=WARNING -S . -B $(ASAN_DIR) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRULE_SANITIZE=ON
	@$(CMAKE) --build $(ASAN_DIR) -j $(JOBS)
	$(SAN_ENV) $(CTEST) --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) -R fuzz_replay
	@$(SAN_ENV) fuzz/replay_corpus.sh --self-test $(ASAN_DIR)

# (2c) Release (-O3) builds with gcc and clang: optimisation brings
# warnings (-Wmaybe-uninitialized and others) that -O2 does not, and the
# build has -Werror.  The gcc build also runs the C tests.
check-release: $(if $(SUITE_DEPS),deps)
	@CC=gcc $(CMAKE) --log-level=WARNING -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release
	@$(CMAKE) --build $(RELEASE_DIR) -j $(JOBS)
	@CC=clang $(CMAKE) --log-level=WARNING -S . -B $(RELEASE_CLANG_DIR) -DCMAKE_BUILD_TYPE=Release
	@$(CMAKE) --build $(RELEASE_CLANG_DIR) -j $(JOBS)
	$(CTEST) --test-dir $(RELEASE_DIR) --output-on-failure -j $(JOBS)

# (2d) Pre-authentication work, counted in instructions (callgrind), never
# timed: a server's cost for ClientHellos with every list at its largest
# stays within COST_LIMIT of a padded ClientHello of the same size.
check-cost: $(SUITE_DEPS)
	tools/cost.sh $(BUILD_DIR)

# libFuzzer (not part of `make check`): build with clang, then run each
# target for FUZZ_SECONDS over a working corpus in $(FUZZ_DIR)/corpus/<t>
# seeded from fuzz/corpus/<t>.  Crashes land in $(FUZZ_DIR)/artifacts/<t>/
# (copy them to fuzz/crashers/<t>/ so the replay keeps them forever).
fuzz-build: deps
	@CC=$(FUZZ_CC) $(CMAKE) --log-level=WARNING -S . -B $(FUZZ_DIR) \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFERRULE_SANITIZE=ON -DFERRULE_FUZZ=ON
	@$(CMAKE) --build $(FUZZ_DIR) -j $(JOBS) --target fuzzers

# fuzz/campaign.sh goes on after a crash and ends with a table of seconds,
# executions, coverage and corpus size per target ($(FUZZ_DIR)/campaign.md,
# what docs/fuzzing.md reports); it fails if any target left an artifact.
fuzz: fuzz-build
	@$(SAN_ENV) fuzz/campaign.sh $(FUZZ_DIR) $(FUZZ_SECONDS) "$(FUZZ_FLAGS)" $(FUZZ_TARGETS)

# Add to fuzz/corpus/<t> the inputs `make fuzz` found that reach new edges
# (libFuzzer -merge=1 on edge coverage only, which keeps the corpus small;
# existing seeds are kept).  Review the new files and commit them.
# Inputs larger than FUZZ_MERGE_MAX_LEN are not merged (the conn seeds are
# a few KB, the largest record seeds 16 KB; a larger input would only weigh
# on the tree).
fuzz-merge: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_DIR)/corpus/$$t; \
	  $(FUZZ_DIR)/fuzz/$$t -merge=1 -use_counters=0 -use_value_profile=0 \
	    -max_len=$(FUZZ_MERGE_MAX_LEN) \
	    fuzz/corpus/$$t $(FUZZ_DIR)/corpus/$$t 2>&1 | grep MERGE-OUTER | tail -1; \
	done

# (3) Interop: the ferrule CLI against the openssl CLI over loopback.
check-interop: $(SUITE_DEPS)
	FERRULE_BIN=$(abspath $(BUILD_DIR))/ferrule $(PYTEST) interop -q

# (3b) x509-limbo: every case of the suite through ferrule_verify_chain
# (tools/limbo.py); fails when a case expected to pass (tests/limbo/
# expected.json) regresses or a chain that must be rejected is accepted.
# Under CI=true a missing suite file fails too.  `make limbo` prints the
# full result; `make limbo-update` rewrites the expectations.
LIMBO_SUITE ?= ../shared/limbo/limbo.json
LIMBO = python3 tools/limbo.py --lib $(abspath $(BUILD_DIR))/libferrule.so

limbo: build
	$(LIMBO) $(LIMBO_SUITE)

limbo-update: build
	$(LIMBO) --update $(LIMBO_SUITE)

check-limbo: $(SUITE_DEPS)
	$(LIMBO) --check $(LIMBO_SUITE)

# (4) ABI: exported symbols, SONAME, abidiff against abi/baseline.abi, and
# the installed tree (header + pkg-config) compiling a consumer.
check-abi: $(SUITE_DEPS)
	tools/abi-check.sh $(BUILD_DIR)

# (5) Python binding (bindings/python, tests/py).  libferrule is installed
# into a staging prefix ($(BUILD_DIR)/stage) and the binding is built from
# it with pkg-config, as `pip install bindings/python` does anywhere; the
# extension links libferrule.a (bindings/python/setup.py says why), so the
# venv keeps working when the build tree changes.  .venv/ (git-ignored) is
# created when missing, with pytest, pytest-asyncio, setuptools and wheel
# from PyPI.
VENV       := .venv
VENV_PY    := $(VENV)/bin/python
PY_STAGE   := $(abspath $(BUILD_DIR))/stage
PY_SOURCES := $(filter-out %/_ffi.py,$(wildcard bindings/python/src/ferrule/*.py)) \
              bindings/python/src/ferrule/_ffi.i bindings/python/setup.py \
              bindings/python/pyproject.toml
PY_DEPS    := pytest pytest-asyncio setuptools wheel
# ferrule.SSLContext's library tests (tests/py/test_sslcontext_libs.py).
PY_DEPS    += urllib3==2.8.0 requests==2.34.2 httpx==0.29.0 anyio==4.16.0 aiohttp==3.14.5 websockets==17.4

# The stamp records PY_DEPS: a changed list installs again in an old venv.
$(VENV)/.deps-stamp: FORCE_DEPS_CHECK
	@[ -x $(VENV_PY) ] || python3 -m venv $(VENV)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(PY_DEPS)" ]; then \
	  $(VENV_PY) -m pip install -q --disable-pip-version-check $(PY_DEPS) && \
	  echo "$(PY_DEPS)" > $@; fi

.PHONY: FORCE_DEPS_CHECK
FORCE_DEPS_CHECK:

$(VENV)/.ferrule-stamp: $(VENV)/.deps-stamp $(PY_SOURCES) abi/include/ferrule.h $(BUILD_DIR)/libferrule.a
	@$(CMAKE) --install $(BUILD_DIR) --prefix $(PY_STAGE) >/dev/null
	@PKG_CONFIG_PATH=$(PY_STAGE)/lib/pkgconfig $(VENV_PY) -m pip install -q \
	  --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./bindings/python
	@touch $@

python: $(if $(SUITE_DEPS),build) $(VENV)/.ferrule-stamp

check-python: $(SUITE_DEPS) $(VENV)/.ferrule-stamp
	cd tests/py && FERRULE_BIN=$(abspath $(BUILD_DIR))/ferrule ../../$(VENV_PY) -m pytest -q

bench-python: python
	$(VENV_PY) bench/py_bench.py --write docs/performance.md

# (6) Go binding (bindings/go): cgo against libferrule installed into the
# same staging prefix, found through pkg-config as `go get` users find an
# installed one; the shared library through LD_LIBRARY_PATH.  Standard
# library only: nothing is downloaded (GOPROXY=off), and the local
# toolchain is used (GOTOOLCHAIN=local).
GO_ENV := PKG_CONFIG_PATH=$(PY_STAGE)/lib/pkgconfig LD_LIBRARY_PATH=$(PY_STAGE)/lib \
          GOTOOLCHAIN=local GOPROXY=off GOFLAGS=-mod=mod

go-stage: $(SUITE_DEPS)
	@command -v go >/dev/null || { echo "check-go: no go on PATH (tools/deps.sh installs golang-go)" >&2; exit 1; }
	@$(CMAKE) --install $(BUILD_DIR) --prefix $(PY_STAGE) >/dev/null

check-go: go-stage
	@cd bindings/go && out=$$(gofmt -l .) && [ -z "$$out" ] || { echo "gofmt: $$out" >&2; exit 1; }
	cd bindings/go && $(GO_ENV) go vet ./...
	cd bindings/go && $(GO_ENV) go test -race -count=1 ./...

# (7) Lua binding (bindings/lua): the FFI declarations must match ferrule.h
# (tools/gen-lua-ffi.py --check), then the busted suites under LuaJIT
# (tests/lua/*_spec.lua) against the library of the build tree, then
# resty.ferrule inside Debian's nginx with its Lua module
# (tests/lua/test_nginx.py, pytest).
LUA_ENV := FERRULE_LIB=$(abspath $(BUILD_DIR))/libferrule.so FERRULE_TEST_PKI=$(abspath $(BUILD_DIR))/pki \
           FERRULE_BIN=$(abspath $(BUILD_DIR))/ferrule FERRULE_LUA_PATH=$(abspath bindings/lua)

check-lua: $(SUITE_DEPS)
	python3 tools/gen-lua-ffi.py --check
	@[ -f $(BUILD_DIR)/pki/root.pem ] || tools/gen-pki.sh $(abspath $(BUILD_DIR))/pki >/dev/null
	$(LUA_ENV) busted --lua=luajit tests/lua/
	cd tests/lua && $(LUA_ENV) $(PYTEST) -q test_nginx.py

# (13) BoGo without the runner: the summary tool's golden self-test, the
# profile's rules on a sample of names, and the shim against our own
# runner-side harness (tests/bogo/).  The by-hand run with BoringSSL's
# runner is interop/bogo/run.sh (docs/bogo-profile.md).
check-bogo: $(SUITE_DEPS) $(VENV)/.ferrule-stamp
	python3 tools/bogo_summary.py --self-test
	python3 tools/bogo_profile.py check --profile interop/bogo/profile.json
	@[ -f $(BUILD_DIR)/pki/root.pem ] || tools/gen-pki.sh $(abspath $(BUILD_DIR))/pki >/dev/null
	cd tests/bogo && BOGO_SHIM=$(abspath $(BUILD_DIR))/bogo_shim FERRULE_TEST_PKI=$(abspath $(BUILD_DIR))/pki \
	  ../../$(VENV_PY) -m pytest -q .

# (13b) The interop matrix (tools/interop_matrix.py, docs/interop-matrix.md):
# ferrule's CLI against OpenSSL, GnuTLS, NSS, Go crypto/tls, rustls, s2n-tls,
# wolfSSL and Python's ssl, both roles, every flow.  The peers of ours are
# built on first use into $(FERRULE_CACHE) (default ~/.cache/ferrule),
# keyed by their sources and lock files, so later runs in fresh clones
# reuse them.  `make interop-matrix` rewrites docs/interop-matrix.md
# (STRICT=1 for the strict verdict); the suite runs strict into build/.
MATRIX_FLAGS ?=
interop-matrix: build
	python3 tools/interop_matrix.py --ferrule $(BUILD_DIR)/ferrule --out docs/interop-matrix.md \
	  $(if $(STRICT),--strict) $(MATRIX_FLAGS)

check-interop-matrix: $(SUITE_DEPS)
	$(PYTEST) -q tests/matrix
	python3 tools/interop_matrix.py --strict --ferrule $(BUILD_DIR)/ferrule $(MATRIX_FLAGS)

# X25519MLKEM768 for real (docs/mlkem.md): OpenSSL 3.5 from the openssl-src
# crate (tools/openssl35/build.sh, cached under FERRULE_CACHE, default ~/.cache/ferrule),
# a second build of ferrule against its static libcrypto in build-ossl35/, the
# C tests there, then interop/test_mlkem.py with that ferrule against Go's
# crypto/tls and OpenSSL 3.5's openssl.  MLKEM_CTEST_FLAGS narrows the C tests
# (e.g. -R 'mlkem|handshake|hrr').
OSSL35_DIR ?= build-ossl35
MLKEM_CTEST_FLAGS ?=
.PHONY: check-mlkem
check-mlkem: $(SUITE_DEPS)
	@prefix=$$(tools/openssl35/build.sh | tail -n 1) && echo "check-mlkem: OpenSSL 3.5 in $$prefix" && \
	$(CMAKE) --log-level=WARNING -S . -B $(OSSL35_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	  -DOPENSSL_ROOT_DIR=$$prefix -DOPENSSL_USE_STATIC_LIBS=TRUE && \
	$(CMAKE) --build $(OSSL35_DIR) -j $(JOBS) && \
	( cd $(OSSL35_DIR) && $(CTEST) -j $(JOBS) --output-on-failure $(MLKEM_CTEST_FLAGS) ) && \
	FERRULE_BIN=$(abspath $(OSSL35_DIR))/ferrule OPENSSL35_BIN=$$prefix/bin/openssl \
	  FERRULE_EXPECT_MLKEM=1 $(PYTEST) interop/test_mlkem.py -q

bench-lua: $(SUITE_DEPS)
	@[ -f $(BUILD_DIR)/pki/root.pem ] || tools/gen-pki.sh $(abspath $(BUILD_DIR))/pki >/dev/null
	$(LUA_ENV) python3 bench/lua_bench.py --write docs/performance.md

bench-go: go-stage
	cd bindings/go && $(GO_ENV) go test -count=1 . -args -bench-report $(abspath docs/performance.md)

# ferrule against OpenSSL's libssl in one process (bench/pair_bench.c), about
# a minute with the defaults, then the scaling section (bench/scaling.py, a
# few minutes under valgrind); each rewrites only its own section of
# docs/performance.md.
BENCH_FLAGS ?=
bench: build
	@tools/gen-pki.sh $(abspath $(BUILD_DIR))/pki >/dev/null
	$(BUILD_DIR)/pair_bench --pki $(BUILD_DIR)/pki --write docs/performance.md $(BENCH_FLAGS)
	@$(MAKE) bench-scaling SCALING_DEPS=

SCALING_DEPS ?= build
bench-scaling: $(SCALING_DEPS)
	python3 bench/scaling.py --build $(BUILD_DIR) --jobs $(JOBS) --write docs/performance.md

# The instruction-count baseline of the cost gate (tests/cost/baseline.txt),
# rewritten from this build; commit it on its own.
perf-baseline: build
	tools/cost.sh $(BUILD_DIR) --update-baseline

abi-baseline: build
	abidw --headers-dir abi/include --drop-private-types \
	  --out-file abi/baseline.abi $(BUILD_DIR)/libferrule.so
	@echo "wrote abi/baseline.abi (commit it)"

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(RELEASE_DIR) $(RELEASE_CLANG_DIR) $(FUZZ_DIR) build-tsan build-clang-asan $(OSSL35_DIR) build/formal .pytest_cache interop/__pycache__ interop/.pytest_cache \
	  bindings/python/build bindings/python/src/*.egg-info tests/py/__pycache__ tests/py/.pytest_cache
	rm -f bindings/python/src/ferrule/_ffi.py bindings/python/src/ferrule/_ffi_wrap.c \
	  bindings/python/src/ferrule/_ffi_gen.i bindings/python/src/ferrule/__ffi*.so $(VENV)/.ferrule-stamp

# (16.7) Load test (tests/load, docs/load.md): ferrule-load, a server on
# the Go binding (and Go's crypto/tls as the reference) driven by a
# crypto/tls load generator over loopback; built like check-go (cgo,
# pkg-config from the staging prefix, nothing downloaded).  `make load`
# holds 10,000 connections at once, then runs 100,000 sequential
# handshakes against each server and writes docs/load.md's figures
# (only when every verdict passes); check-load is the verdicts' unit
# tests, then the small self-test (200 held, 2,000 sequential) plus one
# run per deliberate server fault, each of which must fail its verdict.
LOAD_BIN   := $(abspath $(BUILD_DIR))/ferrule-load
LOAD_FLAGS ?=
.PHONY: load-build load check-load
load-build: go-stage
	@cd tests/load && out=$$(gofmt -l .) && [ -z "$$out" ] || { echo "gofmt: $$out" >&2; exit 1; }
	cd tests/load && $(GO_ENV) go vet . && $(GO_ENV) go build -o $(LOAD_BIN) .

load: load-build
	$(GO_ENV) timeout 2400 $(LOAD_BIN) run -impl both -conns 10000 -soak 100000 \
	  -timeout 35m -write docs/load.md $(LOAD_FLAGS)

check-load: load-build
	cd tests/load && $(GO_ENV) go test -count=1 .
	$(GO_ENV) timeout 120 $(LOAD_BIN) selftest
# Issue 16 (security review): every `file:case` and `file:function`
# reference of docs/security-review.md and of docs/rfc8446-matrix.md
# resolves (tools/check-doc-refs.py).  Reads sources only: no build needed.
.PHONY: check-review
check-review:
	python3 tools/check-doc-refs.py docs/security-review.md
	python3 tools/check-doc-refs.py docs/rfc8446-matrix.md
# (16) Timing side channels (timing/harness.c, docs/side-channel-review.md).
# `make timing` measures every secret-dependent comparison or branch we own
# (a few minutes, not part of `make check`) and writes its table into the
# doc; it fails if a target whose classes share their outcome leaks.
# check-timing: the harness's self-test, a deliberate ~10x leak and
# CRYPTO_memcmp of equal-length buffers, must be told apart, 3 runs.
TIMING_FLAGS ?=
.PHONY: timing check-timing
timing: build
	$(BUILD_DIR)/timing_harness --write docs/side-channel-review.md $(TIMING_FLAGS)

check-timing: $(SUITE_DEPS)
	$(BUILD_DIR)/timing_harness --selftest --measurements 200000 --runs 3
# Operations drill (issue 16, docs/runbook.md): tools/drill/drill.py against a
# real redis-server it starts on loopback.  `make drill` is the full run
# (about 3 minutes; DRILL_FLAGS to change it) and writes build/drill/last.json,
# the figures docs/runbook.md quotes; check-drill is a short run plus the
# negative case (a store that accepts replays must be caught), and the
# Redis store's own C test (test_redis_replay) runs in check-c.  About
# 45 s in make check (SUITES line above).
DRILL_FLAGS ?=
.PHONY: drill check-drill
drill: build
	python3 tools/drill/drill.py --build $(BUILD_DIR) --json $(BUILD_DIR)/drill/last.json $(DRILL_FLAGS)

check-drill: $(SUITE_DEPS)
	DRILL_BUILD=$(abspath $(BUILD_DIR)) $(PYTEST) tools/drill/test_drill.py -q

# (18) Machine-checked properties (docs/formal.md): Frama-C/WP proves the
# reader, the writer and the record header parser free of runtime errors
# and true to their contracts (formal/wp/prove.sh); spin checks the
# handshake table exported from core/state.c (formal/spin/check.sh).  Both
# also run on deliberately broken copies, which must fail.
.PHONY: check-formal
check-formal: $(SUITE_DEPS)
	formal/wp/prove.sh --self-test
	formal/spin/check.sh $(BUILD_DIR) --self-test
# (issue 16 item 6) Sanitizers beyond gcc's ASan+UBSan (docs/sanitizers.md).
#
# check-tsan: a ThreadSanitizer build (FERRULE_TSAN) in $(TSAN_DIR) of the C
# tests labelled "threads" (the list is FERRULE_THREAD_TESTS in
# CMakeLists.txt, built by the target thread_tests), run with halt_on_error
# so that the first report fails the test.  tests/san/race.c, a deliberate
# race, first proves the build reports and halts.
TSAN_DIR     ?= build-tsan
TSAN_CC      ?= gcc
TSAN_ENV     := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
.PHONY: check-tsan
check-tsan: $(if $(SUITE_DEPS),deps)
	@CC=$(TSAN_CC) $(CMAKE) --log-level=WARNING -S . -B $(TSAN_DIR) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRULE_TSAN=ON
	@$(CMAKE) --build $(TSAN_DIR) -j $(JOBS) --target thread_tests
	@$(TSAN_CC) -fsanitize=thread -g -O1 -pthread tests/san/race.c -o $(TSAN_DIR)/san_selfcheck_race
	@$(TSAN_ENV) tools/san-selfcheck.sh tsan "ThreadSanitizer: data race" $(TSAN_DIR)/san_selfcheck_race
	$(TSAN_ENV) $(CTEST) --test-dir $(TSAN_DIR) --output-on-failure -j $(JOBS) -L threads

# check-clang-asan: the whole library and every C test (fuzz replays
# included) built by clang with FERRULE_SANITIZE=ON (ASan+UBSan,
# -fno-sanitize-recover=all) plus CLANG_SAN_EXTRA, UBSan checks clang has
# beyond its default set.  clang's UBSan reports NULL+0 pointer arithmetic
# (pointer-overflow), which gcc's does not; tests/san/null_plus_zero.c
# first proves this build reports it.  The tests link libferrule.a; the
# shared library runs under the sanitizers through the CLI (which links
# libferrule.so) in interop/test_openssl.py against the openssl CLI.
CLANG_ASAN_DIR  ?= build-clang-asan
CLANG_SAN_EXTRA ?= -fsanitize=implicit-conversion,local-bounds,float-divide-by-zero
# clang links a shared library without the ASan runtime, which
# libferrule.so's -Wl,--no-undefined refuses; every link of this build takes
# clang's shared runtime instead (one runtime per process), found by rpath.
CLANG_SAN_RT    = $(dir $(shell clang -print-file-name=libclang_rt.asan-x86_64.so))
CLANG_SAN_LINK  = $(CLANG_SAN_EXTRA) -shared-libasan -Wl,-rpath,$(CLANG_SAN_RT)
.PHONY: check-clang-asan
check-clang-asan: $(if $(SUITE_DEPS),deps)
	@CC=clang $(CMAKE) --log-level=WARNING -S . -B $(CLANG_ASAN_DIR) \
	  -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DFERRULE_SANITIZE=ON \
	  "-DCMAKE_C_FLAGS=$(CLANG_SAN_EXTRA)" "-DCMAKE_EXE_LINKER_FLAGS=$(CLANG_SAN_LINK)" \
	  "-DCMAKE_SHARED_LINKER_FLAGS=$(CLANG_SAN_LINK)"
	@$(CMAKE) --build $(CLANG_ASAN_DIR) -j $(JOBS)
	@clang -fsanitize=address,undefined $(CLANG_SAN_EXTRA) -fno-sanitize-recover=all -g -O1 \
	  tests/san/null_plus_zero.c -o $(CLANG_ASAN_DIR)/san_selfcheck_null
	@$(SAN_ENV) tools/san-selfcheck.sh clang-ubsan "applying zero offset to null pointer" \
	  $(CLANG_ASAN_DIR)/san_selfcheck_null
	$(SAN_ENV) $(CTEST) --test-dir $(CLANG_ASAN_DIR) --output-on-failure -j $(JOBS)
	$(SAN_ENV) FERRULE_BIN=$(abspath $(CLANG_ASAN_DIR))/ferrule $(PYTEST) interop/test_openssl.py -q
