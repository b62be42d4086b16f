# The release as an operator without a Rust toolchain gets it (issue 23), sourced by run after
# the build: `cargo xtask dist` packs this checkout for this machine's target (musl x86_64, with
# cargo-zigbuild; profile release-test: the release's sources unoptimised, its target directory
# cached in $RS_CACHE/release-target, or C8DR_RELEASE_TARGET_DIR), python3's http.server serves the assets on loopback, and
#   - SHA256SUMS verifies every asset and each archive holds what krew and the hook take;
#   - krew's validate-krew-manifest accepts the manifest dist wrote (it installs each platform
#     from the served URL with the real `kubectl krew`);
#   - `kubectl krew install --manifest --archive` installs kubectl-c8dr, whose --version and
#     `version -o json` name the release version and this checkout's commit;
#   - each real Helm (3.17, 3.22, 4.3) installs the plugin from the release's plugin archive
#     (extracted: a directory) and its hook downloads and verifies helm-c8dr from the served URL;
#     Helm 4 also from the archive itself, which it refuses without a .prov unless --verify=false;
#   - a corrupted archive (its SHA256SUMS entry no longer matches) fails the hook's install with
#     the one clear line, and no helm-c8dr is left behind.
# Uses from run: check, fail, note, say, helm_bin, HELMS, RUN, LOGS, REPO, RS_CACHE, KBIN, PIDS.
# release_build runs with the build (cargo and zig need the user's HOME), release_section later.

RELEASE_TARGET=x86_64-unknown-linux-musl
RELEASE_PORT=""
RELEASE_BUILT=0

release_build() {
  RELEASE_PORT="$(free_port)"
  local s; s=$(date +%s)
  if ! (cd "$REPO" && CARGO_TARGET_DIR="${C8DR_RELEASE_TARGET_DIR:-$RS_CACHE/release-target}" nice -n 10 \
    cargo xtask dist --profile release-test --target "$RELEASE_TARGET" \
    --url-base "http://127.0.0.1:$RELEASE_PORT/release" --out "$RUN/www/release") \
    >"$LOGS/release-dist.log" 2>&1; then
    fail "cargo xtask dist --target $RELEASE_TARGET (needs cargo-zigbuild and the rustup target: .ci/run installs them)" "$LOGS/release-dist.log"
    return 0
  fi
  RELEASE_BUILT=1
  note "cargo xtask dist --profile release-test --target $RELEASE_TARGET: $(($(date +%s) - s))s"
}

