//! Elasticsearch snapshot and restore (the failback's copy, docs/api-behaviour.md §5), one module per concern:
//!
//! - [`access`]: how a region's Elasticsearch is reached — `--es-url`, or curl exec'd in its
//!   pod; credentials from flags, env or the chart's Secret; the HTTPS probe;
//! - [`transport`]: the [`EsTransport`] trait and direct HTTP; [`exec`]: curl through a
//!   [`PodExec`] (credentials and body on stdin only);
//! - [`client`]: retries of transient failures, error mapping, the wait cadence ([`EsOptions`]);
//! - [`cluster`]: what a cluster holds (engine, health, indices, restore state), reads only;
//! - [`repo`], [`snapshot`], [`restore`], [`copy`]: the operations, each returning a
//!   serialisable report;
//! - [`progress`]: progress of a snapshot or restore for the CLI's bars;
//! - [`model`]: pure logic (index classification, snapshot verdicts, restore planning, progress).

pub mod access;
pub mod client;
pub mod cluster;
pub mod copy;
pub mod exec;
pub mod model;
pub mod precopy;
pub mod progress;
pub mod repo;
pub mod restore;
pub mod snapshot;
pub mod transport;
pub mod tuning;

pub use access::{EsAccess, EsConn, connect};
pub use client::EsOptions;
pub use cluster::{EsStatus, cluster_status, detect};
pub use copy::{
    CopyInFlight, CopyOutcome, CopyPreview, CopyReport, CopySpec, CopyStart, IndexComparison, copy,
    copy_finish, copy_preview, copy_start,
};
pub use exec::{CurlTransport, ExecOutput, PodExec};
pub use model::{Distribution, Engine, Progress, SnapshotInfo, is_camunda_index};
pub use progress::{ProgressFn, ProgressOf, Reading, Tracker, no_progress};
pub use repo::{RepoFlags, RepoReport, RepoSpec, repo_register, repo_show, repo_verify};
pub use restore::{
    RestoreOutcome, RestorePreview, RestoreReport, snapshot_restore, snapshot_restore_preview,
};
pub use snapshot::{
    SnapshotList, SnapshotReport, SnapshotStats, snapshot_create, snapshot_create_calls,
    snapshot_list, snapshot_name, snapshot_show,
};
pub use transport::{BoxFuture, EsCredentials, EsTls, EsTransport, HttpTransport};
