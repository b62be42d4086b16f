//! Elasticsearch snapshot and restore (failback step 4, SPEC 3.5).
//!
//! - [`transport`]: the [`EsTransport`] trait and direct HTTP (`--es-url`);
//! - [`exec`]: curl run in the Elasticsearch pod through a [`PodExec`] (credentials and body on
//!   stdin only);
//! - [`client`]: retries, error mapping, adaptive polling ([`EsOptions`]);
//! - [`model`]: pure logic (index classification, snapshot verdicts, restore planning, progress);
//! - [`ops`]: the operations the CLI calls, each returning a serialisable report.

pub mod client;
pub mod exec;
pub mod model;
pub mod ops;
pub mod transport;

pub use client::{EsOptions, Poller};
pub use exec::{CurlTransport, ExecOutput, PodExec};
pub use model::{Distribution, Engine, Progress, SnapshotInfo, is_camunda_index};
pub use ops::{
    CopyOutcome, CopyPreview, CopyReport, CopySpec, EsStatus, IndexComparison, Phase, ProgressFn,
    RepoReport, RepoSpec, RestoreOutcome, RestorePreview, RestoreReport, SnapshotList,
    SnapshotReport, cluster_status, copy, copy_preview, detect, no_progress, repo_register,
    repo_show, repo_verify, snapshot_create, snapshot_create_calls, snapshot_list, snapshot_name,
    snapshot_restore, snapshot_restore_preview, snapshot_show,
};
pub use transport::{BoxFuture, EsCredentials, EsTls, EsTransport, HttpTransport};
