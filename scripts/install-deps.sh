#!/usr/bin/env bash
# Installs, with apt-get, every Debian 12 package that building and testing Tessera needs and that is
# not already present. Idempotent: when everything is installed it only checks and exits.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config clang-14 clang-format-14 libclang-rt-14-dev
  # libraries (README.md says why each one is here)
  libssl-dev libboost1.81-dev libsqlite3-dev libpq-dev libsodium-dev libargon2-dev libzxcvbn-dev
  libcli11-dev libspdlog-dev libcurl4-openssl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcrypt-dev
  # test peers: the real database server, interop verifiers, load generation and its ceiling
  postgresql python3 python3-jwt python3-cryptography python3-aiosmtpd nodejs wrk nginx-light curl
  # a node whose wall clock runs ahead, for the multi-node tests
  faketime
  # independent password hashers whose hashes the migration tests import
  python3-bcrypt python3-argon2 python3-passlib time
  # the browser for the frontend SDK test (tests/browser: playwright-core is pinned to the release
  # built for this chromium's major version), and a font so its screenshots are legible
  chromium fonts-dejavu-core
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# nodejs may come from somewhere other than Debian (NodeSource); npm must be there too.
if [ ${#missing[@]} -eq 0 ] && command -v npm >/dev/null 2>&1; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi

if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
