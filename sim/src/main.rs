//! `c8dr-sim`: run the simulated dual-region installation.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use c8dr_sim::{Sim, SimConfig, context_name};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "c8dr-sim",
    version,
    about = "A simulated dual-region Camunda 8.8, 8.9 or 8.10 installation on loopback, for c8dr's tests and demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start both regions and serve until Ctrl-C or SIGTERM; prints the listeners and the `export …`
    /// lines for a second shell (also in DIR/env.sh; `c8dr-sim ctl env` prints them anywhere).
    Serve {
        /// Directory for the kubeconfig, the docs' values layout (values/), env.sh and control-url;
        /// recorded in $XDG_RUNTIME_DIR/c8dr-sim (or ~/.cache/c8dr-sim) for `c8dr-sim ctl`.
        #[arg(long, default_value = ".c8dr-sim")]
        dir: PathBuf,
        /// Lose this region right after start (region0 or region1).
        #[arg(long, value_parser = parse_region)]
        lose: Option<usize>,
        /// Time each topology-change operation takes on the server side.
        #[arg(long, value_parser = humantime::parse_duration, default_value = "150ms")]
        operation_duration: Duration,
        /// How the gateway answers a request routed to a dead coordinator (broker 0 when region0
        /// is lost): 502 at once, or 504 after --gateway-timeout (ClusterApiUtils.mapError)
        #[arg(long, value_parser = parse_dead_coordinator, default_value = "502")]
        dead_coordinator: c8dr_sim::DeadCoordinator,
        /// The gateway's request timeout to a broker (10s in Zeebe)
        #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
        gateway_timeout: Duration,
        /// For a real Kubernetes in front (tests/real-stack): print and write only the per-region
        /// Zeebe gateway (and helm-apply) addresses; the simulated Kubernetes API is not advertised.
        #[arg(long)]
        gateways_only: bool,
        /// With --gateways-only: write the addresses as KEY=VALUE lines to this file (written
        /// whole once every listener is up, so a script can wait for it to appear).
        #[arg(long, requires = "gateways_only")]
        state_file: Option<PathBuf>,
        #[command(flatten)]
        data: DataArgs,
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Lose a region and run the whole failover and failback through the real kubectl c8dr and
    /// helm c8dr binaries (built beside c8dr-sim), verifying each step on the simulator.
    Demo {
        /// The region to lose: region1 (the docs' example) or region0 (holds the lowest broker id)
        #[arg(long, value_parser = parse_region, default_value = "region1")]
        lose: usize,
        /// Time each topology-change operation takes on the server side
        #[arg(long, value_parser = humantime::parse_duration, default_value = "100ms")]
        operation_duration: Duration,
        /// Working directory for values files, kubeconfig and recorded helm calls (default: a temp dir)
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Run the composite `kubectl c8dr failover` and `kubectl c8dr failback` instead of the steps
        #[arg(long)]
        drivers: bool,
        /// How the gateway answers a request routed to a dead coordinator (broker 0 when region0
        /// is lost): 502 at once, or 504 after --gateway-timeout (ClusterApiUtils.mapError)
        #[arg(long, value_parser = parse_dead_coordinator, default_value = "502")]
        dead_coordinator: c8dr_sim::DeadCoordinator,
        /// The gateway's request timeout to a broker (10s in Zeebe)
        #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
        gateway_timeout: Duration,
        #[command(flatten)]
        release: ReleaseArgs,
    },
    /// Talk to a running `c8dr-sim serve`: lose or recreate a region, print its exports or state.
    /// Finds the simulator from any directory: --dir, else $C8DR_SIM_DIR, else the one `serve`
    /// registered in $XDG_RUNTIME_DIR/c8dr-sim (or ~/.cache/c8dr-sim), else ./.c8dr-sim.
    Ctl {
        /// The --dir given to `serve` (holds control-url)
        #[arg(long, global = true)]
        dir: Option<PathBuf>,
        #[command(subcommand)]
        action: CtlAction,
    },
}

