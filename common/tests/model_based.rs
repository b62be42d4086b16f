//! Safety as a property of every state, not of the cases we listed (issue 19 §2; the invariants
//! are stated in docs/reliability.md). A seeded generator drives the in-process commands against
//! the simulator through random sequences: any procedure step in any order, re-runs, both
//! drivers, runs killed at a random moment (the command's future dropped: what SIGKILL leaves),
//! the simulator's faults, lost answers, and the environment mistakes a tired operator makes
//! (regions swapped, both regions naming one cluster, the recreated region unset, a wrong REST
//! password). After every action it checks the safety contract on the simulator's own state:
//!
//! - no broker the simulator holds alive left the membership (nor is on its way out);
//! - no exporter of a running region was disabled;
//! - a command that ended by itself (not killed) did not leave exporting paused that was not
//!   paused before, except `exporting pause` itself;
//! - no Elasticsearch index of a region that stayed up disappeared, a user's own repository
//!   registration is left as it was, and no recovery tuning of c8dr is left in any cluster's
//!   settings after a command ended by itself;
//! - no mutating request was sent twice within one command;
//! - every ending is a documented exit code (0–5) and nothing panics;
//! - the `next:` command of `status`, when run, is not refused or rejected as bad input for a
//!   reason `status` could have seen.
//!
//! Reproducible: every sequence has a seed, printed with its actions when it breaks an invariant.
//! `C8DR_MODEL_SEQUENCES=N` runs N sequences (default 40), `C8DR_MODEL_SEED=S` replays one,
//! `C8DR_MODEL_BASE=B` starts the seeds elsewhere (each CI run can explore new ones).

use std::fmt;
use std::time::Duration;

use crate::support::Cluster;
use c8dr_common::commands::brokers::{brokers_add, brokers_remove};
use c8dr_common::commands::exporters::exporter_set;
use c8dr_common::commands::exporting::{exporting_pause, exporting_resume};
use c8dr_common::commands::failback::{FailbackArgs, failback};
use c8dr_common::commands::failover::failover;
use c8dr_common::commands::status::status;
use c8dr_common::region::RegionId as CoreRegion;
use c8dr_common::session::Session;
use c8dr_common::values::SCHEMA_MANAGER_VAR;
use c8dr_common::zeebe::brokers::Selection;
use c8dr_sim::es::repository::RepoRegistration;
use c8dr_sim::invariants::{self, SeededRng as Rng, Snapshot};
use c8dr_sim::{SimConfig, World};
use serde_json::json;

/// What the operator's environment says, for one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EnvMistake {
    /// The docs' variables, the surviving region right.
    None,
    /// Surviving and recreated swapped: the variables name the lost region as surviving.
    Swapped,
    /// Both regions' variables name the surviving cluster.
    SameCluster,
    /// The recreated region's variables unset.
    RecreatedUnset,
    /// A wrong REST password (`/v2/topology` answers 401).
    WrongPassword,
}

/// A simulator fault injected between commands.
#[derive(Debug, Clone, Copy)]
enum Fault {
    ZeebeError(u16),
    LoseMutationAnswer,
    DropPortForwards,
    CutExecStreams,
    Partition(bool),
    KubeApiUnavailable,
    StopBroker(u32),
    StartBrokers,
    GatewayListsNoBroker(bool),
    DropMutationAnswer,
    PartitionsQueryTimesOut(u32),
}

#[derive(Debug, Clone, Copy)]
enum Act {
    /// The world: a region is lost.
    Lose(usize),
    /// The world: the lost region comes back empty ("recreated").
    Recreate,
    /// The operator runs the helm steps (applied as the helm stand-in applies a release).
    HelmRecreated,
    HelmSurviving,
    HelmBoth,
    Fault(Fault),
    // c8dr commands; the region is the one the step acts on.
    Remove(usize),
    Disable(usize),
    Pause,
    Resume,
    /// `exporters enable`, with `--initialize-from` the other region's exporter or not.
    Enable(usize, bool),
    Add(usize),
    Failover,
    Failback,
    /// Run `status` and then the command it names as next.
    FollowStatus,
}

