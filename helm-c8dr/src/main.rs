//! `helm c8dr`: redeploy Camunda 8 dual-region releases with the overlays the failover/failback
//! procedure needs. Thin: parse flags, make one core call, render, exit with the error's code.

mod cli;
mod complete;
mod render;

use std::process::ExitCode;

use c8dr_common::Error;
use c8dr_common::config::Env;
use c8dr_common::error::exit;
use c8dr_common::helm;
use clap::{CommandFactory, Parser};

use cli::{Cli, Command};

fn main() -> ExitCode {
    c8dr_common::error::install_panic_hook("helm-c8dr");
    // `HELM_C8DR_COMPLETE=bash helm-c8dr -- WORDS…`: the callback of `completion SHELL`'s
    // registration.
    if complete::env_callback() {
        return ExitCode::SUCCESS;
    }
    let args = match c8dr_common::config::args(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            c8dr_common::errln!("error: {e}");
            return exit_code(exit::USAGE);
        }
    };
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // As clap prints it, unless it echoes an overlong value (cut, as every error is).
            let plain = e.render().to_string();
            if !e.use_stderr() || c8dr_common::error::bound_message(&plain) == plain {
                e.exit()
            }
            c8dr_common::err!("{}", c8dr_common::error::bound_message(&plain));
            std::process::exit(e.exit_code())
        }
    };
    match &cli.command {
        Command::Completion { shell } => {
            // Written at once, so that a reader that went away (`| head`) ends the output, not
            // the process.
            let mut script = vec![];
            return match complete::registration(&shell.to_string(), &mut script) {
                Ok(()) => {
                    c8dr_common::out!("{}", String::from_utf8_lossy(&script));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    c8dr_common::errln!("error: completion {shell}: {e}");
                    exit_code(exit::USAGE)
                }
            };
        }
        Command::CompletionYaml => {
            c8dr_common::out!("{}", complete::completion_yaml(&Cli::command()));
            return ExitCode::SUCCESS;
        }
        Command::Man { dir } => {
            return match std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command().name("helm-c8dr"), dir))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    c8dr_common::errln!("error: writing man pages to {}: {e}", dir.display());
                    exit_code(exit::FAILED)
                }
            };
        }
        _ => {}
    }
    let output = cli.output.clone();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            render::error(&e, &output);
            exit_code(e.exit_code())
        }
    }
}

/// The process's exit code for `code` (an `error::exit` code or helm's own, in 0..=255): out of
/// range, FAILED.
fn exit_code(code: i32) -> ExitCode {
    let failed = u8::try_from(exit::FAILED).unwrap_or(u8::MAX);
    ExitCode::from(u8::try_from(code).unwrap_or(failed))
}

fn run(cli: Cli) -> Result<(), Error> {
    let env = Env::from_process();
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the working directory: {e}")))?;
    let runtime = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::failed(format!("starting the runtime: {e}")))
    };
    match cli.command {
        Command::Redeploy(args) => {
            let runtime = runtime()?;
            let report = runtime.block_on(helm::redeploy(&args.request()?, &env, &cwd))?;
            render::redeploy(&report, &cli.output)?;
            match report.error() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        Command::Overlay(args) => {
            // The overlay depends on the release (the schema switch's spelling): planned as
            // `redeploy` plans, the chart label read unless --version pins it.
            let request = args.request()?;
            let plan = runtime()?.block_on(helm::plan(&request, &env, &cwd))?;
            render::overlays(&plan, args.show_secrets, &cli.output)
        }
        Command::Version => {
            let info = c8dr_common::output::VersionInfo {
                binary: "helm-c8dr".into(),
                version: env!("CARGO_PKG_VERSION").into(),
                git_commit: env!("C8DR_GIT_COMMIT").into(),
                target: env!("C8DR_TARGET").into(),
                rustc_version: env!("C8DR_RUSTC_VERSION").into(),
            };
            if cli.output.is_document() {
                render::document(&info, &cli.output)
            } else {
                use c8dr_common::output::Render;
                c8dr_common::out!("{}", info.text());
                Ok(())
            }
        }
        // Handled before any I/O in `main`.
        Command::Completion { .. } | Command::CompletionYaml | Command::Man { .. } => Ok(()),
    }
}
