//! `cargo xtask dist`: one command from a checkout to a release's assets. It builds the static
//! binaries of each target with `cargo zigbuild` (zig as the C toolchain and linker, so a musl
//! target for any architecture builds on any Linux host), writes the man pages with a binary
//! that runs here, packs one archive per target and the helm plugin's archive, and writes
//! SHA256SUMS and the krew manifest from the archives it just wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, Result, bail};

use crate::archive::{Entry, sha256_file, write_tar_gz};
use crate::krew::{Manifest, manifest};
use crate::release::{
    BINARIES, COMPLETION_SHIM, KREW_MANIFEST, LICENSE, MAN_DIR, PLUGIN_DIR,
    PLUGIN_RELEASE_URL_FILE, RELEASE_URL_ENV, SHA256SUMS, VERSION, archive_name, platform,
    plugin_archive_name,
};

/// What `cargo xtask dist` was asked for.
pub struct Options {
    pub targets: Vec<String>,
    pub out: PathBuf,
    pub url_base: String,
    pub skip_build: bool,
    /// The cargo profile: `release` for a release; the real-stack tier packs `release-test`
    /// (the same sources without optimisation, minutes less on 2 cores).
    pub profile: String,
}

/// The checkout this xtask belongs to.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn target_dir(root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
}

/// plugin.yaml's `version:` (the hook reads it to name the archive it downloads).
pub fn plugin_yaml_version(plugin_yaml: &str) -> Option<&str> {
    plugin_yaml
        .lines()
        .find_map(|l| l.strip_prefix("version:"))
        .map(|v| v.trim().trim_matches('"'))
}

fn run(cmd: &mut Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    let status = cmd.status().with_context(|| format!("running {shown}"))?;
    if !status.success() {
        bail!("{shown} failed ({status})");
    }
    Ok(())
}

fn build(root: &Path, target: &str, profile: &str) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("dist: building {target} (cargo zigbuild --profile {profile})");
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "zigbuild",
        "--locked",
        "--profile",
        profile,
        "--target",
        target,
    ]);
    for b in BINARIES {
        cmd.args(["-p", b]);
    }
    run(&mut cmd).context(
        "cargo zigbuild is needed for the release targets: `python3 -m pip install ziglang \
         cargo-zigbuild` and `rustup target add TARGET` (README \"Building a release\")",
    )
}

