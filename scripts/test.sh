#!/usr/bin/env bash
# Installs what the tests need, then runs every check CI runs: formatting,
# clippy with warnings as errors, and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
cargo test --workspace
