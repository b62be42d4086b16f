#!/bin/sh
# Install hook of the helm-c8dr plugin (plugin.yaml): put a helm-c8dr binary where plugin.yaml's
# command expects it, ${HELM_PLUGIN_DIR}/bin/helm-c8dr. In this order:
#   1. one already there (bin/helm-c8dr) is kept (unless -u);
#   2. a helm-c8dr already installed is linked there: on PATH (`cargo install --locked --path
#      helm-c8dr`, ~/.cargo/bin), else the one the krew archive ships in
#      ${KREW_ROOT:-~/.krew}/store/c8dr/<version>/ (krew links only kubectl-c8dr onto PATH);
#   3. otherwise it is built from this checkout with cargo.
# When none of these produces a binary it fails (exit 1) with one line saying what to do: a plugin
# without its binary would only fail later, at the first `helm c8dr`, in the middle of an outage.
# Usage: install-binary.sh [-u]   (-u: update: look again / rebuild even if a binary is there)
set -eu

PLUGIN_DIR="${HELM_PLUGIN_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
BIN_DIR="$PLUGIN_DIR/bin"
BIN="$BIN_DIR/helm-c8dr"
UPDATE=0
if [ "${1:-}" = "-u" ]; then
    UPDATE=1
fi

fail() {
    echo "helm-c8dr: install failed: $*" >&2
    exit 1
}

if [ -x "$BIN" ] && [ "$UPDATE" -eq 0 ]; then
    echo "helm-c8dr: $BIN is already installed"
    exit 0
fi

# 2. An installed helm-c8dr (not the plugin's own bin/, which may be on PATH too).
found=""
candidate="$(command -v helm-c8dr 2>/dev/null || true)"
if [ -n "$candidate" ] && [ "$candidate" != "$BIN" ] && [ -x "$candidate" ]; then
    found="$candidate"
else
    for candidate in "${KREW_ROOT:-${HOME:-/nonexistent}/.krew}"/store/c8dr/*/helm-c8dr; do
        if [ -x "$candidate" ]; then
            found="$candidate"
        fi
    done
fi
if [ -n "$found" ]; then
    version="$("$found" --version 2>/dev/null)" ||
        fail "$found does not run ('$found --version' failed): reinstall it, or remove it from PATH so that the hook builds one with cargo"
    mkdir -p "$BIN_DIR"
    ln -sf "$found" "$BIN"
    echo "helm-c8dr: using the installed $found ($version), linked as $BIN"
    exit 0
fi

# 3. Build from the checkout.
if ! command -v cargo >/dev/null 2>&1; then
    fail "no helm-c8dr on PATH or in krew's store, and no cargo to build one: run 'cargo install --locked --path helm-c8dr' in a checkout (Rust from https://rustup.rs), then 'helm plugin uninstall c8dr' and install the plugin again"
fi
if [ ! -f "$PLUGIN_DIR/Cargo.toml" ]; then
    fail "no helm-c8dr on PATH or in krew's store, and $PLUGIN_DIR is not a source checkout to build from: install helm-c8dr ('cargo install --locked --path helm-c8dr' in a checkout), then 'helm plugin uninstall c8dr' and install the plugin again"
fi
echo "helm-c8dr: building with cargo (this can take a few minutes)..."
cd "$PLUGIN_DIR"
cargo build --release --locked -p helm-c8dr ||
    fail "'cargo build --release --locked -p helm-c8dr' failed in $PLUGIN_DIR (its output is above)"
TARGET_DIR="${CARGO_TARGET_DIR:-$PLUGIN_DIR/target}"
[ -x "$TARGET_DIR/release/helm-c8dr" ] ||
    fail "cargo succeeded but left no $TARGET_DIR/release/helm-c8dr"
mkdir -p "$BIN_DIR"
rm -f "$BIN"
cp "$TARGET_DIR/release/helm-c8dr" "$BIN"
chmod 0755 "$BIN"
echo "helm-c8dr: installed $BIN"
