#!/bin/sh
# Install hook of the helm-c8dr plugin (plugin.yaml): build the binary from this checkout with
# cargo and put it where plugin.yaml's command expects it, ${HELM_PLUGIN_DIR}/bin/helm-c8dr.
# Usage: install-binary.sh [-u]   (-u: update, rebuild even if a binary is there)
set -eu

PLUGIN_DIR="${HELM_PLUGIN_DIR:-$(cd "$(dirname "$0")/.." && pwd)}"
BIN_DIR="$PLUGIN_DIR/bin"
BIN="$BIN_DIR/helm-c8dr"
UPDATE=0
if [ "${1:-}" = "-u" ]; then
    UPDATE=1
fi

if [ -x "$BIN" ] && [ "$UPDATE" -eq 0 ]; then
    echo "helm-c8dr: $BIN is already installed"
    exit 0
fi

if ! command -v cargo >/dev/null 2>&1; then
    cat >&2 <<MSG
helm-c8dr: cargo was not found, so the plugin binary was not built.
To finish the installation, either
  - install Rust (https://rustup.rs) and run: $PLUGIN_DIR/scripts/install-binary.sh -u
  - or build helm-c8dr elsewhere (cargo build --release -p helm-c8dr) and copy
    target/release/helm-c8dr to $BIN
MSG
    # Do not fail the helm plugin install: the plugin is usable once the binary is in place.
    exit 0
fi

echo "helm-c8dr: building with cargo (this can take a few minutes)..."
cd "$PLUGIN_DIR"
cargo build --release -p helm-c8dr
mkdir -p "$BIN_DIR"
TARGET_DIR="${CARGO_TARGET_DIR:-$PLUGIN_DIR/target}"
cp "$TARGET_DIR/release/helm-c8dr" "$BIN"
chmod 0755 "$BIN"
echo "helm-c8dr: installed $BIN"
