# tally: the two commands a new machine needs are `make demo` and `make test`.
BUILD ?= build
SAN_BUILD ?= build-sanitize
JOBS ?= $(shell nproc)

.PHONY: all deps build demo run test test-sanitize test-valgrind format format-check clean

all: build

deps:
	@scripts/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build $(BUILD) -j $(JOBS)

# Builds, starts the whole system on loopback and runs the seed's scenario.
demo: build
	scripts/demo.sh $(BUILD)

# Builds and keeps the whole system running in the foreground (Ctrl-C stops it).
run: build
	$(BUILD)/client/tally up --data-dir .tally

# Builds and runs every test: the formatting check, the normal build, the unit
# tests under valgrind, then the whole suite again in the ASan/UBSan build.
test: build
	scripts/format.sh
	ctest --test-dir $(BUILD) --output-on-failure -j 2
	$(MAKE) test-valgrind
	$(MAKE) test-sanitize

test-valgrind: build
	scripts/valgrind-unit.sh $(BUILD)

test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SAN_BUILD) --output-on-failure -j 2

# Applies .clang-format to every tracked C file; format-check only reports.
format: deps
	scripts/format.sh --fix

format-check: deps
	scripts/format.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