#[derive(Subcommand)]
enum CtlAction {
    /// Lose a region: its Kubernetes API, gateway, Elasticsearch and brokers go away
    Lose {
        #[arg(value_parser = parse_region)]
        region: usize,
    },
    /// Bring a lost region back as an empty cluster and namespace, ready for failback
    Recreate {
        #[arg(value_parser = parse_region)]
        region: usize,
    },
    /// Print the `export …` lines `serve` printed (for `eval "$(c8dr-sim ctl env)"`)
    Env,
    /// Print the simulator's state as JSON (members, exporters, exporting, per-region releases)
    State,
}

/// Prepare `demo --dir D`: create D when it does not exist (returns true: the demo may remove it
/// afterwards), accept an existing empty directory (false: kept), refuse anything else.
fn demo_dir(dir: &std::path::Path) -> anyhow::Result<bool> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                anyhow::bail!(
                    "--dir {} is not empty: the demo writes values files, a kubeconfig and helm \
                     records there; give it a new or empty directory",
                    dir.display()
                );
            }
            Ok(false)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            Ok(true)
        }
        Err(e) => Err(anyhow::anyhow!("--dir {}: {e}", dir.display())),
    }
}

/// The Camunda release simulated and its release-specific options (`c8dr_sim::release`).
#[derive(clap::Args, Debug, Clone)]
struct ReleaseArgs {
    /// The Camunda release to simulate: 8.8 (chart 13.x), 8.9 (chart 14.x) or 8.10 (chart 15.x)
    #[arg(long = "camunda", value_parser = c8dr_sim::CamundaRelease::parse, default_value = "8.8")]
    camunda: c8dr_sim::CamundaRelease,
    /// Zone-aware brokers with string ids `<zone>_<index>` (8.10 only)
    #[arg(long)]
    zone_aware: bool,
    /// `camunda.data.secondary-storage.type` rendered into application.yaml
    #[arg(long, value_parser = parse_secondary_storage, default_value = "elasticsearch")]
    secondary_storage: c8dr_sim::SecondaryStorage,
    /// A physical tenant removed from the configuration, kept disabled by the cluster and
    /// blocking every broker removal until discarded (8.10 only; an id of lowercase letters and
    /// digits, as Camunda requires)
    #[arg(long, value_name = "ID", value_parser = parse_tenant_id)]
    disabled_tenant: Option<String>,
}

impl ReleaseArgs {
    fn apply(&self, cfg: SimConfig) -> anyhow::Result<SimConfig> {
        if self.zone_aware && !self.camunda.supports_zone_aware() {
            anyhow::bail!(
                "--zone-aware needs --camunda 8.10: Camunda {} has no zone-aware brokers",
                self.camunda
            );
        }
        if self.disabled_tenant.is_some() && !self.camunda.has_change_query() {
            anyhow::bail!(
                "--disabled-tenant needs --camunda 8.10: Camunda {} has no physical tenants",
                self.camunda
            );
        }
        Ok(SimConfig {
            camunda: self.camunda,
            zone_aware: self.zone_aware,
            disabled_tenant: self.disabled_tenant.clone(),
            secondary_storage: self.secondary_storage,
            ..cfg
        })
    }
}

/// A physical tenant id as Camunda accepts it: `[a-z0-9]+`, no underscore, dash or uppercase
/// (camunda/camunda `PhysicalTenantResolver.validateTenantId`, and its test
/// `shouldRejectInvalidTenantIds`: "lowercase alphanumeric — no underscores, no uppercase, no
/// dashes"), so that a tenant id never looks like a zone-aware broker id (`<zone>_<n>`).
fn parse_tenant_id(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?}: a physical tenant id is lowercase letters and digits only, as Camunda requires"
        ))
    }
}

fn parse_secondary_storage(s: &str) -> Result<c8dr_sim::SecondaryStorage, String> {
    match c8dr_sim::SecondaryStorage::parse(s)? {
        // The search engine itself is Elasticsearch here; OpenSearch is a SimConfig option.
        c8dr_sim::SecondaryStorage::Opensearch => {
            Err("unknown secondary storage 'opensearch': expected elasticsearch or rdbms".into())
        }
        other => Ok(other),
    }
}

