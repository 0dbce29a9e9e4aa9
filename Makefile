# tally: the two commands a new machine needs are `make demo` and `make test`.
BUILD ?= build
SAN_BUILD ?= build-sanitize
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
# `make chaos`: the seeded chaos run, as long as you like (CONTRIBUTING.md).
CHAOS_SECONDS ?= 600
CHAOS_SEED ?= random
JOBS ?= $(shell nproc)
# The fault points the fault tests arm (lib/include/tly_fault.h) are
# compiled in for the tests only: `make test`, `test-valgrind` and `chaos`
# configure $(BUILD) with them, the sanitizer build has them too, and `make
# images` configures $(BUILD) without them; `make build` (and demo, run)
# keeps what the directory has (without, in a new one). FAULTS=ON|OFF sets it.
FAULTS ?=
# `make images`: the Docker client and the images' tag.
DOCKER ?= docker
TAG ?= latest
IMAGES := audit router balance gateway orders cli

.PHONY: all deps build demo run test test-sanitize test-valgrind fuzz chaos format format-check clean images

all: build

deps:
	@scripts/install-deps.sh

test test-valgrind chaos: FAULTS = ON
images: FAULTS = OFF

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(if $(FAULTS),-DTALLY_FAULTS=$(FAULTS))
	cmake --build $(BUILD) -j $(JOBS)

# Builds, starts the whole system on loopback and runs the seed's scenario.
demo: build
	scripts/demo.sh $(BUILD)

# Builds and keeps the whole system running in the foreground (Ctrl-C stops it).
run: build
	$(BUILD)/client/tally up --data-dir .tally --open-prices

# Builds the runtime images tally-audit, tally-router, tally-balance,
# tally-gateway, tally-orders and tally-cli (tag $(TAG)) FROM scratch: the binaries of
# $(BUILD) (configured without the fault points) and the libraries they
# load, staged in build/rootfs (the one tree .dockerignore lets into the
# context). Nothing is pulled. See Dockerfile.
images: build
	scripts/docker-rootfs.sh $(BUILD) build/rootfs
	for image in $(IMAGES); do \
	  $(DOCKER) build --target $$image -t tally-$$image:$(TAG) . || exit 1; \
	done

# Builds and runs every test: the formatting check, the normal build with
# the fault points (the compose test included), the unit tests under
# valgrind, the whole suite again in the ASan/UBSan build, then each fuzz
# target for a fixed number of executions (scripts/fuzz.sh).
test: build
	scripts/install-deps.sh --test
	scripts/format.sh
	ctest --test-dir $(BUILD) --output-on-failure -j 2
	$(MAKE) test-valgrind
	$(MAKE) test-sanitize
	scripts/fuzz.sh $(FUZZ_BUILD)

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS
# (60 by default; as long as you like: make fuzz FUZZ_SECONDS=600).
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh $(FUZZ_BUILD)

# A seeded chaos run of CHAOS_SECONDS (600 by default) with seed CHAOS_SEED
# (a number, or random: the run prints the one it drew first); `make test`
# runs it for 30 s twice. Ports 24900-24915.
chaos: build
	$(BUILD)/tests/cluster/tally-chaos --seed $(CHAOS_SEED) --duration $(CHAOS_SECONDS) \
	  --base-port 24900

test-valgrind: build
	scripts/valgrind-unit.sh $(BUILD)

test-sanitize: deps
	cmake -S . -B $(SAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DTALLY_SANITIZE=ON -DTALLY_FAULTS=ON
	cmake --build $(SAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --test-dir $(SAN_BUILD) --output-on-failure -j 2

# Applies .clang-format to every tracked C file; format-check only reports.
format: deps
	scripts/format.sh --fix

format-check: deps
	scripts/format.sh

clean:
	rm -rf $(BUILD) $(SAN_BUILD) $(FUZZ_BUILD)