impl Act {
    fn is_command(self) -> bool {
        !matches!(
            self,
            Act::Lose(_)
                | Act::Recreate
                | Act::HelmRecreated
                | Act::HelmSurviving
                | Act::HelmBoth
                | Act::Fault(_)
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Step {
    act: Act,
    env: EnvMistake,
    /// Drop the command's future after this long (SIGKILL).
    kill_after: Option<Duration>,
    no_wait: bool,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.act)?;
        if self.env != EnvMistake::None {
            write!(f, " env={:?}", self.env)?;
        }
        if let Some(k) = self.kill_after {
            write!(f, " killed-after={}ms", k.as_millis())?;
        }
        if self.no_wait {
            write!(f, " --no-wait")?;
        }
        Ok(())
    }
}

/// What the generator knows of the world (to make sequences that go somewhere).
#[derive(Debug, Default)]
struct Model {
    lost: Option<usize>,
    recreated: bool,
}

fn generate(rng: &mut Rng, model: &mut Model) -> Step {
    let act = loop {
        let act = match rng.below(22) {
            0..=2 if model.lost.is_none() => Act::Lose(rng.below(2) as usize),
            3 if model.lost.is_some() && !model.recreated => Act::Recreate,
            4 if model.recreated => Act::HelmRecreated,
            5 if model.recreated => Act::HelmSurviving,
            6 if model.recreated && rng.chance(30) => Act::HelmBoth,
            7 => Act::Fault(match rng.below(11) {
                0 => Act::zeebe_error(rng),
                1 => Fault::LoseMutationAnswer,
                2 => Fault::DropPortForwards,
                3 => Fault::CutExecStreams,
                4 => Fault::Partition(rng.chance(50)),
                5 => Fault::KubeApiUnavailable,
                6 => Fault::StopBroker(rng.below(8) as u32),
                7 => Fault::GatewayListsNoBroker(rng.chance(50)),
                8 => Fault::DropMutationAnswer,
                9 => Fault::PartitionsQueryTimesOut(rng.below(8) as u32),
                _ => Fault::StartBrokers,
            }),
            8 => Act::Remove(rng.below(2) as usize),
            9 => Act::Disable(rng.below(2) as usize),
            10 => Act::Pause,
            11 => Act::Resume,
            12 => Act::Enable(rng.below(2) as usize, true),
            13 => Act::Add(rng.below(2) as usize),
            14 | 15 => Act::Failover,
            16 | 17 => Act::Failback,
            18..=21 => Act::FollowStatus,
            _ => continue,
        };
        break act;
    };
    match act {
        Act::Lose(r) => model.lost = Some(r),
        Act::Recreate => model.recreated = true,
        _ => {}
    }
    let env = if act.is_command() && rng.chance(20) {
        match rng.below(4) {
            0 => EnvMistake::Swapped,
            1 => EnvMistake::SameCluster,
            2 => EnvMistake::RecreatedUnset,
            _ => EnvMistake::WrongPassword,
        }
    } else {
        EnvMistake::None
    };
    let kill_after =
        (act.is_command() && rng.chance(12)).then(|| Duration::from_millis(20 + rng.below(600)));
    let no_wait = act.is_command() && rng.chance(8);
    Step {
        act,
        env,
        kill_after,
        no_wait,
    }
}

impl Act {
    fn zeebe_error(rng: &mut Rng) -> Fault {
        Fault::ZeebeError([409, 502, 504, 500][rng.below(4) as usize])
    }
}

/// A user's own registration of the repository c8dr uses, made before c8dr ever ran, with other
/// settings than c8dr's: c8dr must use it as it is or refuse, never re-point it.
const USER_REPO: &str = "camunda_backup";

fn fast() -> SimConfig {
    SimConfig {
        operation_duration: Duration::from_millis(15),
        exporter_status_lag: Duration::from_millis(60),
        es_shard_duration: Duration::from_millis(5),
        gateway_request_timeout: Duration::from_millis(300),
        ..SimConfig::default()
    }
}

/// The session of one command, or the bad-input refusal the flags and environment get.
fn session(c: &Cluster, model: &Model, step: &Step) -> c8dr_common::Result<Session> {
    let surviving = model.lost.map(|l| 1 - l).unwrap_or(0);
    let recreated = 1 - surviving;
    let ctx = |r: usize| c8dr_sim::context_name(r);
    let ns = |r: usize| format!("camunda-region{r}");
    let mut b = c
        .session()
        .surviving(surviving)
        .timeout("10s")
        .env("S3_BUCKET_NAME", "camunda-bucket");
    match step.env {
        EnvMistake::None => {}
        EnvMistake::Swapped => {
            b = b
                .surviving(recreated)
                .env("S3_BUCKET_NAME", "camunda-bucket");
        }
        EnvMistake::SameCluster => {
            b = b
                .env("CLUSTER_RECREATED", &ctx(surviving))
                .env(&format!("CLUSTER_{recreated}"), &ctx(surviving))
                .env("CAMUNDA_NAMESPACE_RECREATED", &ns(recreated));
        }
        EnvMistake::RecreatedUnset => {
            for k in [
                "CLUSTER_RECREATED".to_string(),
                "CAMUNDA_NAMESPACE_RECREATED".into(),
                "REGION_RECREATED".into(),
                format!("CLUSTER_{recreated}"),
                format!("CAMUNDA_NAMESPACE_{recreated}"),
            ] {
                b = b.without_env(&k);
            }
        }
        EnvMistake::WrongPassword => {
            b = b.env("CAMUNDA_CLIENT_AUTH_PASSWORD", "not-the-password");
        }
    }
    if step.no_wait {
        b = b.no_wait();
    }
    b.try_build()
}

fn apply_helm(c: &Cluster, region: usize, webapps: bool, schema_off: bool) {
    let mut w = c.sim.world().lock();
    if !w.regions[region].reachable {
        return;
    }
    let env = if schema_off {
        json!([{"name": SCHEMA_MANAGER_VAR, "value": "false"}])
    } else {
        json!([])
    };
    c8dr_sim::helm::apply_release(
        &mut w,
        region,
        json!({"orchestration": {
            "replicationFactor": "4",
            "profiles": {"operate": webapps, "tasklist": webapps},
            "env": env,
        }}),
    );
}

fn inject(c: &Cluster, fault: Fault, model: &Model) {
    let mut w = c.sim.world().lock();
    let f = &mut w.faults;
    match fault {
        Fault::ZeebeError(code) => f.zeebe_error = Some((code, 1)),
        Fault::LoseMutationAnswer => f.lose_mutation_answer = 1,
        Fault::DropPortForwards => f.drop_port_forwards = 2,
        Fault::CutExecStreams => f.cut_exec_streams = 1,
        Fault::Partition(on) => f.regions_partitioned = on && model.lost.is_none(),
        Fault::KubeApiUnavailable => f.kube_api_unavailable = 2,
        Fault::StopBroker(b) => {
            f.stopped_brokers.insert(b);
        }
        Fault::StartBrokers => {
            f.stopped_brokers.clear();
            f.partitions_query_times_out.clear();
        }
        Fault::GatewayListsNoBroker(on) => f.gateway_lists_no_broker = on,
        Fault::DropMutationAnswer => f.drop_mutation_answer = 1,
        Fault::PartitionsQueryTimesOut(b) => {
            f.partitions_query_times_out.insert(b);
        }
    }
}

/// How a command ended: its exit code (0 for success), or killed / panicked / overran.
#[derive(Debug, Clone)]
enum Ending {
    Code(i32, String),
    Killed,
    Panicked(String),
    Hung,
}

/// A command, boxed so that one runner can time-limit, kill and catch panics of any of them.
type CommandFuture =
    std::pin::Pin<Box<dyn std::future::Future<Output = (i32, String)> + Send + 'static>>;

fn code_of<T>(r: c8dr_common::Result<T>) -> (i32, String) {
    match r {
        Ok(_) => (0, String::new()),
        Err(e) => (e.exit_code(), e.to_string()),
    }
}

/// The c8dr command an act stands for, on its own session.
fn command(act: Act, s: Session) -> CommandFuture {
    Box::pin(async move {
        match act {
            Act::Remove(r) => code_of(
                brokers_remove(
                    &s,
                    Selection::Parity(CoreRegion::of_broker(r as u32)),
                    false,
                )
                .await,
            ),
            Act::Disable(r) => {
                code_of(exporter_set(&s, &format!("camundaregion{r}"), false, None).await)
            }
            Act::Enable(r, init) => {
                let from = format!("camundaregion{}", 1 - r);
                code_of(
                    exporter_set(
                        &s,
                        &format!("camundaregion{r}"),
                        true,
                        init.then_some(from.as_str()),
                    )
                    .await,
                )
            }
            Act::Pause => code_of(exporting_pause(&s, false).await),
            Act::Resume => code_of(exporting_resume(&s).await),
            Act::Add(r) => code_of(
                brokers_add(
                    &s,
                    Selection::Parity(CoreRegion::of_broker(r as u32)),
                    None,
                    Some(4),
                )
                .await,
            ),
            Act::Failover => code_of(failover(&s, None).await),
            Act::Failback => code_of(failback(&s, &FailbackArgs::default()).await),
            _ => (0, String::new()),
        }
    })
}

/// The act a `status` next command names.
fn act_of_next(next: &str) -> Option<Act> {
    // The first of `A, then B`: what to run now.
    let first = next.split(", then ").next().unwrap_or_default();
    let words: Vec<&str> = first.split_whitespace().collect();
    let region_of = |id: &str| id.chars().last()?.to_digit(10).map(|d| d as usize);
    let parity = |w: &str| match w {
        "--even" => Some(0),
        "--odd" => Some(1),
        _ => None,
    };
    match words.as_slice() {
        ["kubectl", "c8dr", "brokers", "remove", p, ..] => parity(p).map(Act::Remove),
        ["kubectl", "c8dr", "brokers", "add", p, ..] => parity(p).map(Act::Add),
        ["kubectl", "c8dr", "exporters", "disable", id, ..] => region_of(id).map(Act::Disable),
        ["kubectl", "c8dr", "exporters", "enable", id, rest @ ..] => {
            region_of(id).map(|r| Act::Enable(r, rest.contains(&"--initialize-from")))
        }
        ["kubectl", "c8dr", "exporting", "pause", ..] => Some(Act::Pause),
        ["kubectl", "c8dr", "exporting", "resume", ..] => Some(Act::Resume),
        ["kubectl", "c8dr", "es", "copy", ..] | ["kubectl", "c8dr", "failback", ..] => {
            Some(Act::Failback)
        }
        ["kubectl", "c8dr", "failover", ..] => Some(Act::Failover),
        ["helm", "c8dr", "redeploy", "--region", "recreated", ..] => Some(Act::HelmRecreated),
        ["helm", "c8dr", "redeploy", "--region", "surviving", ..] => Some(Act::HelmSurviving),
        ["helm", "c8dr", "redeploy", "--region", "both", ..] => Some(Act::HelmBoth),
        _ => None,
    }
}

async fn run_command(fut: CommandFuture, kill_after: Option<Duration>) -> Ending {
    let handle = tokio::spawn(fut);
    let limit = kill_after.unwrap_or(Duration::from_secs(90));
    let abort = handle.abort_handle();
    match tokio::time::timeout(limit, handle).await {
        Ok(Ok((code, msg))) => Ending::Code(code, msg),
        Ok(Err(e)) if e.is_panic() => Ending::Panicked(format!("{e:?}")),
        Ok(Err(_)) => Ending::Killed,
        Err(_) => {
            abort.abort();
            if kill_after.is_some() {
                Ending::Killed
            } else {
                Ending::Hung
            }
        }
    }
}

/// The invariants of one command: how it ended, then the simulator's state (shared checks).
fn check(
    ending: &Ending,
    cmd: &invariants::Command,
    before: &Snapshot,
    after: &Snapshot,
    w: &World,
) -> Vec<String> {
    let mut broken = vec![];
    match ending {
        Ending::Code(code, msg) if !(0..=5).contains(code) => {
            broken.push(format!("undocumented exit code {code}: {msg}"))
        }
        Ending::Panicked(p) => broken.push(format!("panicked: {p}")),
        Ending::Hung => broken.push("did not end within 90 s".into()),
        _ => {}
    }
    broken.extend(invariants::broken(cmd, before, after, w));
    broken
}

/// One sequence: its steps, and the first broken invariant (with the step it broke at).
async fn sequence(seed: u64, len: usize) -> Result<Vec<String>, String> {
    let mut rng = Rng::new(seed);
    // Every release c8dr supports (each with its own names, profiles and search-engine layout):
    // the invariants are the same on all of them.
    let camunda = [
        c8dr_sim::CamundaRelease::V8_8,
        c8dr_sim::CamundaRelease::V8_9,
        c8dr_sim::CamundaRelease::V8_10,
    ][rng.below(3) as usize];
    // 8.10 installations are zone-aware half of the time (the Zones API instead of broker ids).
    let zone_aware = camunda.supports_zone_aware() && rng.chance(50);
    let c = Cluster::start(SimConfig {
        camunda,
        zone_aware,
        ..fast()
    })
    .await;
    let mut model = Model::default();
    let mut log = vec![];
    // Sometimes the user already has their own repository registration (c8dr must not touch it).
    let user_repo = rng.chance(30).then(|| {
        let r = rng.below(2) as usize;
        let mut w = c.sim.world().lock();
        let mut settings = serde_json::Map::new();
        settings.insert("bucket".into(), json!("camunda-bucket"));
        settings.insert("base_path".into(), json!("user/elsewhere"));
        settings.insert("compress".into(), json!("true"));
        let reg = RepoRegistration {
            kind: "s3".into(),
            settings,
            readonly: false,
            seen_generation: 0,
            uuid: "user-repo-uuid".into(),
        };
        w.regions[r].es.repositories.insert(USER_REPO.into(), reg);
        (r, USER_REPO.to_string())
    });
    log.push(format!(
        "camunda {}{}",
        camunda.as_str(),
        if zone_aware { " zone-aware" } else { "" }
    ));
    for _ in 0..len {
        let step = generate(&mut rng, &mut model);
        let mut act = step.act;
        match act {
            Act::Lose(r) => c.lose(r),
            Act::Recreate => {
                if let Some(l) = model.lost {
                    c.sim.recreate_region(l);
                }
            }
            Act::HelmRecreated => {
                if let Some(l) = model.lost {
                    apply_helm(&c, l, false, true);
                }
            }
            Act::HelmSurviving => apply_helm(&c, model.lost.map_or(0, |l| 1 - l), false, false),
            Act::HelmBoth => {
                apply_helm(&c, 0, true, false);
                apply_helm(&c, 1, true, false);
            }
            Act::Fault(f) => inject(&c, f, &model),
            _ => {}
        }
        if !act.is_command() {
            log.push(step.to_string());
            continue;
        }
        let mut line = step.to_string();
        let s = match session(&c, &model, &step) {
            Ok(s) => s,
            Err(e) => {
                // Bad input before any call: exit 2, nothing to judge in the world.
                let code = e.exit_code();
                line.push_str(&format!(" => refused before any call, exit {code}"));
                log.push(line);
                if code != 2 {
                    return Err(format!(
                        "seed {seed}: bad input ended with exit {code}: {e}"
                    ));
                }
                continue;
            }
        };
        if let Act::FollowStatus = act {
            let report = match status(&s, Duration::from_secs(3)).await {
                Ok(r) => r,
                Err(e) => {
                    line.push_str(&format!(" -> status exit {}", e.exit_code()));
                    log.push(line);
                    continue;
                }
            };
            let next = report.procedure.next.clone().unwrap_or_default();
            line.push_str(&format!(" -> next {next:?}"));
            match act_of_next(&next) {
                Some(a @ (Act::HelmRecreated | Act::HelmSurviving | Act::HelmBoth)) => {
                    match a {
                        Act::HelmRecreated => {
                            if let Some(l) = model.lost {
                                apply_helm(&c, l, false, true)
                            }
                        }
                        Act::HelmSurviving => {
                            apply_helm(&c, model.lost.map_or(0, |l| 1 - l), false, false)
                        }
                        _ => {
                            apply_helm(&c, 0, true, false);
                            apply_helm(&c, 1, true, false);
                        }
                    }
                    log.push(line);
                    continue;
                }
                Some(a) => act = a,
                None => {
                    log.push(line);
                    continue;
                }
            }
        }
        let before = c.world(Snapshot::of);
        let ending = run_command(command(act, s), step.kill_after).await;
        // Let what the command started run on (a --no-wait change, a restore) before judging.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut broken = {
            let mut w = c.sim.world().lock();
            w.advance(tokio::time::Instant::now());
            let after = Snapshot::of(&w);
            let cmd = invariants::Command {
                ended_by_itself: matches!(ending, Ending::Code(..)),
                pauses: matches!(act, Act::Pause),
                // `exporters disable camundaregionN` names its exporter whatever the
                // environment: the operator's stated intent.
                stated_disable: match act {
                    Act::Disable(r) => Some(r),
                    _ => None,
                },
                user_repo: user_repo.clone(),
            };
            check(&ending, &cmd, &before, &after, &w)
        };
        if matches!(step.act, Act::FollowStatus)
            && step.env == EnvMistake::None
            && let Ending::Code(code @ (2 | 3), msg) = &ending
        {
            broken.push(format!(
                "status's next command was refused (exit {code}): {msg}"
            ));
        }
        line.push_str(&format!(" => {ending:?}"));
        log.push(line);
        if !broken.is_empty() {
            return Err(format!(
                "seed {seed}: {}\n  steps:\n    {}",
                broken.join("; "),
                log.join("\n    ")
            ));
        }
    }
    Ok(log)
}

