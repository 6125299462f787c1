#!/usr/bin/env bash
# Installs the tools that sealscribe-openpgp's tests, test support (`--features
# test-support`) and bench drive: GnuPG (gpg 2.2, gpg-agent, gpgconf), sq (sequoia) and openssl.
# Debian/Ubuntu only. Does nothing when all are already installed.
set -euo pipefail

packages=(gnupg sq openssl)
missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-pgp-deps: ${packages[*]} already installed"
    exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-pgp-deps: installing ${missing[*]}"
$sudo apt-get update
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
