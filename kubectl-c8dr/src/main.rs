//! `kubectl-c8dr`: parse, call one core function, render, map errors to exit codes.

mod cli;
mod complete;
mod es;
mod help;
mod status;
mod step_text;
mod version;

use std::process::ExitCode;

use c8dr_common::commands::{
    Outcome, brokers, changes, exporters, exporting, history, rebalance, topology,
};
use c8dr_common::config::Env;
use c8dr_common::error::{Error, Result, exit};
use c8dr_common::output::{Render, render};
use c8dr_common::session::{GlobalFlags, Session};
use c8dr_common::zeebe::brokers::Selection;
use std::io::IsTerminal;

use c8dr_common::output::Format;
use c8dr_common::ui::{self, ColorChoice};
use clap::{CommandFactory, FromArgMatches};
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
        dry_run: g.dry_run.as_deref().is_some_and(|m| m != "none"),
        server_dry_run: g.dry_run.as_deref() == Some("server"),
        yes: g.yes,
        timeout: Some(g.timeout.clone()),
        no_wait: g.no_wait,
        allow_unknown_release: g.allow_unknown_release,
        quiet: g.quiet,
    }
}

fn selection(s: &BrokerSelection) -> Result<Selection> {
    Selection::from_flags(s.odd, s.even, s.ids.as_deref())
}

pub(crate) fn show<T: Render>(session: &Session, value: &T) -> Result<()> {
    c8dr_common::out!("{}", render(value, &session.settings.output)?);
    Ok(())
}

/// A single step of the procedure: its outcome with the next command, as `status` names it.
pub(crate) async fn show_step(session: &Session, outcome: Outcome) -> Result<()> {
    show(
        session,
        &c8dr_common::commands::with_next(session, outcome).await,
    )
}

/// `namespace_flag`: `-n` as given (status --context tells it from the variables' namespace).
async fn run(session: Session, command: Command, namespace_flag: Option<String>) -> Result<()> {
    let s = &session;
    match command {
        Command::Brokers(Brokers::Remove {
            selection: sel,
            skip_liveness_check,
        }) => {
            let out = brokers::brokers_remove(s, selection(&sel)?, skip_liveness_check).await?;
            show_step(s, out).await
        }
        Command::Brokers(Brokers::Add {
            selection: sel,
            replication_factor,
            cluster_size,
        }) => {
            let out =
                brokers::brokers_add(s, selection(&sel)?, cluster_size, replication_factor).await?;
            show_step(s, out).await
        }
        Command::Exporters(Exporters::List) => show(s, &exporters::exporters_list(s).await?),
        Command::Exporters(Exporters::Disable {
            id,
            allow_no_exporter,
        }) => {
            let out = exporters::exporter_set_with(s, &id, false, None, allow_no_exporter).await?;
            show_step(s, out).await
        }
        Command::Exporters(Exporters::Enable {
            id,
            initialize_from,
        }) => {
            let out = exporters::exporter_set(s, &id, true, initialize_from.as_deref()).await?;
            show_step(s, out).await
        }
        Command::Exporting(Exporting::Pause { soft }) => {
            show_step(s, exporting::exporting_pause(s, soft).await?).await
        }
        Command::Exporting(Exporting::Resume) => {
            show_step(s, exporting::exporting_resume(s).await?).await
        }
        Command::Changes(Changes::Show) => show(s, &changes::changes_show(s).await?),
        Command::Changes(Changes::Wait { id }) => show(s, &changes::changes_wait(s, id).await?),
        Command::Changes(Changes::Cancel { id }) => show(s, &changes::changes_cancel(s, id).await?),
        Command::Topology => show(s, &topology::topology(s).await?),
        Command::History { since } => show(s, &history::history(s, since.as_deref()).await?),
        Command::Rebalance => show(s, &rebalance::rebalance(s).await?),
        Command::Status(args) => status::status(s, args, namespace_flag.as_deref()).await,
        Command::Profiles(args) => status::profiles(s, args).await,
        Command::Es(command) => es::run(s, command).await,
        Command::Preflight { repository, access } => {
            let args = c8dr_common::commands::preflight::PreflightArgs {
                repo: repository.flags(false),
                es: access.access(),
            };
            let report = c8dr_common::commands::preflight::preflight(s, &args).await?;
            show(s, &report)?;
            if report.ready {
                Ok(())
            } else {
                Err(Error::failed(format!(
                    "preflight: {} of {} checks found a problem",
                    report.problems,
                    report.checks.len()
                )))
            }
        }
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
            repository,
            access,
            delete_existing_indices,
            no_pre_copy,
            no_tuning,
            snapshot_rate,
        } => {
            let args = c8dr_common::commands::failback::FailbackArgs {
                replication_factor,
                cluster_size,
                repo: repository.flags(false),
                es: access.access(),
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
        Command::Completion { .. } | Command::Man { .. } | Command::Version => Ok(()),
    }
}

/// `status --watch`: it handles the signals itself.
fn watches(command: &Command) -> bool {
    matches!(command, Command::Status(args) if args.watch)
}

/// The process's exit code for `code` (an `error::exit` code, in 0..=255): out of range, FAILED.
fn exit_code(code: i32) -> ExitCode {
    let failed = u8::try_from(exit::FAILED).unwrap_or(u8::MAX);
    ExitCode::from(u8::try_from(code).unwrap_or(failed))
}

/// The commands whose report lists named objects, for `-o name` (checked before any call), in
/// the order the refusal names them.
const NAMED_LISTS: [&str; 3] = ["exporters list", "topology", "es snapshot list"];

/// The entry of [`NAMED_LISTS`] that `command` is, if any.
fn named_list(command: &Command) -> Option<&'static str> {
    use es::{EsCommand, Snapshot};
    let path = match command {
        Command::Exporters(Exporters::List) => "exporters list",
        Command::Topology => "topology",
        Command::Es(EsCommand::Snapshot(s)) if matches!(**s, Snapshot::List { .. }) => {
            "es snapshot list"
        }
        _ => return None,
    };
    NAMED_LISTS.iter().copied().find(|p| *p == path)
}

