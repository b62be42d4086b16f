//! `c8dr-sim`: run the simulated dual-region installation.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use c8dr_sim::{Sim, SimConfig, context_name};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "c8dr-sim",
    version,
    about = "A simulated dual-region Camunda 8.8 installation on loopback, for c8dr's tests and demo"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start both regions and serve until interrupted; prints the kubeconfig, URLs and env vars.
    Serve {
        /// Directory for the generated kubeconfig and state file.
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
    },
    /// Tell a running simulator to lose or recreate a region.
    Ctl {
        /// The control URL printed by `serve` (or read from DIR/control-url).
        #[arg(long, default_value = ".c8dr-sim")]
        dir: PathBuf,
        #[arg(value_parser = ["lose", "recreate"])]
        action: String,
        #[arg(value_parser = parse_region)]
        region: usize,
    },
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
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
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
        } => {
            if !(data.time_scale.is_finite() && data.time_scale > 0.0) {
                anyhow::bail!("--time-scale must be a positive number");
            }
            let cfg = data.apply(SimConfig {
                operation_duration,
                dead_coordinator,
                gateway_request_timeout: gateway_timeout,
                ..SimConfig::default()
            });
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
            let kubeconfig = std::fs::canonicalize(&sim.kubeconfig)?;
            println!("c8dr-sim: dual-region Camunda 8.8 simulator running");
            println!("  kubeconfig: {}", kubeconfig.display());
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
            println!("\n# paste into another shell (region 1 is the one the docs lose):");
            let surviving = lose.map(|r| 1 - r).unwrap_or(0);
            for (k, v) in sim.docs_env(surviving) {
                let v = if k == "KUBECONFIG" {
                    kubeconfig.display().to_string()
                } else {
                    v
                };
                println!("export {k}={v}");
            }
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            Ok(())
        }
        Command::Demo {
            lose,
            operation_duration,
            dir,
            drivers,
            dead_coordinator,
            gateway_timeout,
        } => {
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
            let tmp = std::env::temp_dir().join(format!("c8dr-demo-{}", std::process::id()));
            let work_dir = dir.unwrap_or(tmp);
            let cfg = SimConfig {
                operation_duration,
                dead_coordinator,
                gateway_request_timeout: gateway_timeout,
                ..SimConfig::default()
            };
            let result = c8dr_sim::demo::run(c8dr_sim::demo::DemoOptions {
                lose,
                cfg,
                bin_dir,
                work_dir: work_dir.clone(),
                drivers,
            })
            .await;
            if result.is_ok() {
                let _ = std::fs::remove_dir_all(&work_dir);
            } else {
                eprintln!("the demo's files are kept in {}", work_dir.display());
            }
            result
        }
        Command::Ctl {
            dir,
            action,
            region,
        } => {
            let url = std::fs::read_to_string(dir.join("control-url"))
                .with_context(|| format!("no running simulator found in {}", dir.display()))?;
            let resp = reqwest_free_post(url.trim(), &format!("/{action}?region={region}")).await?;
            println!("{resp}");
            Ok(())
        }
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

/// A minimal HTTP POST over a plain TCP stream (the control endpoint is on loopback).
async fn reqwest_free_post(base: &str, path: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(format!("POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut out = String::new();
    stream.read_to_string(&mut out).await?;
    Ok(out.split("\r\n\r\n").nth(1).unwrap_or_default().to_string())
}
