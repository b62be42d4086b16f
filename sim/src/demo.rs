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
fn write_values_layout(dir: &Path) -> anyhow::Result<()> {
    let shared = r#"# Shared values (a trimmed version of camunda/c8-multi-region stable/8.8)
global:
  multiregion:
    regions: 2
orchestration:
  clusterSize: '8'
  partitionCount: '8'
  replicationFactor: '4'
  env:
    - name: ZEEBE_BROKER_DATA_SNAPSHOTPERIOD
      value: '5m'
    - name: ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION0_CLASSNAME
      value: io.camunda.exporter.CamundaExporter
    - name: ZEEBE_BROKER_EXPORTERS_CAMUNDAREGION1_CLASSNAME
      value: io.camunda.exporter.CamundaExporter
"#;
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

struct Step<'a> {
    phase: &'a str,
    program: &'a str,
    args: Vec<String>,
}

struct Runner<'a> {
    opts: &'a DemoOptions,
    env: Vec<(String, String)>,
    use_kubectl: bool,
    server_total: Duration,
}

impl Runner<'_> {
    /// `kubectl c8dr status -o json`'s phase line: where c8dr thinks the procedure stands.
    fn phase(&self) -> anyhow::Result<String> {
        let out = Command::new(self.opts.bin_dir.join("kubectl-c8dr"))
            .args(["status", "-o", "json"])
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.opts.work_dir)
            .output()
            .context("running kubectl-c8dr status")?;
        let doc: Value = serde_json::from_slice(&out.stdout)
            .with_context(|| format!("status -o json: {}", String::from_utf8_lossy(&out.stderr)))?;
        let phase = doc["phase"].as_str().unwrap_or("?").to_string();
        println!("  ⓘ kubectl c8dr status: {phase}");
        Ok(phase)
    }

    fn run(&mut self, step: Step<'_>) -> anyhow::Result<Duration> {
        let shown = format!("{} {}", step.program, step.args.join(" "));
        println!("\n▶ {}: {shown}", step.phase);
        let (program, args): (PathBuf, Vec<String>) = match step.program {
            "kubectl c8dr" if self.use_kubectl => (
                PathBuf::from("kubectl"),
                std::iter::once("c8dr".to_string())
                    .chain(step.args)
                    .collect(),
            ),
            "kubectl c8dr" => (self.opts.bin_dir.join("kubectl-c8dr"), step.args),
            "helm c8dr" => (self.opts.bin_dir.join("helm-c8dr"), step.args),
            other => bail!("unknown program {other}"),
        };
        let started = Instant::now();
        let out = Command::new(&program)
            .args(&args)
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&self.opts.work_dir)
            .output()
            .with_context(|| format!("running {}", program.display()))?;
        let took = started.elapsed();
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            println!("  │ {line}");
        }
        if !out.status.success() {
            for line in String::from_utf8_lossy(&out.stderr).lines() {
                println!("  │ {line}");
            }
            bail!("step failed ({shown}): exit code {:?}", out.status.code());
        }
        self.server_total += took;
        Ok(took)
    }
}

