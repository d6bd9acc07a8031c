#!/bin/sh
# Installs the Debian packages the simulated homelab needs (idempotent; for a fresh CI machine).
#   Ceph radosgw (S3 with versioning): ceph-mon ceph-osd radosgw
#   Proxmox nodes behind OpenSSH:       openssh-server (sshd) + openssh-client (ssh, ssh-keygen)
#   Real archive checks on the nodes:   zstd gzip lzop tar
# See ../shared/reference/test-servers.md for the measurements behind these choices.
set -eu
PACKAGES="ceph-mon ceph-osd radosgw openssh-server openssh-client zstd gzip lzop tar"
missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
if [ -z "$missing" ]; then
  echo "lab/install.sh: all lab packages are installed ($PACKAGES)"
else
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "lab/install.sh: installing$missing"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
# sshd's privilege separation directory (it exits without it; no systemd creates it here).
if [ "$(id -u)" -eq 0 ]; then mkdir -p /run/sshd; fi
for bin in /usr/sbin/sshd ceph-mon ceph-osd radosgw radosgw-admin monmaptool ssh ssh-keygen zstd lzop; do
  command -v "$bin" >/dev/null 2>&1 || { echo "lab/install.sh: $bin is still missing" >&2; exit 1; }
done
