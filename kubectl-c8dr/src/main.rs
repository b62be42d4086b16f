//! `kubectl-c8dr`: parse, call one core function, render, map errors to exit codes.

mod cli;
mod es;
mod status;

use std::process::ExitCode;

use c8dr_common::config::Env;
use c8dr_common::error::{Error, Result};
use c8dr_common::ops::zeebe as ops;
use c8dr_common::output::{Render, render};
use c8dr_common::session::{GlobalFlags, Session};
use c8dr_common::zeebe::brokers::Selection;
use clap::{CommandFactory, Parser};
use cli::{BrokerSelection, Brokers, Changes, Cli, Command, Exporters, Exporting, Global};

fn flags(g: &Global) -> GlobalFlags {
    GlobalFlags {
        kubeconfig: g.kubeconfig.clone(),
        context: g.context.clone(),
        namespace: g.namespace.clone(),
        region: g.region.clone(),
        release: g.release.clone(),
        gateway_url: g.gateway_url.clone(),
        rest_url: g.rest_url.clone(),
        es_url: g.es_url.clone(),
        output: g.output.clone(),
        dry_run: g.dry_run,
        yes: g.yes,
        timeout: Some(g.timeout.clone()),
        no_wait: g.no_wait,
        quiet: g.quiet,
    }
}

fn selection(s: &BrokerSelection) -> Result<Selection> {
    Selection::from_flags(s.odd, s.even, s.ids.as_deref())
}

pub(crate) fn show<T: Render>(session: &Session, value: &T) -> Result<()> {
    print!("{}", render(value, session.settings.output)?);
    Ok(())
}

async fn run(session: Session, command: Command) -> Result<()> {
    let s = &session;
    match command {
        Command::Brokers(Brokers::Remove {
            selection: sel,
            skip_liveness_check,
        }) => show(
            s,
            &ops::brokers_remove(s, selection(&sel)?, skip_liveness_check).await?,
        ),
        Command::Brokers(Brokers::Add {
            selection: sel,
            replication_factor,
            cluster_size,
        }) => show(
            s,
            &ops::brokers_add(s, selection(&sel)?, cluster_size, replication_factor).await?,
        ),
        Command::Exporters(Exporters::List) => show(s, &ops::exporters_list(s).await?),
        Command::Exporters(Exporters::Disable { id }) => {
            show(s, &ops::exporter_set(s, &id, false, None).await?)
        }
        Command::Exporters(Exporters::Enable {
            id,
            initialize_from,
        }) => show(
            s,
            &ops::exporter_set(s, &id, true, initialize_from.as_deref()).await?,
        ),
        Command::Exporting(Exporting::Pause { soft }) => {
            show(s, &ops::exporting_pause(s, soft).await?)
        }
        Command::Exporting(Exporting::Resume) => show(s, &ops::exporting_resume(s).await?),
        Command::Changes(Changes::Show) => show(s, &ops::changes_show(s).await?),
        Command::Changes(Changes::Wait { id }) => show(s, &ops::changes_wait(s, id).await?),
        Command::Changes(Changes::Cancel { id }) => show(s, &ops::changes_cancel(s, id).await?),
        Command::Topology => show(s, &ops::topology(s).await?),
        Command::Status(args) => status::status(s, args).await,
        Command::Profiles(args) => status::profiles(s, args).await,
        Command::Es(command) => es::run(s, command).await,
        Command::Completion { .. } => Ok(()),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completion { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "kubectl-c8dr",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let filter = if cli.global.verbose {
        "c8dr_common=debug,kubectl_c8dr=debug"
    } else {
        "warn"
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let result = flags(&cli.global)
        .resolve(Env::from_process())
        .and_then(|(settings, ui)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| Error::failed(format!("starting the runtime: {e}")))?;
            runtime.block_on(run(Session::new(settings, ui), cli.command))
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
