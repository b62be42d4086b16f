//! `helm c8dr`: redeploy Camunda 8 dual-region releases with the overlays the failover/failback
//! procedure needs. Thin: parse flags, make one core call, render, exit with the error's code.

mod cli;
mod confirm;
mod render;

use std::process::ExitCode;

use c8dr_common::Error;
use c8dr_common::config::Env;
use c8dr_common::helm;
use clap::Parser;

use cli::{Cli, Command, Output};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = cli.output;
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            render::error(&e, output);
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}

fn run(cli: Cli) -> Result<(), Error> {
    let env = Env::from_process();
    let cwd = std::env::current_dir()
        .map_err(|e| Error::usage(format!("cannot read the working directory: {e}")))?;
    match cli.command {
        Command::Redeploy(args) => {
            let request = args.request()?;
            let plan = helm::plan(&request, &env, &cwd)?;
            let report = if request.dry_run {
                plan.dry_run()?
            } else {
                confirm::confirm(
                    &plan,
                    args.yes || env.get("C8DR_ASSUME_YES").is_some_and(confirm::truthy),
                )?;
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| Error::failed(format!("starting the runtime: {e}")))?;
                runtime.block_on(plan.execute())?
            };
            render::redeploy(&report, cli.output == Output::Json)?;
            match report.error() {
                Some(e) => Err(e),
                None => Ok(()),
            }
        }
        Command::Overlay(args) => {
            let request = args.request()?;
            let plan = helm::plan(&request, &env, &cwd)?;
            render::overlays(&plan, args.show_secrets, cli.output == Output::Json)
        }
    }
}
