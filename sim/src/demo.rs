//! `c8dr-sim demo`: start the simulated dual-region installation, lose a region, and run the
//! whole failover and failback through the real `kubectl c8dr` and `helm c8dr` binaries, printing
//! each step, its verification against the simulator and the time it took.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::server::{Sim, state_json};
use crate::world::{RegionId, SimConfig};

/// The S3 bucket the demo and `c8dr-sim serve` (as `S3_BUCKET_NAME`) use: the simulated object
/// store accepts any bucket name, shared by both regions.
pub const DEMO_BUCKET: &str = "c8dr-demo-bucket";

/// Options of a demo run.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub lose: RegionId,
    pub cfg: SimConfig,
    /// Where the binaries are (default: beside the running `c8dr-sim`).
    pub bin_dir: PathBuf,
    pub work_dir: PathBuf,
    /// Use the composite `kubectl c8dr failover`/`failback` instead of the single steps.
    pub drivers: bool,
}

/// The values layout of the docs (`aws/dual-region/kubernetes`): a shared file and one per region.
/// Also what `c8dr-sim serve` writes into `DIR/values` for the README's by-hand walk.
pub fn write_values_layout(dir: &Path, release: crate::CamundaRelease) -> anyhow::Result<()> {
    // The exporters' variables by the release's names (8.8 `ZEEBE_BROKER_EXPORTERS_…`, 8.9+
    // `CAMUNDA_DATA_EXPORTERS_…`: camunda-docs version-8.9 dual-region-ops.md); charts 14 and 15
    // refuse to render without a secondary storage type (camunda-platform-helm
    // charts/camunda-platform-8.9 common/constraints.tpl: "Please configure an expected
    // secondary storage type under `orchestration.data.secondaryStorage.type`").
    let exporter = |r: usize| {
        release
            .exporter_url_var(r)
            .replace("_ARGS_CONNECT_URL", "_CLASSNAME")
    };
    let storage = match release {
        crate::CamundaRelease::V8_8 => String::new(),
        _ => "  data:\n    secondaryStorage:\n      type: elasticsearch\n".to_string(),
    };
    let shared = format!(
        r#"# Shared values (a trimmed version of camunda/c8-multi-region, Camunda {})
global:
  multiregion:
    regions: 2
orchestration:
  clusterSize: '8'
  partitionCount: '8'
  replicationFactor: '4'
{storage}  env:
    - name: ZEEBE_BROKER_DATA_SNAPSHOTPERIOD
      value: '5m'
    - name: {}
      value: io.camunda.exporter.CamundaExporter
    - name: {}
      value: io.camunda.exporter.CamundaExporter
"#,
        release.as_str(),
        exporter(0),
        exporter(1)
    );
    std::fs::write(dir.join("camunda-values.yml"), shared)?;
    for r in 0..2 {
        let d = dir.join(format!("region{r}"));
        std::fs::create_dir_all(&d)?;
        std::fs::write(
            d.join("camunda-values.yml"),
            format!("global:\n  multiregion:\n    regionId: {r}\n"),
        )?;
    }
    Ok(())
}

/// The procedure as the demo walks it: the simulator's own list (it models Camunda's documented
/// procedure and does not take the client's table), one place for the demo's step numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    RemoveBrokers,
    DisableExporter,
    InstallRecreated,
    RedeploySurviving,
    PauseExporting,
    CopyElasticsearch,
    EnableExporter,
    ResumeExporting,
    AddBrokers,
    RedeployBoth,
}

/// The stages and their steps, in order: a step's number is its position in its stage.
const PROCEDURE: [(&str, &[Step]); 2] = [
    ("failover", &[Step::RemoveBrokers, Step::DisableExporter]),
    (
        "failback",
        &[
            Step::InstallRecreated,
            Step::RedeploySurviving,
            Step::PauseExporting,
            Step::CopyElasticsearch,
            Step::EnableExporter,
            Step::ResumeExporting,
            Step::AddBrokers,
            Step::RedeployBoth,
        ],
    ),
];

/// The stage of `step`, its number and the number of steps of the stage.
fn position(step: Step) -> (&'static str, usize, usize) {
    PROCEDURE
        .iter()
        .find_map(|(stage, steps)| {
            let i = steps.iter().position(|s| *s == step)?;
            Some((*stage, i + 1, steps.len()))
        })
        .unwrap_or(("step", 0, 0))
}

