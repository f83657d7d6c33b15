# vouch: `make demo` (install, engine, example image, SBOM, verdicts, scan, attest, verify) and `make test` (every test).
.PHONY: all build install deps engine demo test bench lint clean

all: build

build:
	cargo build --release --locked

deps:
	integration/deps.sh

install: deps
	plugin/install.sh

engine: deps
	integration/engine.sh start

demo:
	integration/demo.sh

test:
	integration/test.sh

bench:
	bench/run.sh

lint:
	cargo fmt --check
	cargo clippy --all-targets --locked -- -D warnings

clean:
	cargo clean
