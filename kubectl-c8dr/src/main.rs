//! `kubectl-c8dr`: parse, call one core function, render, map errors to exit codes.

mod cli;
mod es;
mod status;

use std::process::ExitCode;

use c8dr_common::commands::{brokers, changes, exporters, exporting, topology};
use c8dr_common::config::Env;
use c8dr_common::error::{Error, Result};
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
            &brokers::brokers_remove(s, selection(&sel)?, skip_liveness_check).await?,
        ),
        Command::Brokers(Brokers::Add {
            selection: sel,
            replication_factor,
            cluster_size,
        }) => show(
            s,
            &brokers::brokers_add(s, selection(&sel)?, cluster_size, replication_factor).await?,
        ),
        Command::Exporters(Exporters::List) => show(s, &exporters::exporters_list(s).await?),
        Command::Exporters(Exporters::Disable {
            id,
            allow_no_exporter,
        }) => show(
            s,
            &exporters::exporter_set_with(s, &id, false, None, allow_no_exporter).await?,
        ),
        Command::Exporters(Exporters::Enable {
            id,
            initialize_from,
        }) => show(
            s,
            &exporters::exporter_set(s, &id, true, initialize_from.as_deref()).await?,
        ),
        Command::Exporting(Exporting::Pause { soft }) => {
            show(s, &exporting::exporting_pause(s, soft).await?)
        }
        Command::Exporting(Exporting::Resume) => show(s, &exporting::exporting_resume(s).await?),
        Command::Changes(Changes::Show) => show(s, &changes::changes_show(s).await?),
        Command::Changes(Changes::Wait { id }) => show(s, &changes::changes_wait(s, id).await?),
        Command::Changes(Changes::Cancel { id }) => show(s, &changes::changes_cancel(s, id).await?),
        Command::Topology => show(s, &topology::topology(s).await?),
        Command::Status(args) => status::status(s, args).await,
        Command::Profiles(args) => status::profiles(s, args).await,
        Command::Es(command) => es::run(s, command).await,
        Command::Failover { lost } => {
            let lost = lost
                .as_deref()
                .map(|l| l.parse().map_err(|e: Error| e.context("--lost")))
                .transpose()?;
            show(
                s,
                &c8dr_common::commands::failover::failover(s, lost).await?,
            )
        }
        Command::Failback {
            replication_factor,
            cluster_size,
            bucket,
            repo_type,
            location,
            repo,
            delete_existing_indices,
            es_user,
            es_password_env,
            no_pre_copy,
            no_tuning,
            snapshot_rate,
        } => {
            let args = c8dr_common::commands::failback::FailbackArgs {
                replication_factor,
                cluster_size,
                repo: c8dr_common::es::RepoFlags {
                    kind: repo_type,
                    bucket,
                    location,
                    ..Default::default()
                },
                es: c8dr_common::es::EsAccess {
                    repository: repo,
                    user: es_user,
                    password_env: es_password_env,
                },
                delete_existing_indices,
                no_pre_copy,
                no_tuning,
                snapshot_rate,
            };
            show(
                s,
                &c8dr_common::commands::failback::failback(s, &args).await?,
            )
        }
        Command::Completion { .. } | Command::Man { .. } => Ok(()),
    }
}

/// Number flags checked against each other before any call (SPEC 4.8: exit 2, no request).
fn validate(command: &Command) -> Result<()> {
    let checked = match command {
        Command::Brokers(Brokers::Add {
            selection,
            replication_factor,
            cluster_size,
        }) => cli::check_sizes(
            selection.odd || selection.even,
            *cluster_size,
            *replication_factor,
        ),
        Command::Failback {
            replication_factor,
            cluster_size,
            ..
        } => cli::check_sizes(true, *cluster_size, *replication_factor),
        _ => Ok(()),
    };
    checked.map_err(Error::usage)
}

/// Candidates for the last word, in cobra's `__complete` format (one per line, then the
/// directive `:4` = no file completion), which kubectl's plugin completion expects.
fn complete(words: &[String]) -> String {
    let (last, before) = words
        .split_last()
        .map(|(l, b)| (l.as_str(), b))
        .unwrap_or(("", &[]));
    let mut cmd = Cli::command();
    for w in before.iter().filter(|w| !w.starts_with('-')) {
        match cmd.find_subcommand(w) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    let mut out: Vec<String> = if last.starts_with('-') {
        cmd.get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .filter(|l| l.starts_with(last))
            .collect()
    } else {
        cmd.get_subcommands()
            .filter(|c| !c.is_hide_set() && c.get_name().starts_with(last))
            .map(|c| c.get_name().to_string())
            .collect()
    };
    out.push(":4".into());
    out.join("\n") + "\n"
}

fn main() -> ExitCode {
    // kubectl's plugin completion (kubectl_complete-c8dr) calls `kubectl-c8dr __complete ARGS…`.
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("__complete") {
        print!("{}", complete(&args[2..]));
        return ExitCode::SUCCESS;
    }
    let cli = Cli::parse();
    match &cli.command {
        Command::Completion { shell } => {
            clap_complete::generate(
                *shell,
                &mut Cli::command(),
                "kubectl-c8dr",
                &mut std::io::stdout(),
            );
            return ExitCode::SUCCESS;
        }
        Command::Man { dir } => {
            return match std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command().name("kubectl-c8dr"), dir))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: writing man pages to {}: {e}", dir.display());
                    ExitCode::from(1)
                }
            };
        }
        _ => {}
    }
    // kube-rs logs connection failures at ERROR; c8dr reports them itself (exit 5).
    let filter = if cli.global.verbose {
        "c8dr_common=debug,kubectl_c8dr=debug"
    } else {
        "warn,kube_client=off"
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .without_time()
        .init();
    let result = validate(&cli.command)
        .and_then(|()| flags(&cli.global).resolve(Env::from_process()))
        .and_then(|(settings, ui)| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| Error::failed(format!("starting the runtime: {e}")))?;
            runtime.block_on(async {
                // SIGINT/SIGTERM/SIGHUP: undo a pause this run made, exit 130/143/129.
                c8dr_common::commands::pause_guard::watch_signals();
                run(Session::new(settings, ui), cli.command).await
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1))
        }
    }
}