/// `<stage> <number>/<steps of the stage>`, as the drivers print it.
fn label(step: Step) -> String {
    let (stage, n, total) = position(step);
    format!("{stage} {n}/{total}")
}

/// `<stage> <first>-<last>`: the steps from `first` to `last` of one stage (a driver's run).
fn span(first: Step, last: Step) -> String {
    let (stage, a, _) = position(first);
    let (_, b, _) = position(last);
    format!("{stage} {a}-{b}")
}

struct Runner<'a> {
    opts: &'a DemoOptions,
    sim: &'a Sim,
    env: Vec<(String, String)>,
    use_kubectl: bool,
    /// Wall time spent inside the c8dr commands.
    in_commands: Duration,
}

impl Runner<'_> {
    /// A process with the demo's environment and working directory.
    fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new(program);
        cmd.envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.opts.work_dir);
        cmd
    }

    /// `kubectl c8dr status -o json`'s summary line: where c8dr thinks the procedure stands.
    fn phase(&self) -> anyhow::Result<String> {
        let out = self
            .command(&self.opts.bin_dir.join("kubectl-c8dr"))
            .args(["status", "-o", "json"])
            .output()
            .context("running kubectl-c8dr status")?;
        let doc: Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("status -o json: {}", String::from_utf8_lossy(&out.stderr)))?;
        let phase = doc["summary"].as_str().unwrap_or("?").to_string();
        println!("  ⓘ kubectl c8dr status: {phase}");
        Ok(phase)
    }

    /// Run one step of the procedure (`program` is `kubectl c8dr` or `helm c8dr`), then check
    /// the simulator's state with `verify`, which returns what it saw and whether that is right.
    fn step(
        &mut self,
        phase: &str,
        program: &str,
        args: &[&str],
        verify: impl FnOnce(&Value) -> (String, bool),
    ) -> anyhow::Result<()> {
        let shown = format!("{program} {}", args.join(" "));
        println!("\n▶ {phase}: {shown}");
        let (bin, argv): (PathBuf, Vec<&str>) = match program {
            "kubectl c8dr" if self.use_kubectl => (
                PathBuf::from("kubectl"),
                std::iter::once("c8dr")
                    .chain(args.iter().copied())
                    .collect(),
            ),
            "kubectl c8dr" => (self.opts.bin_dir.join("kubectl-c8dr"), args.to_vec()),
            "helm c8dr" => (self.opts.bin_dir.join("helm-c8dr"), args.to_vec()),
            other => bail!("unknown program {other}"),
        };
        let started = Instant::now();
        let out = self
            .command(&bin)
            .args(&argv)
            .output()
            .with_context(|| format!("running {}", bin.display()))?;
        let took = started.elapsed();
        self.in_commands += took;
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            println!("  │ {line}");
        }
        if !out.status.success() {
            for line in String::from_utf8_lossy(&out.stderr).lines() {
                println!("  │ {line}");
            }
            bail!("step failed ({shown}): exit code {:?}", out.status.code());
        }
        let state = state_json(&self.sim.world().lock());
        let (label, ok) = verify(&state);
        if !ok {
            bail!("verification failed: {label}\nsimulator state: {state:#}");
        }
        println!("  ✓ verified: {label}  ({:.2}s)", took.as_secs_f64());
        Ok(())
    }
}

