#!/usr/bin/env bash
# Installs everything this project needs on a fresh Debian 12 machine (run as root): the tools that build and
# boot the disposable test host, a supported Node (node.sh), then the npm dependencies. Safe to run again; skips
# what is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
need() { command -v "$1" >/dev/null 2>&1 || missing+=("$2"); }
need qemu-system-x86_64 qemu-system-x86
need qemu-img qemu-utils
need mmdebstrap mmdebstrap
need mkfs.ext4 e2fsprogs
need ssh openssh-client
need ssh-keygen openssh-client
need sshd openssh-server
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

bash test/host/node.sh
npm ci --no-fund --no-audit --loglevel=error
