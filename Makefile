# PolyCall front door. `make demo` and `make test` do all set-up on a fresh machine.
# Everything the build needs is installed or built here; nothing is installed by hand.

SHELL := /bin/bash
.DEFAULT_GOAL := help

ROOT        := $(abspath .)
BUILD       := $(ROOT)/build
NATIVE_OUT  := $(BUILD)/native
WRAPPER     := .mvn/wrapper/maven-wrapper.properties
MAVEN_VER   := 3.9.11
TOOLS_BIN   := $(BUILD)/tools
# grpcurl, for the test that calls per-function gRPC methods with no proto file (polycall-grpc).
GRPCURL_VER := v1.9.4
# One fork, short iterations: enough for ratios against a peer measured in the same run.
# Each SDK has its own Makefile whose `test` target installs what it needs and runs its suite.
SDKS        := python node go
BENCH_ARGS  ?= -f 1 -wi 3 -w 1s -i 5 -r 1s

# The JDK 25 that every Java step uses; tools/find-jdk prints it or explains what is missing.
JAVA_HOME_25 = $(shell tools/find-jdk)
MVN = JAVA_HOME="$(JAVA_HOME_25)" ./mvnw -B -ntp -Dstyle.color=never

.PHONY: help
help: ## Show the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: jdk
jdk: ## Check that a JDK 25 is available and say which one is used
	@tools/find-jdk --verbose >/dev/null

# The wrapper's properties are generated, not committed: they are written by the wrapper
# plugin through the machine's own Maven, which is installed from Debian if absent.
$(WRAPPER):
	@command -v mvn >/dev/null || { echo "installing maven (bootstrap for the wrapper)"; \
	  (apt-get update -qq && apt-get install -y -qq maven) >/dev/null; }
	@mkdir -p .mvn/wrapper
	JAVA_HOME="$(JAVA_HOME_25)" mvn -q -B -N org.apache.maven.plugins:maven-wrapper-plugin:3.3.2:wrapper \
	  -Dmaven=$(MAVEN_VER) -Dtype=only-script
	@git checkout -- mvnw 2>/dev/null || true

.PHONY: tools
tools: $(WRAPPER) native-testlib sdk-envs grpcurl prlimit ## Install the build tools (Maven wrapper, gcc, zlib, SDK envs, grpcurl, prlimit)

# Worker sandboxes (security.sandbox) start workers through util-linux's prlimit.
.PHONY: prlimit
prlimit:
	@test -x /usr/bin/prlimit || { apt-get update -qq && apt-get install -y -qq util-linux; }

# Built from source by the Go toolchain (the Go module proxy), pinned, into build/tools.
.PHONY: grpcurl
grpcurl: $(TOOLS_BIN)/grpcurl
$(TOOLS_BIN)/grpcurl:
	@command -v go >/dev/null || { apt-get update -qq && apt-get install -y -qq golang-go; }
	@mkdir -p $(TOOLS_BIN)
	GOBIN=$(TOOLS_BIN) go install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VER)

# The Java system tests start real Python and Node workers, so the SDKs' environments come first
# (with the Node worker's shared-memory addon, when a C compiler is there).
.PHONY: sdk-envs
sdk-envs:
	@command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 python3-venv; }
	@$(MAKE) --no-print-directory -C sdks/python env
	@if [ -f sdks/node/package.json ]; then \
	  command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }; \
	  { test -d sdks/node/node_modules && test sdks/node/node_modules/.package-lock.json -nt sdks/node/package-lock.json; } \
	    || (cd sdks/node && npm ci --no-audit --no-fund); \
	  $(MAKE) --no-print-directory -C sdks/node addon; \
	fi

.PHONY: native-testlib
native-testlib: $(NATIVE_OUT)/libpolycalltest.so ## Build the project's own C test library

$(NATIVE_OUT)/libpolycalltest.so: polycall-native/src/test/c/polycalltest.c polycall-native/src/test/c/polycalltest.h
	@command -v gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq gcc; }
	@test -e /usr/include/zlib.h || { apt-get update -qq && apt-get install -y -qq zlib1g-dev; }
	@mkdir -p $(NATIVE_OUT)
	gcc -O2 -fPIC -shared -Wall -Wextra -o $@ polycall-native/src/test/c/polycalltest.c

.PHONY: build
build: tools ## Compile and package every module (no tests)
	$(MVN) -q install -DskipTests

.PHONY: test
test: tools ## Run every test: Java (Maven), then each SDK's own suite (Python, Node, Go)
	$(MVN) install
	@for sdk in $(SDKS); do \
	  if [ -f sdks/$$sdk/Makefile ]; then \
	    echo "== sdks/$$sdk ==" && $(MAKE) --no-print-directory -C sdks/$$sdk test || exit 1; \
	  fi; \
	done
	@echo "make test: all suites passed"