/// Data volume, rates and time scale of the simulated servers (docs/performance.md).
#[derive(clap::Args, Debug, Clone)]
struct DataArgs {
    /// Primary Elasticsearch data per region at start, e.g. 50gb (spread over the Camunda indices)
    #[arg(long, value_parser = parse_bytes, default_value = "300kb")]
    es_data: u64,
    /// Bytes per second the exporters write into a region's Elasticsearch while exporting runs
    #[arg(long, value_parser = parse_bytes, default_value = "0")]
    es_ingest_rate: u64,
    /// A data node's physical disk/network limit per second (what "unlimited" still takes)
    #[arg(long, value_parser = parse_bytes, default_value = "250mb")]
    es_node_rate: u64,
    /// Fixed time of each Elasticsearch shard copy's recovery, besides its bytes
    #[arg(long, value_parser = humantime::parse_duration, default_value = "40ms")]
    es_shard_duration: Duration,
    /// Size of a Zeebe partition: a broker joining it receives that much from the leader
    #[arg(long, value_parser = parse_bytes, default_value = "0")]
    partition_size: u64,
    /// Bytes per second a partition snapshot travels to a joining broker
    #[arg(long, value_parser = parse_bytes, default_value = "100mb")]
    partition_rate: u64,
    /// Run the servers N times faster than reality (durations divided, byte rates multiplied);
    /// GET /timeline on the control URL reports simulated seconds (real × N)
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
}

impl DataArgs {
    fn apply(&self, cfg: SimConfig) -> SimConfig {
        SimConfig {
            es_data_bytes: self.es_data,
            es_ingest_bytes_per_sec: self.es_ingest_rate,
            es_node_bytes_per_sec: self.es_node_rate,
            es_shard_duration: self.es_shard_duration,
            partition_bytes: self.partition_size,
            partition_bytes_per_sec: self.partition_rate,
            ..cfg
        }
        .with_time_scale(self.time_scale)
    }
}

fn parse_bytes(s: &str) -> Result<u64, String> {
    match c8dr_sim::es::settings::parse_byte_size(s) {
        Some(b) if b >= 0 => Ok(b as u64),
        _ => Err(format!(
            "'{s}' is not a size in bytes (e.g. 50gb, 512mb, 0)"
        )),
    }
}

fn parse_dead_coordinator(s: &str) -> Result<c8dr_sim::DeadCoordinator, String> {
    match s {
        "502" => Ok(c8dr_sim::DeadCoordinator::Fail502),
        "504" => Ok(c8dr_sim::DeadCoordinator::Timeout504),
        _ => Err(format!("unknown mode '{s}': expected 502 or 504")),
    }
}

