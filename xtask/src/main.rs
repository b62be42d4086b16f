//! `cargo xtask`: c8dr's release tooling (README "Building a release").
//!
//!   cargo xtask dist --url-base URL [--target TRIPLE]... [--out DIR]
//!   cargo xtask krew-manifest --template            (what dist/krew/c8dr.yaml holds)

mod archive;
mod dist;
mod krew;
mod release;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "c8dr's release tooling")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Build the release: an archive per target, the helm plugin's archive, SHA256SUMS and the
    /// krew manifest, in --out
    Dist {
        /// Where the release's assets will be downloaded from (the URL of the directory that
        /// holds them, e.g. a GitHub release's download URL): the krew manifest's URLs and the
        /// helm plugin's download location
        #[arg(long)]
        url_base: String,
        /// A target triple to build (repeat it); default: every release target
        #[arg(long = "target")]
        targets: Vec<String>,
        /// The directory the assets are written to
        #[arg(long, default_value = "target/dist")]
        out: PathBuf,
        /// Pack what an earlier build left in the target directory instead of building
        #[arg(long)]
        skip_build: bool,
        /// The cargo profile to build with (release-test: the real-stack tier's, unoptimised)
        #[arg(long, default_value = "release")]
        profile: String,
    },
    /// Print the krew manifest template (dist/krew/c8dr.yaml)
    KrewManifest {
        /// The template with placeholders for the URLs and digests (the only form without a
        /// release: a release's manifest is written by `dist`)
        #[arg(long, required = true)]
        template: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let done = match cli.command {
        Cmd::Dist {
            url_base,
            targets,
            out,
            skip_build,
            profile,
        } => {
            let targets = if targets.is_empty() {
                release::PLATFORMS
                    .iter()
                    .map(|p| p.target.to_string())
                    .collect()
            } else {
                targets
            };
            dist::dist(&dist::Options {
                targets,
                out,
                url_base,
                skip_build,
                profile,
            })
        }
        Cmd::KrewManifest { .. } => {
            print!("{}", krew::manifest(&krew::Manifest::Template));
            Ok(())
        }
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests;
