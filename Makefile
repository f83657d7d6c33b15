# vouch: `make demo` (install, engine, example image, SBOM, verdicts, scan, attest, verify) and `make test` (every test).
.PHONY: all build install deps engine image demo test bench fuzz lint clean

all: build

build:
	cargo build --release --locked

deps:
	integration/deps.sh

install: deps
	plugin/install.sh

engine: deps
	integration/engine.sh start

# vouch's own image (Dockerfile), tagged vouch/docker-vouch:VERSION as deploy/ names it.
image:
	integration/deps.sh demo
	integration/engine.sh start
	integration/image.sh

demo:
	integration/demo.sh

test:
	integration/test.sh

bench:
	bench/run.sh

# Every fuzz target, coverage-guided, FUZZ_SECONDS each (default 300); CI runs them briefly in make test.
fuzz:
	fuzz/run.sh

lint:
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings

clean:
	cargo clean
