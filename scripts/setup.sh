#!/usr/bin/env bash
# Installs everything Lifeboat's tests, lab and demo need on a Debian 12 machine, idempotently:
# Debian packages (only the missing ones), the npm dependencies (only when the lock file changed),
# and the real VS Code (code-server) used by the end-to-end tests. Fast when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  chromium libkrb5-dev            # UI tests (Chromium) and code-server's native kerberos module
  openssh-server                  # the simulated Proxmox nodes run behind Debian's OpenSSH
  ceph-mon ceph-osd radosgw       # the S3 server with versioning (Ceph radosgw) standing in for MinIO
  zstd lzop gzip tar              # real vzdump compression for the simulated backups
  curl procps iproute2
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600
  $SUDO apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}" </dev/null
fi

# npm ci only when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund </dev/null
fi

if [ -f scripts/e2e/setup.sh ]; then bash scripts/e2e/setup.sh; fi