fn parse_region(s: &str) -> Result<usize, String> {
    match s {
        "0" | "region0" => Ok(0),
        "1" | "region1" => Ok(1),
        _ => Err(format!("unknown region '{s}': expected region0 or region1")),
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve {
            dir,
            lose,
            operation_duration,
            dead_coordinator,
            gateway_timeout,
            gateways_only,
            state_file,
            data,
            release,
        } => {
            if !(data.time_scale.is_finite() && data.time_scale > 0.0) {
                anyhow::bail!("--time-scale must be a positive number");
            }
            let cfg = data.apply(release.apply(SimConfig {
                operation_duration,
                dead_coordinator,
                gateway_request_timeout: gateway_timeout,
                ..SimConfig::default()
            })?);
            let sim = Sim::start(cfg, &dir).await?;
            std::fs::write(dir.join("control-url"), format!("http://{}", sim.control))?;
            // Every listener (per region, per broker pod), for tooling that bridges to them.
            std::fs::write(
                dir.join("endpoints.json"),
                serde_json::to_string_pretty(&c8dr_sim::server::endpoints_json(&sim.shared))?,
            )?;
            if let Some(r) = lose {
                sim.lose_region(r);
            }
            if gateways_only {
                return serve_gateways_only(&sim, state_file.as_deref()).await;
            }
            let release = sim.world().lock().cfg.camunda;
            serve_by_hand(&sim, &dir, lose, release).await
        }
        Command::Demo {
            lose,
            operation_duration,
            dir,
            drivers,
            dead_coordinator,
            gateway_timeout,
            release,
        } => {
            // Checked before anything is built or created.
            let release_cfg = release.apply(SimConfig::default())?;
            let bin_dir = std::env::current_exe()?
                .parent()
                .map(PathBuf::from)
                .context("locating the binaries beside c8dr-sim")?;
            for bin in ["kubectl-c8dr", "helm-c8dr", "c8dr-sim-helm"] {
                if !bin_dir.join(bin).exists() {
                    anyhow::bail!(
                        "{bin} is not built beside c8dr-sim in {}: run `cargo build --release --bins` first",
                        bin_dir.display()
                    );
                }
            }
            // The demo removes its working directory after a successful run only when it created
            // it; a user's existing directory is used only when empty and is always kept.
            let (work_dir, created) = match dir {
                None => (
                    tempfile::Builder::new()
                        .prefix("c8dr-demo-")
                        .tempdir()
                        .context("creating the demo's temporary directory")?
                        .keep(),
                    true,
                ),
                Some(d) => match demo_dir(&d) {
                    Ok(created) => (d, created),
                    Err(e) => {
                        eprintln!("error: {e}");
                        std::process::exit(2);
                    }
                },
            };
            let cfg = SimConfig {
                operation_duration,
                dead_coordinator,
                gateway_request_timeout: gateway_timeout,
                ..release_cfg
            };
            let result = c8dr_sim::demo::run(c8dr_sim::demo::DemoOptions {
                lose,
                cfg,
                bin_dir,
                work_dir: work_dir.clone(),
                drivers,
            })
            .await;
            if result.is_ok() && created {
                let _ = std::fs::remove_dir_all(&work_dir);
            } else {
                eprintln!("the demo's files are kept in {}", work_dir.display());
            }
            result
        }
        Command::Ctl { dir, action } => ctl(dir, action).await,
    }
}

/// `serve --gateways-only`: the simulated Zeebe gateways for a real Kubernetes (kwok) to
/// port-forward to. The lines name, per region, the management (9600) and REST (8080) listeners,
/// the simulated search engine, and the helm-apply URL through which a script tells the simulator
/// what a real `helm upgrade` installed (the same channel `c8dr-sim-helm` uses).
async fn serve_gateways_only(
    sim: &Sim,
    state_file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let text = gateway_lines(sim).join("\n") + "\n";
    print!("{text}");
    if let Some(path) = state_file {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &text).with_context(|| format!("writing {}", tmp.display()))?;
        std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    }
    wait_for_stop().await
}

/// The KEY=VALUE lines of `serve --gateways-only` (the world's lock is held only here).
fn gateway_lines(sim: &Sim) -> Vec<String> {
    let w = sim.world().lock();
    let mut lines = vec![
        format!("C8DR_SIM_CONTROL=http://{}", sim.control),
        format!("C8DR_SIM_RELEASE={}", w.cfg.release),
        format!("C8DR_SIM_REST_USERNAME={}", w.cfg.rest_username),
        format!("C8DR_SIM_REST_PASSWORD={}", w.cfg.rest_password),
    ];
    for r in 0..2 {
        let e = sim.endpoints(r);
        lines.push(format!(
            "C8DR_SIM_REGION{r}_NAMESPACE={}",
            w.regions[r].namespace
        ));
        lines.push(format!("C8DR_SIM_REGION{r}_MANAGEMENT={}", e.management));
        lines.push(format!("C8DR_SIM_REGION{r}_REST={}", e.rest));
        lines.push(format!(
            "C8DR_SIM_REGION{r}_ELASTICSEARCH={}",
            e.elasticsearch
        ));
        lines.push(format!(
            "C8DR_SIM_REGION{r}_HELM_APPLY=http://{}{}",
            e.kube_api,
            c8dr_sim::helm::APPLY_PATH
        ));
        // Each broker pod's own management port (its `/actuator/partitions`), by pod ordinal.
        for (ordinal, addr) in e.brokers.iter().enumerate() {
            lines.push(format!(
                "C8DR_SIM_REGION{r}_BROKER{ordinal}_MANAGEMENT={addr}"
            ));
        }
    }
    lines
}

