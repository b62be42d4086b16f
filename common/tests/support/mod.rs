//! In-process command tests: the core's command functions run against the simulator in the same
//! process (kube-rs, port-forwards, Zeebe and Elasticsearch over real sockets), asserting on the
//! returned `Outcome`/view and on the simulator's typed state — the way cloudnative-pg tests its
//! plugin commands against a fake client. A fluent builder in the style of casey/just's tests:
//!
//! ```ignore
//! let c = Cluster::start(SimConfig::default()).await;
//! let s = c.session().region("region1").timeout("5s").build();
//! let view = c8dr_common::commands::topology::topology(&s).await?;
//! ```
#![allow(dead_code)] // each test file uses a different part of the builder

use c8dr_common::config::Env;
use c8dr_common::session::{GlobalFlags, Session};
use c8dr_sim::{RegionId, Sim, SimConfig, World};

/// A simulated dual-region installation for one test (its own ports and temp dir).
pub struct Cluster {
    pub sim: Sim,
    _dir: tempfile::TempDir,
}

impl Cluster {
    pub async fn start(cfg: SimConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let sim = Sim::start(cfg, dir.path()).await.expect("sim starts");
        Self { sim, _dir: dir }
    }

    /// A session as an operator of the docs would have it: the docs' variables with region 0
    /// surviving, REST credentials set, `--yes`, quiet.
    pub fn session(&self) -> SessionBuilder<'_> {
        SessionBuilder {
            cluster: self,
            flags: GlobalFlags {
                // kube-rs reads KUBECONFIG from the process, which tests share: pass the file.
                kubeconfig: Some(self.sim.kubeconfig.clone()),
                yes: true,
                quiet: true,
                ..GlobalFlags::default()
            },
            env: self.sim.docs_env(0),
        }
    }

    /// The simulator's state, for assertions on what really happened.
    pub fn world<T>(&self, f: impl FnOnce(&World) -> T) -> T {
        f(&self.sim.world().lock())
    }

    pub fn lose(&self, region: RegionId) {
        self.sim.lose_region(region);
    }
}

/// Builds a [`Session`] from flags and environment, as the binaries do.
pub struct SessionBuilder<'a> {
    cluster: &'a Cluster,
    flags: GlobalFlags,
    env: Vec<(String, String)>,
}

impl SessionBuilder<'_> {
    /// The docs' variables with `surviving` as the surviving region.
    pub fn surviving(mut self, surviving: RegionId) -> Self {
        self.env = self.cluster.sim.docs_env(surviving);
        self
    }
    /// `--region` (`surviving`, `recreated`, `region0`, `region1`).
    pub fn region(mut self, region: &str) -> Self {
        self.flags.region = Some(region.into());
        self
    }
    pub fn timeout(mut self, t: &str) -> Self {
        self.flags.timeout = Some(t.into());
        self
    }
    pub fn dry_run(mut self) -> Self {
        self.flags.dry_run = true;
        self
    }
    /// `--dry-run=server`: the topology changes also ask the gateway's own dry run.
    pub fn server_dry_run(mut self) -> Self {
        self.flags.server_dry_run = true;
        self
    }
    pub fn no_wait(mut self) -> Self {
        self.flags.no_wait = true;
        self
    }
    /// Without `--yes` (and without a terminal: a mutation must then refuse).
    pub fn without_yes(mut self) -> Self {
        self.flags.yes = false;
        self
    }
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
        self
    }
    pub fn without_env(mut self, key: &str) -> Self {
        self.env.retain(|(k, _)| k != key);
        self
    }
    /// Any other flag.
    pub fn flags(mut self, f: impl FnOnce(&mut GlobalFlags)) -> Self {
        f(&mut self.flags);
        self
    }
    pub fn build(self) -> Session {
        let (settings, ui) = self
            .flags
            .resolve(Env::from_pairs(self.env))
            .expect("valid flags");
        Session::new(settings, ui)
    }
    /// The flags' validation result, for bad-input tests.
    pub fn try_build(self) -> c8dr_common::Result<Session> {
        let (settings, ui) = self.flags.resolve(Env::from_pairs(self.env))?;
        Ok(Session::new(settings, ui))
    }
}
