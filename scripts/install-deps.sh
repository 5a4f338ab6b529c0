#!/usr/bin/env bash
# Install the Debian 12 packages veritee needs to build, test and run. Idempotent: installs only
# what is missing, and runs apt-get update only when something is.
set -euo pipefail

packages=(
    cmake make gcc clang libclang-rt-14-dev llvm clang-format pkg-config
    libssl-dev libjansson-dev libcmocka-dev nettle-dev libgmp-dev
    libcurl4-openssl-dev libsqlite3-dev libpq-dev postgresql wrk
    sqlite3 python3 curl openssl ca-certificates procps libargon2-dev
    prometheus # for promtool (tests/integration/metrics_promtool.sh); its server is not started
    dpkg-dev debhelper help2man lintian # the Debian packages (debian/, tests/packaging/deb.sh)
    python3-botocore # SigV4 known answers signed by botocore (tests/support/sigv4_vectors.py)
    awscli # the KMS drop-in driven by the AWS CLI (tests/integration/kms_awscli.sh)
    # The Python binding (bindings/python, tests/bindings/python.sh): cffi compiles its extension
    # against the installed headers (python3-dev), a wheel is built without network access
    # (python3-build, setuptools, wheel) and installed into a virtual environment (python3-venv,
    # python3-pip) where pytest runs it.
    python3-cffi python3-dev python3-pytest python3-build python3-setuptools python3-wheel
    python3-venv python3-pip
    faketime # bench/bindings: Evervault's Nitro validator checks documents at the wall clock only
    chromium # the console's browser tests, headless (tests/console/run.sh)
)

# Node.js and npm run the tests that drive veritee with other people's JavaScript clients and
# validators (npm packages pinned by checked-in lock files, installed into the build tree). A
# machine that has them from elsewhere keeps its own; otherwise Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
# Packages with a service (prometheus) must not start it: where no policy-rc.d says so already
# (containers usually have one), one denies every start for the length of this install.
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