/// Run the demo; returns an error naming the step that failed.
pub async fn run(opts: DemoOptions) -> anyhow::Result<()> {
    let lost = opts.lose;
    let surviving = 1 - lost;
    let parity = if lost == 0 { "--even" } else { "--odd" };
    let lost_exporter = format!("camundaregion{lost}");
    let surviving_exporter = format!("camundaregion{surviving}");
    std::fs::create_dir_all(&opts.work_dir)?;
    write_values_layout(&opts.work_dir, opts.cfg.camunda)?;
    let sim = Sim::start(opts.cfg.clone(), &opts.work_dir.join("sim")).await?;
    let path = std::env::join_paths(std::iter::once(opts.bin_dir.clone()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))?;
    let mut env = sim.docs_env(surviving);
    env.push(("PATH".into(), path.to_string_lossy().into_owned()));
    env.push((
        "HELM_BIN".into(),
        opts.bin_dir.join("c8dr-sim-helm").display().to_string(),
    ));
    env.push((
        "C8DR_SIM_HELM_RECORD".into(),
        opts.work_dir.join("helm-calls").display().to_string(),
    ));
    env.push(("HOME".into(), opts.work_dir.display().to_string()));
    env.push(("C8DR_ASSUME_YES".into(), "1".into()));
    let use_kubectl = Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut r = Runner {
        opts: &opts,
        sim: &sim,
        env,
        use_kubectl,
        in_commands: Duration::ZERO,
    };
    let demo_start = Instant::now();
    let members_of = |s: &Value| -> Vec<u64> {
        s["members"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default()
    };
    let only_survivors = |s: &Value| {
        let m = members_of(s);
        m.len() == 4 && m.iter().all(|b| *b as usize % 2 == surviving)
    };

    println!(
        "c8dr demo: a simulated dual-region Camunda {} ({} brokers, {} partitions, RF {}{}), region{lost} is about to be lost",
        opts.cfg.camunda,
        opts.cfg.cluster_size,
        opts.cfg.partitions,
        opts.cfg.replication_factor,
        match opts.cfg.broker_ids() {
            crate::release::BrokerIds::Zoned => format!(
                ", zone-aware: zones {} and {}",
                crate::release::zone_name(0),
                crate::release::zone_name(1)
            ),
            crate::release::BrokerIds::Numbered => String::new(),
        }
    );
    println!(
        "  kubeconfig {}, contexts c8dr-sim-region0/1, {} as the plugin runner",
        sim.kubeconfig.display(),
        if use_kubectl {
            "kubectl"
        } else {
            "kubectl-c8dr directly (no kubectl on PATH)"
        }
    );

    r.phase()?;
    sim.lose_region(lost);
    println!(
        "\n✗ region{lost} lost: its Kubernetes API, gateway, Elasticsearch and brokers are gone"
    );
    r.phase()?;

    // Failover.
    if opts.drivers {
        r.step(
            &span(Step::RemoveBrokers, Step::DisableExporter),
            "kubectl c8dr",
            &["failover"],
            |s| {
                (
                    format!(
                        "members {:?}, {lost_exporter} {}",
                        members_of(s),
                        s["exporters"][&lost_exporter]
                    ),
                    only_survivors(s) && s["exporters"][&lost_exporter] == "DISABLED",
                )
            },
        )?;
    } else {
        r.step(
            &label(Step::RemoveBrokers),
            "kubectl c8dr",
            &["brokers", "remove", parity],
            |s| {
                (
                    format!(
                        "members {:?}, replication factor {}",
                        members_of(s),
                        s["replicationFactor"]
                    ),
                    only_survivors(s),
                )
            },
        )?;
        r.step(
            &label(Step::DisableExporter),
            "kubectl c8dr",
            &["exporters", "disable", &lost_exporter],
            |s| {
                (
                    format!("{lost_exporter} is {}", s["exporters"][&lost_exporter]),
                    s["exporters"][&lost_exporter] == "DISABLED",
                )
            },
        )?;
    }
    println!("\n✓ failed over: Camunda runs in region{surviving} alone");
    r.phase()?;

    sim.recreate_region(lost);
    println!("\n↻ region{lost} recreated: an empty cluster and namespace, ready for failback");
    r.phase()?;

    // Failback.
    r.step(
        &label(Step::InstallRecreated),
        "helm c8dr",
        &["redeploy", "--region", "recreated", "--no-webapps", "--no-schema-manager"],
        |s| {
            (
                "recreated region installed without webapps, schema manager off, Elasticsearch empty".into(),
                s["regions"][lost]["helmRevision"] == 1
                    && s["regions"][lost]["schemaManagerDisabled"] == true
                    && s["regions"][lost]["esIndices"].as_array().is_some_and(Vec::is_empty),
            )
        },
    )?;
    // The release's default profiles without Operate and Tasklist (`identity` on 8.8, `admin`
    // from 8.9: sim/src/release.rs).
    let no_webapps: Value = opts
        .cfg
        .camunda
        .default_profiles()
        .into_iter()
        .filter(|p| !["operate", "tasklist"].contains(p))
        .collect();
    r.step(
        &label(Step::RedeploySurviving),
        "helm c8dr",
        &["redeploy", "--region", "surviving", "--no-webapps"],
        |s| {
            (
                format!("surviving profiles {}", s["regions"][surviving]["profiles"]),
                s["regions"][surviving]["profiles"] == no_webapps,
            )
        },
    )?;
    let copied =
        |s: &Value| s["regions"][lost]["esIndices"] == s["regions"][surviving]["esIndices"];
    if opts.drivers {
        r.step(
            &span(Step::PauseExporting, Step::AddBrokers),
            "kubectl c8dr",
            &[
                "failback",
                "--replication-factor",
                "4",
                "--bucket",
                DEMO_BUCKET,
            ],
            |s| {
                (
                    format!(
                        "members {:?}, replication factor {}, {lost_exporter} {}, exporting {}",
                        members_of(s),
                        s["replicationFactor"],
                        s["exporters"][&lost_exporter],
                        s["exporting"]
                    ),
                    members_of(s).len() == 8
                        && s["replicationFactor"] == 4
                        && s["exporters"][&lost_exporter] == "ENABLED"
                        && s["exporting"] == "Running"
                        && copied(s),
                )
            },
        )?;
    } else {
        r.step(
            &label(Step::PauseExporting),
            "kubectl c8dr",
            &["exporting", "pause"],
            |s| ("exporting paused".into(), s["exporting"] == "Paused"),
        )?;
        r.step(
            &label(Step::CopyElasticsearch),
            "kubectl c8dr",
            &[
                "es",
                "copy",
                "--from",
                "surviving",
                "--to",
                "recreated",
                "--bucket",
                DEMO_BUCKET,
                "--exporting-paused",
            ],
            |s| {
                (
                    format!(
                        "recreated Elasticsearch holds the surviving region's {} indices",
                        s["regions"][surviving]["esIndices"]
                            .as_array()
                            .map_or(0, Vec::len)
                    ),
                    copied(s),
                )
            },
        )?;
        r.step(
            &label(Step::EnableExporter),
            "kubectl c8dr",
            &[
                "exporters",
                "enable",
                &lost_exporter,
                "--initialize-from",
                &surviving_exporter,
            ],
            |s| {
                (
                    format!("{lost_exporter} ENABLED, initialised from {surviving_exporter}"),
                    s["exporters"][&lost_exporter] == "ENABLED"
                        && s["initializedFrom"][&lost_exporter] == surviving_exporter.as_str(),
                )
            },
        )?;
        r.step(
            &label(Step::ResumeExporting),
            "kubectl c8dr",
            &["exporting", "resume"],
            |s| ("exporting resumed".into(), s["exporting"] == "Running"),
        )?;
        r.step(
            &label(Step::AddBrokers),
            "kubectl c8dr",
            &["brokers", "add", parity, "--replication-factor", "4"],
            |s| {
                (
                    format!(
                        "members {:?}, replication factor {}",
                        members_of(s),
                        s["replicationFactor"]
                    ),
                    members_of(s).len() == 8 && s["replicationFactor"] == 4,
                )
            },
        )?;
    }
    let full: Value = opts.cfg.camunda.default_profiles().into_iter().collect();
    r.step(
        &label(Step::RedeployBoth),
        "helm c8dr",
        &["redeploy", "--region", "both"],
        |s| {
            (
                "both regions: webapps on, schema-manager override removed".into(),
                (0..2).all(|i| {
                    s["regions"][i]["profiles"] == full
                        && s["regions"][i]["schemaManagerDisabled"] == false
                }),
            )
        },
    )?;
    let final_phase = r.phase()?;
    if !final_phase.starts_with("healthy") {
        bail!("status does not report the installation healthy after failback: {final_phase}");
    }

    println!(
        "\n✓ failback complete: both regions healthy — 8 brokers, RF 4, both exporters enabled, webapps on ({:.1}s, of which {:.1}s in the c8dr commands)",
        demo_start.elapsed().as_secs_f64(),
        r.in_commands.as_secs_f64()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_numbers_steps_by_their_position() {
        assert_eq!(label(Step::RemoveBrokers), "failover 1/2");
        assert_eq!(label(Step::PauseExporting), "failback 3/8");
        assert_eq!(label(Step::RedeployBoth), "failback 8/8");
        assert_eq!(span(Step::PauseExporting, Step::AddBrokers), "failback 3-7");
    }
}