fn check(label: &str, ok: bool, took: Duration, state: &Value) -> anyhow::Result<()> {
    if ok {
        println!("  ✓ verified: {label}  ({:.2}s)", took.as_secs_f64());
        Ok(())
    } else {
        bail!("verification failed: {label}\nsimulator state: {state:#}")
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
    write_values_layout(&opts.work_dir)?;
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
        env,
        use_kubectl,
        server_total: Duration::ZERO,
    };
    let state = |sim: &Sim| state_json(&sim.world().lock());
    let demo_start = Instant::now();

    println!(
        "c8dr demo: a simulated dual-region Camunda 8.8 (8 brokers, 8 partitions, RF 4), region{lost} is about to be lost"
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
        let t = r.run(Step {
            phase: "failover 1-2",
            program: "kubectl c8dr",
            args: vec!["failover".into()],
        })?;
        let s = state(&sim);
        check(
            &format!(
                "members {}, {lost_exporter} {}",
                s["members"], s["exporters"][&lost_exporter]
            ),
            s["members"].as_array().is_some_and(|m| {
                m.len() == 4
                    && m.iter()
                        .all(|b| b.as_u64().is_some_and(|b| b as usize % 2 == surviving))
            }) && s["exporters"][&lost_exporter] == "DISABLED",
            t,
            &s,
        )?;
    } else {
        let t = r.run(Step {
            phase: "failover 1/2",
            program: "kubectl c8dr",
            args: vec!["brokers".into(), "remove".into(), parity.into()],
        })?;
        let s = state(&sim);
        let members: Vec<u64> = s["members"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default();
        check(
            &format!(
                "members {members:?}, replication factor {}",
                s["replicationFactor"]
            ),
            members.iter().all(|m| *m as usize % 2 == surviving) && members.len() == 4,
            t,
            &s,
        )?;
        let t = r.run(Step {
            phase: "failover 2/2",
            program: "kubectl c8dr",
            args: vec!["exporters".into(), "disable".into(), lost_exporter.clone()],
        })?;
        let s = state(&sim);
        check(
            &format!("{lost_exporter} is {}", s["exporters"][&lost_exporter]),
            s["exporters"][&lost_exporter] == "DISABLED",
            t,
            &s,
        )?;
    }
    println!("\n✓ failed over: Camunda runs in region{surviving} alone");
    r.phase()?;

    sim.recreate_region(lost);
    println!("\n↻ region{lost} recreated: an empty cluster and namespace, ready for failback");
    r.phase()?;

    // Failback.
    let t = r.run(Step {
        phase: "failback 1/8",
        program: "helm c8dr",
        args: [
            "redeploy",
            "--region",
            "recreated",
            "--no-webapps",
            "--no-schema-manager",
        ]
        .map(String::from)
        .to_vec(),
    })?;
    let s = state(&sim);
    check(
        "recreated region installed without webapps, schema manager off, Elasticsearch empty",
        s["regions"][lost]["helmRevision"] == 1
            && s["regions"][lost]["schemaManagerDisabled"] == true
            && s["regions"][lost]["esIndices"]
                .as_array()
                .is_some_and(Vec::is_empty),
        t,
        &s,
    )?;
    let t = r.run(Step {
        phase: "failback 2/8",
        program: "helm c8dr",
        args: ["redeploy", "--region", "surviving", "--no-webapps"]
            .map(String::from)
            .to_vec(),
    })?;
    let s = state(&sim);
    check(
        &format!("surviving profiles {}", s["regions"][surviving]["profiles"]),
        s["regions"][surviving]["profiles"] == serde_json::json!(["broker", "identity"]),
        t,
        &s,
    )?;
    if opts.drivers {
        let t = r.run(Step {
            phase: "failback 3-7",
            program: "kubectl c8dr",
            args: [
                "failback",
                "--replication-factor",
                "4",
                "--bucket",
                "c8dr-demo-bucket",
            ]
            .map(String::from)
            .to_vec(),
        })?;
        let s = state(&sim);
        check(
            &format!(
                "members {}, replication factor {}, {lost_exporter} {}, exporting {}",
                s["members"],
                s["replicationFactor"],
                s["exporters"][&lost_exporter],
                s["exporting"]
            ),
            s["members"].as_array().map(Vec::len) == Some(8)
                && s["replicationFactor"] == 4
                && s["exporters"][&lost_exporter] == "ENABLED"
                && s["exporting"] == "Running"
                && s["regions"][lost]["esIndices"] == s["regions"][surviving]["esIndices"],
            t,
            &s,
        )?;
    } else {
        let t = r.run(Step {
            phase: "failback 3/8",
            program: "kubectl c8dr",
            args: vec!["exporting".into(), "pause".into()],
        })?;
        let s = state(&sim);
        check("exporting paused", s["exporting"] == "Paused", t, &s)?;
        let t = r.run(Step {
            phase: "failback 4/8",
            program: "kubectl c8dr",
            args: [
                "es",
                "copy",
                "--from",
                "surviving",
                "--to",
                "recreated",
                "--bucket",
                "c8dr-demo-bucket",
                "--exporting-paused",
            ]
            .map(String::from)
            .to_vec(),
        })?;
        let s = state(&sim);
        check(
            &format!(
                "recreated Elasticsearch holds the surviving region's {} indices",
                s["regions"][surviving]["esIndices"]
                    .as_array()
                    .map_or(0, Vec::len)
            ),
            s["regions"][lost]["esIndices"] == s["regions"][surviving]["esIndices"],
            t,
            &s,
        )?;
        let t = r.run(Step {
            phase: "failback 5/8",
            program: "kubectl c8dr",
            args: vec![
                "exporters".into(),
                "enable".into(),
                lost_exporter.clone(),
                "--initialize-from".into(),
                surviving_exporter.clone(),
            ],
        })?;
        let s = state(&sim);
        check(
            &format!("{lost_exporter} ENABLED, initialised from {surviving_exporter}"),
            s["exporters"][&lost_exporter] == "ENABLED"
                && s["initializedFrom"][&lost_exporter] == surviving_exporter.as_str(),
            t,
            &s,
        )?;
        let t = r.run(Step {
            phase: "failback 6/8",
            program: "kubectl c8dr",
            args: vec!["exporting".into(), "resume".into()],
        })?;
        let s = state(&sim);
        check("exporting resumed", s["exporting"] == "Running", t, &s)?;
        let t = r.run(Step {
            phase: "failback 7/8",
            program: "kubectl c8dr",
            args: vec![
                "brokers".into(),
                "add".into(),
                parity.into(),
                "--replication-factor".into(),
                "4".into(),
            ],
        })?;
        let s = state(&sim);
        check(
            &format!(
                "members {}, replication factor {}",
                s["members"], s["replicationFactor"]
            ),
            s["members"].as_array().map(Vec::len) == Some(8) && s["replicationFactor"] == 4,
            t,
            &s,
        )?;
    }
    let t = r.run(Step {
        phase: "failback 8/8",
        program: "helm c8dr",
        args: ["redeploy", "--region", "both"].map(String::from).to_vec(),
    })?;
    let s = state(&sim);
    let full = serde_json::json!(["broker", "identity", "operate", "tasklist"]);
    let final_phase = r.phase()?;
    if !final_phase.starts_with("healthy") {
        bail!("status does not report the installation healthy after failback: {final_phase}");
    }
    check(
        "both regions: webapps on, schema-manager override removed",
        (0..2).all(|i| {
            s["regions"][i]["profiles"] == full && s["regions"][i]["schemaManagerDisabled"] == false
        }),
        t,
        &s,
    )?;

    println!(
        "\n✓ failback complete: both regions healthy — 8 brokers, RF 4, both exporters enabled, webapps on ({:.1}s, of which {:.1}s in the c8dr commands)",
        demo_start.elapsed().as_secs_f64(),
        r.server_total.as_secs_f64()
    );
    Ok(())
}