.PHONY: vectors
vectors: $(WRAPPER) ## Regenerate spec/vectors/*.json from the Java codec (then commit them)
	$(MVN) -q -pl polycall-wire -am install -DskipTests
	$(MVN) -q -pl polycall-wire test-compile exec:java -Dexec.classpathScope=test \
	  -Dexec.mainClass=io.polycall.wire.VectorGenerator -Dexec.args="$(ROOT)/spec/vectors"

.PHONY: demo
# The demo's Python and Node sections need the SDK environments; `build` makes them through
# `tools` today, and naming them here keeps the demo complete if that ever changes.
demo: build sdk-envs ## Build everything and run the end-to-end demo (Java, C, Python, Node)
	bin/polycall demo

.PHONY: bench
bench: build ## Run the JMH benchmarks; JSON lands in build/bench/
	@mkdir -p $(BUILD)/bench
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED \
	  -Dpolycall.testlib.dir=$(NATIVE_OUT) \
	  -jar polycall-benchmarks/target/polycall-benchmarks.jar \
	  -rf json -rff $(BUILD)/bench/jmh.json $(BENCH_ARGS)
	"$(JAVA_HOME_25)/bin/java" -cp polycall-benchmarks/target/polycall-benchmarks.jar \
	  io.polycall.bench.Report $(BUILD)/bench/jmh.json | tee $(BUILD)/bench/summary.txt

.PHONY: bench-http bench-http-run
bench-http: build bench-http-run ## HTTP gateway: no-op POST /v1/call at 1 and 64 in flight vs JDK HttpServer (~45 s)

bench-http-run:
	@mkdir -p $(BUILD)/bench
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
	  -Dout=$(BUILD)/bench/http.txt \
	  -cp polycall-benchmarks/target/polycall-benchmarks.jar io.polycall.bench.HttpGatewayHarness

.PHONY: profile-xlang
profile-xlang: build ## Per-call context switches, CPU time (and syscalls with STRACE=true), Java -> Python; load-independent
	@mkdir -p $(BUILD)/bench
	@test -x $(BUILD)/bench/venv/bin/python || python3 -m venv $(BUILD)/bench/venv
	@$(BUILD)/bench/venv/bin/pip install -q py4j==0.10.9.9 grpcio==1.85.1 -e 'sdks/python[numpy]'
	@$(MAKE) --no-print-directory -C sdks/python speedups
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED -Dstrace=$(or $(STRACE),false) \
	  -cp polycall-benchmarks/target/polycall-benchmarks.jar io.polycall.bench.CallProfile \
	  $(BUILD)/bench/venv/bin/python polycall-benchmarks/src/main/python

.PHONY: bench-xlang
bench-xlang: build ## Cross-language harness: Java -> Python through PolyCall and its peers
	@mkdir -p $(BUILD)/bench
	@test -x $(BUILD)/bench/venv/bin/python || python3 -m venv $(BUILD)/bench/venv
	@$(BUILD)/bench/venv/bin/pip install -q py4j==0.10.9.9 grpcio==1.85.1 -e 'sdks/python[numpy]'
	@$(MAKE) --no-print-directory -C sdks/python speedups
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED \
	  -Dout=$(BUILD)/bench/xlang.txt \
	  -cp polycall-benchmarks/target/polycall-benchmarks.jar io.polycall.bench.CrossLangHarness \
	  $(BUILD)/bench/venv/bin/python polycall-benchmarks/src/main/python

.PHONY: bench-remote
bench-remote: build ## gRPC vs raw grpc-java (and with authn+authz+audit), then the HTTP gateway, same run (about 3 minutes)
	@mkdir -p $(BUILD)/bench
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
	  -Dout=$(BUILD)/bench/remote.txt \
	  -cp polycall-benchmarks/target/polycall-benchmarks.jar io.polycall.bench.RemoteHarness
	@$(MAKE) --no-print-directory bench-http-run

.PHONY: bench-routing
bench-routing: build ## Remote bridge vs a direct gRPC client to the same node, same run (~30 s)
	@mkdir -p $(BUILD)/bench
	"$(JAVA_HOME_25)/bin/java" --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow \
	  -Dout=$(BUILD)/bench/routing.txt \
	  -cp polycall-benchmarks/target/polycall-benchmarks.jar io.polycall.bench.RoutingHarness

.PHONY: format
format: $(WRAPPER) ## Format the Java sources
	$(MVN) -q spotless:apply

.PHONY: clean
clean: ## Remove build output
	$(MVN) -q clean || true
	rm -rf $(BUILD)