fn env_u64(key: &str) -> Option<u64> {
    std::env::var(key).ok()?.trim().parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_generated_sequence_breaks_the_safety_invariants() {
    let len = env_u64("C8DR_MODEL_LEN").unwrap_or(10) as usize;
    let seeds: Vec<u64> = match env_u64("C8DR_MODEL_SEED") {
        Some(seed) => vec![seed],
        None => {
            let base = env_u64("C8DR_MODEL_BASE").unwrap_or(1);
            let n = env_u64("C8DR_MODEL_SEQUENCES").unwrap_or(40);
            (base..base + n).collect()
        }
    };
    // Several sequences at once: most of a command is waiting on the simulator.
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(8));
    let mut set = tokio::task::JoinSet::new();
    for seed in seeds {
        let slots = slots.clone();
        set.spawn(async move {
            let _slot = slots.acquire_owned().await;
            sequence(seed, len).await
        });
    }
    let mut failures = vec![];
    let mut ran = 0;
    while let Some(done) = set.join_next().await {
        ran += 1;
        match done {
            Ok(Ok(_)) => {}
            Ok(Err(f)) => failures.push(f),
            Err(e) => failures.push(format!("a sequence panicked: {e:?}")),
        }
    }
    eprintln!(
        "model-based: {ran} sequences of {len} steps, {} broke an invariant",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} of {ran} sequences broke an invariant (replay one: C8DR_MODEL_SEED=<seed>):\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