/// The commands with a server-side dry run: the topology changes, which the gateway plans with
/// `PATCH /actuator/cluster?dryRun=true` (docs/api-behaviour.md §1). Exporters, exporting, changes and
/// Elasticsearch have no such API (camunda/camunda `ExportersEndpoint`, `ExportingEndpoint`,
/// Elasticsearch's snapshot APIs take no dry run), so `--dry-run=server` is refused there
/// rather than quietly run as a client dry run.
fn has_server_dry_run(command: &Command) -> bool {
    matches!(
        command,
        Command::Brokers(Brokers::Remove { .. } | Brokers::Add { .. })
            | Command::Failover { .. }
            | Command::Rebalance
    )
}

/// Number flags checked against each other before any call (docs/contract.md §4 rule 8: exit 2, no request).
fn validate(global: &Global, command: &Command) -> Result<()> {
    if global.dry_run.as_deref() == Some("server") && !has_server_dry_run(command) {
        return Err(Error::usage(
            "--dry-run=server: only brokers remove, brokers add and failover have a server-side dry run \
             (the gateway's own planning of a topology change), and rebalance on 8.10; use --dry-run \
             (client) here",
        ));
    }
    if global.output.as_deref() == Some("name") && named_list(command).is_none() {
        let lists = match NAMED_LISTS.split_last() {
            Some((last, [])) => last.to_string(),
            Some((last, first)) => format!("{} and {last}", first.join(", ")),
            None => "no command".to_string(),
        };
        return Err(Error::usage(format!(
            "-o name: this command's report names no objects (name works with {lists}); use -o \
             json, yaml or jsonpath=TEMPLATE"
        )));
    }
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

/// The command tree: the derive's, with every command's examples ([`help::with_examples`]) and
/// the step numbers of its help texts from the table ([`step_text::with_step_numbers`]).
fn command() -> clap::Command {
    step_text::with_step_numbers(help::with_examples(Cli::command()))
}

/// `--color` as written on the command line, before clap parses it (so that clap's own help
/// and errors follow it too); `None` when absent or not a known value (clap reports that).
fn color_flag(args: &[String]) -> Option<ColorChoice> {
    let mut it = args.iter().skip(1).take_while(|a| *a != "--");
    let mut found = None;
    while let Some(a) = it.next() {
        let value = if a == "--color" {
            it.next().map(String::as_str)
        } else {
            a.strip_prefix("--color=")
        };
        if let Some(v) = value {
            found = v.parse().ok();
        }
    }
    found
}

/// clap's error (or help) and exit: as clap prints it, unless it echoes an overlong value, which
/// is cut ([`c8dr_common::error::bound_message`]).
fn clap_exit(e: clap::Error) -> ! {
    let plain = e.render().to_string();
    if !e.use_stderr() || c8dr_common::error::bound_message(&plain) == plain {
        e.exit()
    }
    c8dr_common::err!("{}", c8dr_common::error::bound_message(&plain));
    std::process::exit(e.exit_code())
}

fn main() -> ExitCode {
    c8dr_common::error::install_panic_hook("kubectl-c8dr");
    // `KUBECTL_C8DR_COMPLETE=bash kubectl-c8dr -- WORDS…`: the callback of `completion SHELL`'s
    // registration.
    if complete::env_callback() {
        return ExitCode::SUCCESS;
    }
    // kubectl's plugin completion (kubectl_complete-c8dr) calls `kubectl-c8dr __complete ARGS…`.
    let args = match c8dr_common::config::args(std::env::args_os()) {
        Ok(args) => args,
        Err(e) => {
            c8dr_common::errln!("error: {e}");
            return exit_code(exit::USAGE);
        }
    };
    if args.get(1).map(String::as_str) == Some("__complete") {
        c8dr_common::out!("{}", complete::cobra(&args[2..]));
        return ExitCode::SUCCESS;
    }
    let process_env = Env::from_process();
    let early_color = color_flag(&args);
    let clap_color = match early_color {
        Some(ColorChoice::Always) => clap::ColorChoice::Always,
        Some(ColorChoice::Never) => clap::ColorChoice::Never,
        _ => clap::ColorChoice::Auto,
    };
    let matches = match command().color(clap_color).try_get_matches_from(&args) {
        Ok(m) => m,
        Err(e) => clap_exit(e),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => clap_exit(e),
    };
    let color: ColorChoice = cli.global.color.parse().unwrap_or_default();
    match &cli.command {
        Command::Completion { shell } => {
            return match complete::registration(shell, &mut std::io::stdout()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    c8dr_common::errln!("error: completion {shell}: {e}");
                    exit_code(exit::USAGE)
                }
            };
        }
        Command::Man { dir } => {
            return match std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(command().name("kubectl-c8dr"), dir))
            {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    c8dr_common::errln!("error: writing man pages to {}: {e}", dir.display());
                    exit_code(exit::FAILED)
                }
            };
        }
        Command::Version => return version::run(cli.global.output.as_deref()),
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
        // `-v` logs: coloured only where they are read on a terminal (never in a file).
        .with_ansi(ui::use_color(
            color,
            std::io::stderr().is_terminal(),
            false,
            &process_env,
        ))
        .without_time()
        .init();
    let global_flags = flags(&cli.global);
    let result = validate(&cli.global, &cli.command)
        // preflight reports two regions that are one cluster as one of its checks.
        .and_then(|()| {
            global_flags.resolve_regions(
                process_env.clone(),
                !matches!(cli.command, Command::Preflight { .. }),
            )
        })
        .and_then(|(settings, ui)| {
            ui::set_color(ui::use_color(
                color,
                std::io::stdout().is_terminal(),
                settings.output != Format::Text,
                &settings.env,
            ));
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| Error::failed(format!("starting the runtime: {e}")))?;
            // Every network wait of the command is bounded by its --timeout.
            c8dr_common::wait::set_network_bound(settings.timeout);
            runtime.block_on(async {
                // SIGINT/SIGTERM/SIGHUP: undo a pause this run made, exit 130/143/129. A watch
                // changes nothing and ends on them itself (exit 0).
                if !watches(&cli.command) {
                    c8dr_common::commands::pause_guard::watch_signals();
                }
                run(
                    Session::new(settings, ui),
                    cli.command,
                    cli.global.namespace,
                )
                .await
            })
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // -o json|yaml: the error is a document too (an unreadable -o is text).
            let format = cli.global.output.as_deref().and_then(|o| o.parse().ok());
            c8dr_common::err!(
                "{}",
                c8dr_common::output::error_text(&e, &format.unwrap_or_default())
            );
            exit_code(e.exit_code())
        }
    }
}
