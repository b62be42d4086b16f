//! What a release is made of: its version, the platforms it is built for and the names and
//! contents of its assets. The archive builder (archive.rs), the krew manifest (krew.rs), the
//! helm plugin's install hook (scripts/install-binary.sh, which builds the same names) and the
//! README's "Install from a release" all follow this file.

/// The release version: the workspace's (`Cargo.toml` `[workspace.package] version`), which every
/// binary's `--version` and plugin.yaml's `version` carry too.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// One platform a release archive is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Platform {
    /// The Rust target triple: part of the archive's name.
    pub target: &'static str,
    /// krew's `os`/`arch` selector labels (Go's GOOS/GOARCH) for it.
    pub os: &'static str,
    pub arch: &'static str,
    /// What `uname -s`/`uname -m` print on it (the install hook picks the archive by these).
    pub uname_s: &'static str,
    pub uname_m: &'static [&'static str],
}

/// Every platform `cargo xtask dist` builds by default: static (musl) Linux binaries, which run
/// on any Linux distribution of the architecture. macOS and Windows are not built (README
/// "Install from a release").
pub const PLATFORMS: &[Platform] = &[
    Platform {
        target: "x86_64-unknown-linux-musl",
        os: "linux",
        arch: "amd64",
        uname_s: "Linux",
        uname_m: &["x86_64", "amd64"],
    },
    Platform {
        target: "aarch64-unknown-linux-musl",
        os: "linux",
        arch: "arm64",
        uname_s: "Linux",
        uname_m: &["aarch64", "arm64"],
    },
];

/// The platform of a target triple, if a release builds it.
pub fn platform(target: &str) -> Option<&'static Platform> {
    PLATFORMS.iter().find(|p| p.target == target)
}

/// The binaries cargo builds for an archive.
pub const BINARIES: &[&str] = &["kubectl-c8dr", "helm-c8dr"];
/// kubectl's completion shim for the plugin (dist/kubectl_complete-c8dr).
pub const COMPLETION_SHIM: &str = "kubectl_complete-c8dr";
/// The licence file (krew's validator requires one in what a plugin installs).
pub const LICENSE: &str = "LICENSE";
/// The directory of the man pages inside an archive (`man/man1/*.1`).
pub const MAN_DIR: &str = "man/man1";

/// The files at the top of every platform archive that krew copies (`files:`), `bin` first.
pub const KREW_FILES: &[&str] = &["kubectl-c8dr", "helm-c8dr", COMPLETION_SHIM, LICENSE];

/// `c8dr-<version>-<target>.tar.gz`.
pub fn archive_name(target: &str) -> String {
    format!("c8dr-{VERSION}-{target}.tar.gz")
}

/// The directory the helm plugin's archive holds everything in. Helm 4 installs an archive
/// only when its top directory is the archive's name without `-<version>.tgz`
/// (helm.sh/helm/v4 v4.3.1, internal/plugin/installer/local_installer.go: stripPluginName).
pub const PLUGIN_DIR: &str = "helm-c8dr-plugin";

/// The helm plugin's own archive: plugin.yaml, completion.yaml, the install hook and the release URL it
/// downloads from, under [`PLUGIN_DIR`] (`helm plugin install` takes the directory; Helm 4
/// also the archive, with `--verify=false`: README).
pub fn plugin_archive_name() -> String {
    format!("{PLUGIN_DIR}-{VERSION}.tgz")
}

/// The checksum file of a release: `sha256sum -c SHA256SUMS` checks every asset.
pub const SHA256SUMS: &str = "SHA256SUMS";

/// The krew manifest a release writes next to its archives.
pub const KREW_MANIFEST: &str = "c8dr.yaml";

/// The file in the plugin archive that holds the release's URL base, read by the install hook
/// (the environment variable [`RELEASE_URL_ENV`] overrides it).
pub const PLUGIN_RELEASE_URL_FILE: &str = "release-url";

/// The environment variable that points the install hook at a release location.
pub const RELEASE_URL_ENV: &str = "C8DR_RELEASE_URL";