/// The man pages, written by the first built `kubectl-c8dr`/`helm-c8dr` that runs on this
/// machine (they are the same for every target).
fn man_pages(bins: &[PathBuf], into: &Path) -> Result<Vec<PathBuf>> {
    let runs = bins.iter().find(|dir| {
        BINARIES.iter().all(|b| {
            Command::new(dir.join(b))
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
    });
    let Some(dir) = runs else {
        bail!(
            "none of the built targets runs on this machine to write the man pages: add this machine's target to --target"
        );
    };
    for b in BINARIES {
        run(Command::new(dir.join(b)).arg("man").arg(into))?;
    }
    let mut pages: Vec<PathBuf> = std::fs::read_dir(into)
        .with_context(|| format!("reading {}", into.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    pages.sort();
    Ok(pages)
}

/// The time every archive entry carries: the commit's (or SOURCE_DATE_EPOCH), so a rebuild of
/// the same commit packs the same archive.
fn mtime(root: &Path) -> u64 {
    if let Some(t) = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return t;
    }
    Command::new("git")
        .args(["log", "-1", "--format=%ct"])
        .current_dir(root)
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

fn platform_archive(root: &Path, bin_dir: &Path, pages: &[PathBuf], to: &Path) -> Result<()> {
    let mut entries = vec![];
    for b in BINARIES {
        entries.push(Entry::file(*b, &bin_dir.join(b), true)?);
    }
    entries.push(Entry::file(
        COMPLETION_SHIM,
        &root.join("dist").join(COMPLETION_SHIM),
        true,
    )?);
    entries.push(Entry::file(LICENSE, &root.join(LICENSE), false)?);
    for page in pages {
        let name = page.file_name().map(|n| n.to_string_lossy().into_owned());
        let name = name.context("a man page without a name")?;
        entries.push(Entry::file(format!("{MAN_DIR}/{name}"), page, false)?);
    }
    write_tar_gz(to, &entries, mtime(root))
}

/// The helm plugin as `helm plugin install` takes it: [`PLUGIN_DIR`] with plugin.yaml, the
/// completion file Helm reads beside it (`helm c8dr <TAB>`), the install hook, the licence and
/// the URL base the hook downloads the binary from.
fn plugin_archive(root: &Path, url_base: &str, to: &Path) -> Result<()> {
    let entries = vec![
        Entry::file(
            format!("{PLUGIN_DIR}/plugin.yaml"),
            &root.join("plugin.yaml"),
            false,
        )?,
        Entry::file(
            format!("{PLUGIN_DIR}/completion.yaml"),
            &root.join("completion.yaml"),
            false,
        )?,
        Entry::file(
            format!("{PLUGIN_DIR}/scripts/install-binary.sh"),
            &root.join("scripts/install-binary.sh"),
            true,
        )?,
        Entry::file(
            format!("{PLUGIN_DIR}/{LICENSE}"),
            &root.join(LICENSE),
            false,
        )?,
        Entry {
            path: format!("{PLUGIN_DIR}/{PLUGIN_RELEASE_URL_FILE}"),
            contents: format!("{url_base}\n").into_bytes(),
            executable: false,
        },
    ];
    write_tar_gz(to, &entries, mtime(root))
}

/// Builds and writes every asset of the release into `o.out`.
pub fn dist(o: &Options) -> Result<()> {
    let root = root();
    let plugin_yaml = std::fs::read_to_string(root.join("plugin.yaml")).context("plugin.yaml")?;
    if plugin_yaml_version(&plugin_yaml) != Some(VERSION) {
        bail!("plugin.yaml's version is not the workspace's {VERSION}: make them equal");
    }
    if let Some(t) = o.targets.iter().find(|t| platform(t).is_none()) {
        bail!("{t} is not a release target (xtask/src/release.rs PLATFORMS)");
    }
    if !o.skip_build {
        for t in &o.targets {
            build(&root, t, &o.profile)?;
        }
    }
    let bin_dirs: Vec<PathBuf> = o
        .targets
        .iter()
        .map(|t| target_dir(&root).join(t).join(&o.profile))
        .collect();
    std::fs::create_dir_all(&o.out).with_context(|| format!("creating {}", o.out.display()))?;
    let man = o.out.join(".man");
    let _ = std::fs::remove_dir_all(&man);
    let pages = man_pages(&bin_dirs, &man)?;
    let mut digests = BTreeMap::new();
    let mut sums = BTreeMap::new();
    for (t, bin_dir) in o.targets.iter().zip(&bin_dirs) {
        let name = archive_name(t);
        platform_archive(&root, bin_dir, &pages, &o.out.join(&name))?;
        let digest = sha256_file(&o.out.join(&name))?;
        digests.insert(t.clone(), digest.clone());
        sums.insert(name, digest);
    }
    std::fs::remove_dir_all(&man).with_context(|| format!("removing {}", man.display()))?;
    let plugin = plugin_archive_name();
    plugin_archive(&root, &o.url_base, &o.out.join(&plugin))?;
    sums.insert(plugin.clone(), sha256_file(&o.out.join(&plugin))?);
    let sums_text: String = sums.iter().map(|(n, d)| format!("{d}  {n}\n")).collect();
    std::fs::write(o.out.join(SHA256SUMS), sums_text).context(SHA256SUMS)?;
    let krew = manifest(&Manifest::Release {
        url_base: &o.url_base,
        digests: &digests,
    });
    std::fs::write(o.out.join(KREW_MANIFEST), krew).context(KREW_MANIFEST)?;
    for name in sums
        .keys()
        .chain([&SHA256SUMS.to_string(), &KREW_MANIFEST.to_string()])
    {
        println!("{}", o.out.join(name).display());
    }
    eprintln!(
        "dist: the krew manifest and {plugin} download from {} ({RELEASE_URL_ENV} overrides it \
         for the helm plugin)",
        o.url_base
    );
    Ok(())
}