/// Until Ctrl-C or SIGTERM (a script's `kill PID`).
async fn wait_for_stop() -> anyhow::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing the SIGTERM handler")?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C"),
        _ = term.recv() => Ok(()),
    }
}

/// `serve` for a person (the README's by-hand walk): the docs' values layout in DIR/values, the
/// exports of a second shell printed and kept in DIR/env.sh, DIR registered for `ctl`; serves
/// until Ctrl-C or SIGTERM, then unregisters.
async fn serve_by_hand(
    sim: &Sim,
    dir: &Path,
    lose: Option<usize>,
    release: c8dr_sim::CamundaRelease,
) -> anyhow::Result<()> {
    let dir = std::fs::canonicalize(dir).with_context(|| format!("resolving {}", dir.display()))?;
    let values = dir.join("values");
    std::fs::create_dir_all(&values).with_context(|| format!("creating {}", values.display()))?;
    c8dr_sim::demo::write_values_layout(&values, release)
        .with_context(|| format!("writing the values layout into {}", values.display()))?;
    let bin_dir = std::env::current_exe()
        .context("locating c8dr-sim")?
        .parent()
        .map(PathBuf::from)
        .context("locating the binaries beside c8dr-sim")?;
    let surviving = lose.map(|r| 1 - r).unwrap_or(0);
    let bin_dir = binaries_only(&dir, &bin_dir)?;
    let exports = by_hand_exports(sim, &dir, &bin_dir, surviving);
    std::fs::write(dir.join("env.sh"), exports.join("\n") + "\n")
        .with_context(|| format!("writing {}", dir.join("env.sh").display()))?;
    let registration = register(&dir);

    let camunda = sim.world().lock().cfg.camunda;
    println!("c8dr-sim: dual-region Camunda {camunda} simulator running (Ctrl-C stops it)");
    println!("  directory:  {}", dir.display());
    println!("  kubeconfig: {}", dir.join("kubeconfig").display());
    println!(
        "  values:     {}  (the docs' layout: camunda-values.yml, region0/, region1/)",
        values.display()
    );
    println!("  control:    http://{}", sim.control);
    for r in 0..2 {
        let e = sim.endpoints(r);
        println!(
            "  region{r} (context {}): kube API http://{}  management http://{}  REST http://{}  elasticsearch http://{}",
            context_name(r),
            e.kube_api,
            e.management,
            e.rest,
            e.elasticsearch
        );
        for (n, a) in e.brokers.iter().enumerate() {
            println!(
                "    broker pod ordinal {n} (node id {}): management (port 9600) http://{a}",
                n * 2 + r
            );
        }
    }
    if !bin_dir.join("c8dr-sim-helm").exists() {
        eprintln!(
            "warning: c8dr-sim-helm is not built beside c8dr-sim (linked in {}): `helm-c8dr redeploy` needs it as HELM_BIN",
            bin_dir.display()
        );
    }
    println!(
        "\n# In another shell: eval \"$(c8dr-sim ctl env)\" (c8dr-sim on PATH), or paste these (also in {}):",
        dir.join("env.sh").display()
    );
    for line in &exports {
        println!("{line}");
    }
    if lose.is_none() {
        println!("# then lose a region: c8dr-sim ctl lose region1");
    }
    let stopped = wait_for_stop().await;
    if let Some(file) = registration {
        unregister(&file, &dir);
    }
    let _ = std::fs::remove_file(dir.join("control-url"));
    stopped
}

