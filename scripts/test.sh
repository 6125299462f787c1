#!/usr/bin/env bash
# Installs what the tests need, then runs every check CI runs: formatting,
# clippy with warnings as errors, the workspace's shape (scripts/check-shape.py)
# and rustdoc with warnings as errors, and the whole test suite — once on the
# embedded backend (SQLite + files) and once more, the integration suite, on
# the scaled-out one (PostgreSQL + S3, throwaway servers from
# scripts/services.sh, stopped at the end whatever happens) — and last the
# OpenAPI contract run (schemathesis against a real server, scripts/contract.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings
# The shape of the workspace: no module cycles, layouts documented, an API
# that does not link whisper.cpp; and docs whose links resolve.
scripts/check-shape.py
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --quiet

scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
# shellcheck disable=SC1091
source target/services.env
# Tests that need PostgreSQL or S3 fail instead of skipping.
export SEALSCRIBE_REQUIRE_SERVICES=1

cargo test --workspace
SEALSCRIBE_IT_BACKEND=scaled cargo test -p sealscribe --test it
scripts/contract.sh
