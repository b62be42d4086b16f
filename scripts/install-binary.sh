#!/bin/sh
# Install hook of the helm-c8dr plugin (plugin.yaml): put a helm-c8dr binary where plugin.yaml's
# command expects it, ${HELM_PLUGIN_DIR}/bin/helm-c8dr. In this order:
#   1. one already there (bin/helm-c8dr) is kept (unless -u);
#   2. a helm-c8dr already installed is linked there: on PATH (`cargo install --locked --path
#      helm-c8dr`, ~/.cargo/bin), else the one the krew archive ships in
#      ${KREW_ROOT:-~/.krew}/store/c8dr/<version>/ (krew links only kubectl-c8dr onto PATH);
#   3. when a release location is known ($C8DR_RELEASE_URL, else the release-url file that the
#      release's plugin archive carries: `cargo xtask dist`, xtask/src/release.rs), the release
#      archive of this machine (uname -s/-m) and plugin.yaml's version,
#      c8dr-<version>-<target>.tar.gz, is downloaded (curl or wget), checked against the
#      release's SHA256SUMS (sha256sum or shasum) and its helm-c8dr installed; a download that
#      fails or does not match its checksum fails the install, and nothing else is tried;
#   4. otherwise, in a source checkout with cargo (developers), it is built with cargo.
# When none of these produces a binary it fails (exit 1) with one line saying what to do: a plugin
# without its binary would only fail later, at the first `helm c8dr`, in the middle of an outage.
# Usage: install-binary.sh [-u]   (-u: update: look again / download again even if a binary is there)
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
        fail "$found does not run ('$found --version' failed): reinstall it, or remove it from PATH so that the hook installs one"
    mkdir -p "$BIN_DIR"
    ln -sf "$found" "$BIN"
    echo "helm-c8dr: using the installed $found ($version), linked as $BIN"
    exit 0
fi

# 3. The release archive of this machine.
# download URL FILE: curl or wget; a failure names the URL and the tool's last line.
download() {
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 2 -o "$2" "$1" 2>"$WORK/download.err" ||
            fail "downloading $1 failed: $(tail -n 1 "$WORK/download.err")"
    elif command -v wget >/dev/null 2>&1; then
        wget -q -O "$2" "$1" 2>"$WORK/download.err" ||
            fail "downloading $1 failed (wget): $(tail -n 1 "$WORK/download.err")"
    else
        fail "neither curl nor wget is installed to download $1: install one of them and install the plugin again"
    fi
}

# sha256 FILE: its sha256 in lower-case hex.
sha256() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | awk '{ print $1 }'
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | awk '{ print $1 }'
    else
        fail "neither sha256sum nor shasum is installed to verify $1: install one of them and install the plugin again"
    fi
}

release_url="${C8DR_RELEASE_URL:-}"
if [ -z "$release_url" ] && [ -f "$PLUGIN_DIR/release-url" ]; then
    release_url="$(head -n 1 "$PLUGIN_DIR/release-url")"
fi
if [ -n "$release_url" ]; then
    base="${release_url%/}"
    version="$(sed -n 's/^version:[[:space:]]*"\{0,1\}\([^"[:space:]]*\)"\{0,1\}[[:space:]]*$/\1/p' "$PLUGIN_DIR/plugin.yaml" | head -n 1)"
    [ -n "$version" ] || fail "$PLUGIN_DIR/plugin.yaml names no version: reinstall the plugin"
    os="$(uname -s)"
    machine="$(uname -m)"
    case "$os/$machine" in
        Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
        Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
        *) fail "c8dr releases have no archive for $os $machine (Linux x86_64 and aarch64 only): install helm-c8dr from source ('cargo install --locked --path helm-c8dr' in a checkout), then 'helm plugin uninstall c8dr' and install the plugin again" ;;
    esac
    archive="c8dr-${version}-${target}.tar.gz"
    WORK="$(mktemp -d)"
    trap 'rm -rf "$WORK"' EXIT
    download "$base/$archive" "$WORK/$archive"
    download "$base/SHA256SUMS" "$WORK/SHA256SUMS"
    expected="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$WORK/SHA256SUMS")"
    [ -n "$expected" ] || fail "$base/SHA256SUMS has no entry for $archive: not installed"
    actual="$(sha256 "$WORK/$archive")"
    [ "$actual" = "$expected" ] ||
        fail "$base/$archive does not match its SHA256SUMS entry (sha256 $actual, expected $expected): not installed"
    (cd "$WORK" && tar -xzf "$archive" helm-c8dr) ||
        fail "$archive holds no helm-c8dr (tar's message is above): not installed"
    "$WORK/helm-c8dr" --version >/dev/null 2>&1 ||
        fail "the helm-c8dr of $archive does not run on this machine ('helm-c8dr --version' failed): not installed"
    mkdir -p "$BIN_DIR"
    rm -f "$BIN"
    cp "$WORK/helm-c8dr" "$BIN"
    chmod 0755 "$BIN"
    echo "helm-c8dr: installed $BIN ($("$BIN" --version)) from $base/$archive, sha256 verified"
    exit 0
fi

# 4. Build from the checkout (developers).
if ! command -v cargo >/dev/null 2>&1; then
    fail "no helm-c8dr on PATH or in krew's store, no release to download it from (install the plugin from a release's helm-c8dr-plugin archive, or set C8DR_RELEASE_URL), and no cargo to build one: run 'cargo install --locked --path helm-c8dr' in a checkout (Rust from https://rustup.rs), then 'helm plugin uninstall c8dr' and install the plugin again"
fi
if [ ! -f "$PLUGIN_DIR/Cargo.toml" ]; then
    fail "no helm-c8dr on PATH or in krew's store, no release to download it from (install the plugin from a release's helm-c8dr-plugin archive, or set C8DR_RELEASE_URL), and $PLUGIN_DIR is not a source checkout to build from: install helm-c8dr ('cargo install --locked --path helm-c8dr' in a checkout), then 'helm plugin uninstall c8dr' and install the plugin again"
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