/// The programs of the by-hand walk, linked into `DIR/bin`: the `PATH` the exports set holds
/// them alone. cargo's output directory also holds `kubectl-c8dr.d` (dependency info), which
/// `kubectl plugin list` reports as a plugin that is not executable.
const WALK_BINARIES: [&str; 4] = ["kubectl-c8dr", "helm-c8dr", "c8dr-sim", "c8dr-sim-helm"];

/// `DIR/bin` with a link to each of [`WALK_BINARIES`] built beside c8dr-sim in `bin_dir`.
fn binaries_only(dir: &Path, bin_dir: &Path) -> anyhow::Result<PathBuf> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    for name in WALK_BINARIES {
        let (target, link) = (bin_dir.join(name), bin.join(name));
        let _ = std::fs::remove_file(&link);
        if target.exists() {
            std::os::unix::fs::symlink(&target, &link)
                .with_context(|| format!("linking {}", link.display()))?;
        }
    }
    Ok(bin)
}

/// The `export …` lines of the by-hand walk: the Camunda docs' variables for this simulator, the
/// helm stand-in as `HELM_BIN` (what `helm` sets for a plugin; `helm-c8dr` run directly honours
/// it), the bucket for the Elasticsearch copy, and `PATH` with the binaries beside `c8dr-sim`.
fn by_hand_exports(sim: &Sim, dir: &Path, bin_dir: &Path, surviving: usize) -> Vec<String> {
    let mut env = sim.docs_env(surviving);
    for (k, v) in env.iter_mut() {
        if k == "KUBECONFIG" {
            *v = dir.join("kubeconfig").display().to_string();
        }
    }
    env.push(("C8DR_SIM_DIR".into(), dir.display().to_string()));
    env.push((
        "HELM_BIN".into(),
        bin_dir.join("c8dr-sim-helm").display().to_string(),
    ));
    env.push((
        "C8DR_SIM_HELM_RECORD".into(),
        dir.join("helm-calls").display().to_string(),
    ));
    env.push((
        "S3_BUCKET_NAME".into(),
        c8dr_sim::demo::DEMO_BUCKET.to_string(),
    ));
    let mut lines: Vec<String> = env
        .into_iter()
        .map(|(k, v)| format!("export {k}={}", sh_quote(&v)))
        .collect();
    lines.push(format!(
        "export PATH={}:\"$PATH\"",
        sh_quote(&bin_dir.display().to_string())
    ));
    lines
}

/// A POSIX shell word for `s`: as is when it holds only safe characters, else single-quoted.
fn sh_quote(s: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "_-./:,=@+%".contains(c);
    if !s.is_empty() && s.chars().all(safe) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Where `serve` records its directory for `ctl` in other shells and directories:
/// `$XDG_RUNTIME_DIR/c8dr-sim/current` (per login, private), else
/// `${XDG_CACHE_HOME:-$HOME/.cache}/c8dr-sim/current`.
fn registry_file() -> Option<PathBuf> {
    let non_empty = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = non_empty("XDG_RUNTIME_DIR")
        .filter(|d| d.is_dir())
        .or_else(|| non_empty("XDG_CACHE_HOME"))
        .or_else(|| non_empty("HOME").map(|h| h.join(".cache")))?;
    Some(base.join("c8dr-sim").join("current"))
}

/// Record `dir` as the running simulator; a failure only costs `ctl` its default (warned).
fn register(dir: &Path) -> Option<PathBuf> {
    let file = registry_file()?;
    let write = || -> std::io::Result<()> {
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&file, format!("{}\n", dir.display()))
    };
    match write() {
        Ok(()) => Some(file),
        Err(e) => {
            eprintln!(
                "warning: cannot record the simulator in {} ({e}): give `c8dr-sim ctl` --dir {}",
                file.display(),
                dir.display()
            );
            None
        }
    }
}

