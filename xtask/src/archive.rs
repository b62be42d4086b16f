//! Writing a release archive (gzip-compressed tar) the same way every time: entries in the
//! order given, owner 0:0, a fixed modification time, modes 0755/0644, so an archive differs
//! only when its contents do; and the sha256 of a file, as `sha256sum` prints it.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, Result};
use flate2::Compression;
use flate2::write::GzEncoder;
use sha2::{Digest as _, Sha256};

/// One file of an archive: its path inside, its contents, executable or not.
pub struct Entry {
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

impl Entry {
    /// `source` read from disk, stored as `path`.
    pub fn file(path: impl Into<String>, source: &Path, executable: bool) -> Result<Self> {
        Ok(Self {
            path: path.into(),
            contents: std::fs::read(source)
                .with_context(|| format!("reading {}", source.display()))?,
            executable,
        })
    }
}

/// Writes `entries` as a .tar.gz to `to`, every entry with modification time `mtime` (seconds
/// since the epoch). Directories are implied by the paths (tar needs no entries for them).
pub fn write_tar_gz(to: &Path, entries: &[Entry], mtime: u64) -> Result<()> {
    let file = std::fs::File::create(to).with_context(|| format!("creating {}", to.display()))?;
    let mut tar = tar::Builder::new(GzEncoder::new(file, Compression::best()));
    for e in entries {
        let mut header = tar::Header::new_gnu();
        header.set_size(e.contents.len() as u64);
        header.set_mode(if e.executable { 0o755 } else { 0o644 });
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &e.path, e.contents.as_slice())
            .with_context(|| format!("adding {} to {}", e.path, to.display()))?;
    }
    let gz = tar
        .into_inner()
        .with_context(|| format!("writing {}", to.display()))?;
    let mut file = gz
        .finish()
        .with_context(|| format!("writing {}", to.display()))?;
    file.flush()
        .with_context(|| format!("writing {}", to.display()))?;
    Ok(())
}

/// The sha256 of a file in lower-case hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_entries_make_the_same_archive_and_sha256_is_sha256sums() {
        let dir = tempfile::tempdir().expect("tempdir");
        let entries = || {
            vec![
                Entry {
                    path: "bin".into(),
                    contents: b"#!/bin/sh\n".to_vec(),
                    executable: true,
                },
                Entry {
                    path: "man/man1/x.1".into(),
                    contents: b".TH X 1\n".to_vec(),
                    executable: false,
                },
            ]
        };
        let (a, b) = (dir.path().join("a.tar.gz"), dir.path().join("b.tar.gz"));
        write_tar_gz(&a, &entries(), 1_700_000_000).expect("a");
        std::thread::sleep(std::time::Duration::from_millis(1100));
        write_tar_gz(&b, &entries(), 1_700_000_000).expect("b");
        assert_eq!(std::fs::read(&a).expect("a"), std::fs::read(&b).expect("b"));
        // The digest `sha256sum` prints for the three bytes "abc" (FIPS 180-2's example).
        let abc = dir.path().join("abc");
        std::fs::write(&abc, "abc").expect("abc");
        assert_eq!(
            sha256_file(&abc).expect("digest"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        // Modes as a user would see them after extracting.
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
            std::fs::File::open(&a).expect("open"),
        ));
        let modes: Vec<(String, u32)> = archive
            .entries()
            .expect("entries")
            .map(|e| {
                let e = e.expect("entry");
                (
                    e.path().expect("path").display().to_string(),
                    e.header().mode().expect("mode"),
                )
            })
            .collect();
        assert_eq!(
            modes,
            [("bin".into(), 0o755), ("man/man1/x.1".into(), 0o644)]
        );
    }
}
