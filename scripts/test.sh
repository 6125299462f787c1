#!/usr/bin/env bash
# Installs what the tests need, then runs every check CI runs: formatting,
# clippy with warnings as errors, and the whole test suite — once on the
# embedded backend (SQLite + files) and once more, the integration suite, on
# the scaled-out one (PostgreSQL + S3, throwaway servers from
# scripts/services.sh, stopped at the end whatever happens) — and last the
# OpenAPI contract run (schemathesis against a real server, scripts/contract.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --all-features -- -D warnings

scripts/services.sh start
trap 'scripts/services.sh stop' EXIT
# shellcheck disable=SC1091
source target/services.env
# Tests that need PostgreSQL or S3 fail instead of skipping.
export SEALSCRIBE_REQUIRE_SERVICES=1

cargo test --workspace
SEALSCRIBE_IT_BACKEND=scaled cargo test -p sealscribe --test it
scripts/contract.sh