/// Remove the record, unless a later `serve` has replaced it with its own directory.
fn unregister(file: &Path, dir: &Path) {
    if std::fs::read_to_string(file).is_ok_and(|s| Path::new(s.trim()) == dir) {
        let _ = std::fs::remove_file(file);
    }
}

/// The directory of the simulator `ctl` talks to, and how it was found (for messages).
fn locate(dir: Option<PathBuf>) -> anyhow::Result<(PathBuf, String)> {
    if let Some(d) = dir {
        return Ok((d, "--dir".into()));
    }
    if let Some(d) = std::env::var_os("C8DR_SIM_DIR").filter(|v| !v.is_empty()) {
        return Ok((PathBuf::from(d), "$C8DR_SIM_DIR".into()));
    }
    if let Some(file) = registry_file()
        && let Ok(text) = std::fs::read_to_string(&file)
        && !text.trim().is_empty()
    {
        return Ok((PathBuf::from(text.trim()), file.display().to_string()));
    }
    let local = PathBuf::from(".c8dr-sim");
    if local.join("control-url").is_file() {
        return Ok((local, "./.c8dr-sim".into()));
    }
    anyhow::bail!(
        "no running c8dr-sim found (no --dir, no $C8DR_SIM_DIR, nothing recorded by `c8dr-sim serve`{}): \
         start `c8dr-sim serve`, or pass --dir DIR (the --dir given to serve)",
        registry_file()
            .map(|f| format!(" in {}", f.display()))
            .unwrap_or_default()
    )
}

async fn ctl(dir: Option<PathBuf>, action: CtlAction) -> anyhow::Result<()> {
    let (dir, found_by) = locate(dir)?;
    let url = std::fs::read_to_string(dir.join("control-url")).with_context(|| {
        format!(
            "no running c8dr-sim in {} (found through {found_by}): start `c8dr-sim serve --dir {0}`, or pass --dir DIR",
            dir.display()
        )
    })?;
    let base = url.trim();
    let not_running = || {
        format!(
            "the c8dr-sim of {} (found through {found_by}) does not answer at {base}: it is not running any more; \
             start `c8dr-sim serve --dir {0}`, or pass --dir DIR",
            dir.display()
        )
    };
    let (method, path) = match &action {
        CtlAction::Lose { region } => ("POST", format!("/lose?region={region}")),
        CtlAction::Recreate { region } => ("POST", format!("/recreate?region={region}")),
        CtlAction::Env | CtlAction::State => ("GET", "/state".to_string()),
    };
    let (status, body) = control_request(base, method, &path)
        .await
        .with_context(not_running)?;
    if status != 200 {
        anyhow::bail!("the simulator answered HTTP {status} to {method} {path}: {body}");
    }
    match action {
        CtlAction::Lose { region } => println!(
            "region{region} lost: its Kubernetes API, gateway, Elasticsearch and brokers are gone"
        ),
        CtlAction::Recreate { region } => {
            println!("region{region} recreated: an empty cluster and namespace, ready for failback")
        }
        CtlAction::Env => {
            let env = dir.join("env.sh");
            let text = std::fs::read_to_string(&env).with_context(|| {
                format!(
                    "reading {} (written by `c8dr-sim serve`, not by `serve --gateways-only`)",
                    env.display()
                )
            })?;
            print!("{text}");
        }
        CtlAction::State => println!("{body}"),
    }
    Ok(())
}

/// One request to the control endpoint (on loopback): the status code and the body.
async fn control_request(base: &str, method: &str, path: &str) -> anyhow::Result<(u16, String)> {
    let addr = base.trim_start_matches("http://");
    let (status, body) = c8dr_sim::http::send(addr, method, path, None).await?;
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_tenant_id_is_what_camunda_accepts() {
        assert!(super::parse_tenant_id("tenanta").is_ok());
        assert!(super::parse_tenant_id("archive2").is_ok());
        for bad in ["tenant_1", "Tenant", "a-b", ""] {
            assert!(super::parse_tenant_id(bad).is_err(), "{bad}");
        }
    }
}