release_section() {
  say "release: archives, SHA256SUMS, krew and the helm plugin from the same assets (issue 23)"
  [ "$RELEASE_BUILT" = 1 ] || { note "no release was built (see the failure above)"; return 0; }
  local target="$RELEASE_TARGET"
  local version commit
  version="$(sed -n 's/^version: *"\(.*\)"$/\1/p' "$REPO/plugin.yaml")"
  commit="$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)"
  local www="$RUN/www" port="$RELEASE_PORT"
  local url="http://127.0.0.1:$port/release"
  local archive="c8dr-$version-$target.tar.gz" plugin="helm-c8dr-plugin-$version.tgz"
  # The corrupted release: the same assets, the archive with one byte more.
  cp -r "$www/release" "$www/corrupt"
  printf 'x' >>"$www/corrupt/$archive"
  python3 -m http.server "$port" --bind 127.0.0.1 --directory "$www" >"$LOGS/release-http.log" 2>&1 &
  PIDS+=("$!")
  local i
  for i in $(seq 1 50); do curl -fsS -o /dev/null "$url/SHA256SUMS" 2>/dev/null && break; sleep 0.1; done

  check "release: sha256sum -c SHA256SUMS verifies every asset ($archive, $plugin)" \
    bash -c "cd '$www/release' && sha256sum -c SHA256SUMS && grep -q ' $archive\$' SHA256SUMS && grep -q ' $plugin\$' SHA256SUMS"
  check "release: $archive holds kubectl-c8dr, helm-c8dr, kubectl_complete-c8dr, LICENSE and the man pages" \
    bash -c "tar -tzf '$www/release/$archive' | sort | tee /dev/stderr | grep -qx kubectl-c8dr &&
      tar -tzf '$www/release/$archive' | grep -qx helm-c8dr &&
      tar -tzf '$www/release/$archive' | grep -qx kubectl_complete-c8dr &&
      tar -tzf '$www/release/$archive' | grep -qx LICENSE &&
      tar -tzf '$www/release/$archive' | grep -qx man/man1/kubectl-c8dr-failback.1 &&
      tar -tzf '$www/release/$archive' | grep -qx man/man1/helm-c8dr-redeploy.1"
  mkdir -p "$RUN/release-x"
  tar -xzf "$www/release/$archive" -C "$RUN/release-x"
  check "release: the archive's binaries are static (no ELF interpreter: they run on any Linux)" \
    python3 -c '
import struct, sys
for path in sys.argv[1:]:
    elf = open(path, "rb").read()
    assert elf[:4] == b"\x7fELF", path
    phoff, = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    types = [struct.unpack_from("<I", elf, phoff + i * phentsize)[0] for i in range(phnum)]
    print(path, "program header types", types)
    assert 3 not in types, path + " has a PT_INTERP: dynamically linked"
' "$RUN/release-x/kubectl-c8dr" "$RUN/release-x/helm-c8dr"

  # krew, in a KREW_ROOT of this run; kubectl finds `kubectl krew` as the plugin kubectl-krew.
  local kd; kd="$(rs_dir krew "$KREW_VERSION")/bin"
  local kpath="$kd:$KBIN:/usr/bin:/bin"
  check "krew $KREW_VERSION validate-krew-manifest accepts the release's c8dr.yaml (installs it from $url)" \
    env PATH="$kpath" HOME="$RUN/krew-validate" "$kd/validate-krew-manifest" -manifest "$www/release/c8dr.yaml"
  local krew_root="$RUN/krew"
  check "kubectl krew install --manifest=c8dr.yaml --archive=$archive" \
    env PATH="$kpath" KREW_ROOT="$krew_root" kubectl krew install \
    --manifest="$www/release/c8dr.yaml" --archive="$www/release/$archive"
  check "kubectl c8dr --version (krew's copy) names v$version and commit $commit" \
    bash -c "out=\$(PATH='$krew_root/bin:$kpath' kubectl c8dr --version) && echo \"\$out\" &&
      [ \"\$out\" = 'kubectl c8dr $version (commit $commit)' ] &&
      PATH='$krew_root/bin:$kpath' kubectl c8dr version -o json | jq -e '.version == \"$version\" and .gitCommit == \"$commit\" and .target == \"$target\"'"

  # The helm plugin, from the release's plugin archive, with a PATH of the tools the hook and
  # helm use and nothing else: no helm-c8dr on it, no krew store, no cargo, so the hook's only
  # way to a binary is the download.
  local tools="$RUN/release-tools" t
  mkdir -p "$tools"
  for t in sh bash cat chmod cp curl dirname head ln mkdir mktemp rm sed awk tail tar gzip uname sha256sum; do
    ln -sf "$(command -v "$t")" "$tools/$t"
  done
  # Each install from its own extracted copy: Helm 3 and 4 install a directory as a link to it,
  # so a shared one would already hold the first install's bin/helm-c8dr.
  local v home name out
  for v in "${HELMS[@]}"; do
    home="$RUN/release-helm-$v"
    mkdir -p "$home/data/plugins" "$home/src"
    tar -xzf "$www/release/$plugin" -C "$home/src"
    local henv=(PATH="$tools" HOME="$home" KREW_ROOT="$home/no-krew" HELM_PLUGINS="$home/data/plugins"
      HELM_DATA_HOME="$home/data" HELM_CONFIG_HOME="$home/config" HELM_CACHE_HOME="$home/cache")
    name="helm $v plugin install <the release's plugin directory>: the hook downloads and verifies helm-c8dr"
    check "$name" env "${henv[@]}" "$(helm_bin "$v")" plugin install "$home/src/helm-c8dr-plugin"
    check "helm $v: the hook downloaded $archive from $url (no cargo, no installed copy)" \
      grep -q "helm-c8dr: installed .* from $url/$archive, sha256 verified" "$(log_of "$name")"
    check "helm $v c8dr --version (the downloaded copy) names $version and commit $commit" \
      bash -c "out=\$(env ${henv[*]} '$(helm_bin "$v")' c8dr --version) && echo \"\$out\" &&
        [ \"\$out\" = 'helm c8dr $version (commit $commit)' ] &&
        env ${henv[*]} '$(helm_bin "$v")' c8dr version -o json | jq -e '.version == \"$version\" and .gitCommit == \"$commit\"'"
    check "helm $v: helm c8dr <TAB> completes from the release's plugin (its completion.yaml)" \
      env "${henv[@]}" PATH="$tools:$PATH" bash "$HERE/helm-completion.sh" "$(helm_bin "$v")"
  done

  # Helm 4 verifies what it installs from an archive (helm.sh/helm/v4 v4.3.1,
  # pkg/cmd/plugin_install.go: --verify defaults to true for archives and OCI; a directory is
  # "local dev" and not verified): the release ships no .prov, so the archive needs --verify=false.
  v="$HELM4_VERSION"
  home="$RUN/release-helm4-tgz"
  local h4=(PATH="$tools" HOME="$home" KREW_ROOT="$home/no-krew" HELM_PLUGINS="$home/data/plugins"
    HELM_DATA_HOME="$home/data" HELM_CONFIG_HOME="$home/config" HELM_CACHE_HOME="$home/cache")
  mkdir -p "$home/data/plugins"
  check "helm $v plugin install $plugin without --verify=false is refused (no .prov)" \
    bash -c "env ${h4[*]} '$(helm_bin "$v")' plugin install '$www/release/$plugin' >'$home/refused.out' 2>&1
      rc=\$?; cat '$home/refused.out'; [ \$rc != 0 ] && grep -q 'no provenance file (.prov) found' '$home/refused.out'"
  check "helm $v plugin install --verify=false $plugin: the hook downloads helm-c8dr" \
    env "${h4[@]}" "$(helm_bin "$v")" plugin install --verify=false "$www/release/$plugin"
  check "helm $v c8dr --version (installed from $plugin) names $version and commit $commit" \
    bash -c "[ \"\$(env ${h4[*]} '$(helm_bin "$v")' c8dr --version)\" = 'helm c8dr $version (commit $commit)' ]"

  # A corrupted archive: the install fails with the hook's one line, and no binary is left.
  v="$HELM3_OLD_VERSION"
  home="$RUN/release-helm-corrupt"
  mkdir -p "$home/data/plugins" "$home/src"
  tar -xzf "$www/release/$plugin" -C "$home/src"
  name="helm $v plugin install with a corrupted $archive fails with one clear line"
  check "$name" bash -c "env PATH='$tools' HOME='$home' KREW_ROOT='$home/no-krew' HELM_PLUGINS='$home/data/plugins' \
      HELM_DATA_HOME='$home/data' HELM_CONFIG_HOME='$home/config' HELM_CACHE_HOME='$home/cache' \
      C8DR_RELEASE_URL='http://127.0.0.1:$port/corrupt' '$(helm_bin "$v")' plugin install '$home/src/helm-c8dr-plugin' >'$RUN/corrupt.out' 2>&1
    rc=\$?; cat '$RUN/corrupt.out'; [ \$rc != 0 ] &&
    grep -x 'helm-c8dr: install failed: http://127.0.0.1:$port/corrupt/$archive does not match its SHA256SUMS entry (sha256 [0-9a-f]*, expected [0-9a-f]*): not installed' '$RUN/corrupt.out' &&
    ! ls '$home'/data/plugins/*/bin/helm-c8dr 2>/dev/null"
}
