# Ghi Danh — the two commands a newcomer needs: `make run` and `make test`.
# Both install what is missing first (Debian packages with apt-get, the UI's npm packages
# with `npm ci`, tauri-driver from crates.io for the end-to-end tests).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

DEMO_DIR ?= $(CURDIR)/.ghidanh-demo
PORT ?= 8640
CARGO ?= cargo
export PATH := $(HOME)/.cargo/bin:$(PATH)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Tauri 2 on Linux (WebKitGTK), SQLCipher's libcrypto, Xvfb + WebKitWebDriver for the e2e tests,
# ImageMagick for screenshots.
APT_PACKAGES := build-essential pkg-config curl wget file libssl-dev libwebkit2gtk-4.1-dev \
	libxdo-dev libayatana-appindicator3-dev librsvg2-dev xvfb webkit2gtk-driver \
	imagemagick x11-utils

.PHONY: test-images help run test deps deps-apt deps-node deps-rust deps-e2e ui build lint test-ui test-rust clean-demo fuzz soak

help:
	@echo "make run   — install what is missing, build, start the registry and the kit app (demo data in $(DEMO_DIR))"
	@echo "make test  — install what is missing and run every test (Rust, UI, end-to-end)"
	@echo "make fuzz  — run each fuzz target for FUZZ_SECONDS seconds (default $(FUZZ_SECONDS))"
	@echo "make soak  — the vault crash test with SOAK_ROUNDS kills (default $(SOAK_ROUNDS)) and the sync fault harness 10x longer (20 kits x 1000 bundles)"

## ---- installing -------------------------------------------------------------------------

deps: deps-apt deps-node deps-rust ui/node_modules/.installed

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deps-node:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "installing Node.js and npm from Debian"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends nodejs npm; \
	fi

deps-rust:
	@command -v $(CARGO) >/dev/null 2>&1 || { \
	  echo "error: no Rust toolchain (cargo) found. Ghi Danh needs Rust stable >= 1.90;"; \
	  echo "install it with rustup (https://rustup.rs) and run make again."; exit 1; }

deps-e2e: deps-rust
	@scripts/install-tauri-driver.sh

ui/node_modules/.installed: ui/package-lock.json
	cd ui && npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

## ---- building ---------------------------------------------------------------------------

ui: deps
	cd ui && npm run build

build: ui
	$(CARGO) build -p ghidanh-cli -p ghidanh-app

## ---- running the demo ---------------------------------------------------------------------

run: build
	@DEMO_DIR="$(DEMO_DIR)" PORT="$(PORT)" scripts/run-demo.sh

clean-demo:
	rm -rf "$(DEMO_DIR)"

## ---- testing ----------------------------------------------------------------------------

lint: ui
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
	cd ui && npm run check && npm run lint

test-ui: deps
	cd ui && npm test

test-rust: build deps-e2e test-images
	GHIDANH_TEST_IMAGES="$(TEST_IMAGES)/$(SKIMAGE_DATA)" $(CARGO) test --workspace --no-fail-fast

# Real photographs for the portrait checks: scikit-image's data images, as Debian ships them
# in python3-skimage. Only the package file is fetched and unpacked here (nothing installed).
TEST_IMAGES := $(CURDIR)/target/test-images
SKIMAGE_DATA := usr/lib/python3/dist-packages/skimage/data

test-images: $(TEST_IMAGES)/.extracted

$(TEST_IMAGES)/.extracted:
	@mkdir -p $(TEST_IMAGES)
	cd $(TEST_IMAGES) && { apt-get download -qq python3-skimage 2>/dev/null || \
	  { $(SUDO) apt-get update -qq && apt-get download -qq python3-skimage; }; }
	cd $(TEST_IMAGES) && dpkg-deb -x python3-skimage_*.deb . && rm -f python3-skimage_*.deb
	@test -f $(TEST_IMAGES)/$(SKIMAGE_DATA)/astronaut.png
	@touch $@

test: lint test-ui test-rust
	@echo "make test: all passed"

## ---- fuzzing (not part of `make test`) ---------------------------------------------------

FUZZ_SECONDS ?= 60
FUZZ_TARGETS := qr mrz envelope receipt provisioning payload record_json manifest reference_update face_record finger_record sbi_capture

# cargo-fuzz needs nightly-only flags; RUSTC_BOOTSTRAP lets the stable toolchain accept them.
# Targets run one after another: each gets the machine. Seeds (fuzz/seeds/) start the corpus.
fuzz: deps-rust
	@command -v cargo-fuzz >/dev/null 2>&1 || $(CARGO) install cargo-fuzz --locked
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p fuzz/corpus/$$t; \
	  if [ -d fuzz/seeds/$$t ]; then cp -n fuzz/seeds/$$t/* fuzz/corpus/$$t/ 2>/dev/null || true; fi; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  (cd fuzz && RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run $$t corpus/$$t -- -max_total_time=$(FUZZ_SECONDS)); \
	done

## ---- soak (not part of `make test`) -------------------------------------------------------

SOAK_ROUNDS ?= 2000

# The vault crash test (crates/vault/tests/crash.rs) with ten times the rounds of `make test`:
# a child killed with SIGKILL mid-work, the vault reopened and checked after each kill.
soak: deps-rust
	GHIDANH_CRASH_ROUNDS=$(SOAK_ROUNDS) $(CARGO) test -p ghidanh-vault --test crash -- --nocapture
	$(CARGO) build -p ghidanh-cli
	GHIDANH_HARNESS_BUNDLES=1000 $(CARGO) test -p ghidanh-tests --test fault_harness -- --nocapture
	GHIDANH_HARNESS_BUNDLES=1000 $(CARGO) test -p ghidanh-tests --test relay_fault_harness -- --nocapture
	GHIDANH_HARNESS_BUNDLES=1000 $(CARGO) test -p ghidanh-tests --test stick_harness -- --nocapture
