//! `preflight`: a fire drill on a healthy installation. It checks, with reads only, everything a
//! failover and a failback will need, and reports one line per check (ok, or the problem and its
//! fix):
//!
//! - `context`: each region's kube context reaches its API server; `distinct`: the two regions
//!   are two clusters ([`crate::location::check_distinct`], docs/contract.md §4 rule 2b);
//! - `permissions`: every permission of the README's RBAC table
//!   ([`crate::kube::rbac::PERMISSIONS`]), asked as `kubectl auth can-i` asks
//!   (SelfSubjectAccessReview);
//! - `rest-credentials`: `/v2/topology` accepts the `CAMUNDA_CLIENT_AUTH_*` credentials;
//! - `management`: the gateway's `/actuator/cluster` and every broker pod's port 9600;
//! - `search-engine`: Elasticsearch/OpenSearch through `kubectl exec` with its credentials;
//! - `snapshot-repository`: registered and `_verify` passing, or registrable as `es copy` would
//!   register it;
//! - `helm`: present, a supported version, both contexts in the kubeconfig;
//! - `release`: both regions on one supported Camunda release and chart (the release detection
//!   every mutating command passes, [`Session::release`]);
//! - `exporters`: both regions' exporters enabled.
//!
//! Each check is bounded by `--timeout` (at most [`CHECK_LIMIT`]), so a lost region makes its
//! checks fail instead of hanging the command.

pub mod report;

use std::future::Future;
use std::time::Duration;

pub use report::{Check, CheckResult, PreflightReport};

use super::status::{RegionTarget, region_targets};
use crate::error::{Error, Result};
use crate::es::{EsAccess, EsOptions, RepoFlags, RepoSpec};
use crate::kube::rbac::{PERMISSIONS, Permission};
use crate::region::RegionId;
use crate::session::Session;

/// The longest any one check may take (a shorter `--timeout` wins).
pub const CHECK_LIMIT: Duration = Duration::from_secs(30);

/// The order of the report's lines (each region-specific check: region0, then region1).
const ORDER: [&str; 10] = [
    "context",
    "distinct",
    "permissions",
    "rest-credentials",
    "management",
    "search-engine",
    "snapshot-repository",
    "helm",
    "release",
    "exporters",
];

/// The checks of one region that need its Kubernetes API.
const REGION_CHECKS: [&str; 5] = [
    "permissions",
    "rest-credentials",
    "management",
    "search-engine",
    "snapshot-repository",
];

/// What `preflight` takes besides the global flags: the repository `es copy` would register and
/// how to reach the search engine (as every `es` command).
#[derive(Debug, Clone, Default)]
pub struct PreflightArgs {
    pub repo: RepoFlags,
    pub es: EsAccess,
}

const FIX_REST: &str = "set CAMUNDA_CLIENT_AUTH_METHOD=basic with CAMUNDA_CLIENT_AUTH_USERNAME and \
     CAMUNDA_CLIENT_AUTH_PASSWORD (or oidc with _CLIENT_ID, _CLIENT_SECRET, _TOKEN_URL, _AUDIENCE) \
     for a user the v2 REST API accepts: brokers remove and failover need /v2/topology as evidence";

/// `fut`, or a timeout error naming `what` after `limit`.
async fn bounded<T>(
    what: &str,
    limit: Duration,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    tokio::time::timeout(limit, fut)
        .await
        .map_err(|_| Error::Timeout {
            what: what.to_string(),
            after: humantime::format_duration(limit).to_string(),
        })?
}

/// Run every check (reads only) and report.
pub async fn preflight(session: &Session, args: &PreflightArgs) -> Result<PreflightReport> {
    // Bad input is exit 2 before any call (docs/contract.md §4 rule 8): the search engine's
    // and the repository's flags, and a context the command names.
    args.es.validate(&session.settings.env)?;
    let spec = repository_spec(session, &args.repo)?;
    if session.settings.location.context.is_some() {
        session.kube().await?;
    }
    let limit = session.settings.timeout.min(CHECK_LIMIT);
    let (targets, _) = region_targets(session);
    let regions = futures_util::future::join_all(
        targets.iter().map(|t| region_checks(t, args, &spec, limit)),
    );
    let release = async {
        match tokio::time::timeout(limit, session.release()).await {
            Ok(j) => report::release(j),
            Err(_) => Check::problem(
                "release",
                None,
                format!(
                    "reading the installation took longer than {}",
                    humantime::format_duration(limit)
                ),
                "make both regions reachable",
            ),
        }
    };
    let (regions, helm, release, exporters) = tokio::join!(
        regions,
        helm_check(session, &targets, limit),
        release,
        exporters_check(&targets, limit)
    );
    let mut checks: Vec<Check> = regions.into_iter().flatten().collect();
    checks.push(distinct_check(session, &targets));
    checks.extend([helm, release, exporters]);
    let rank = |c: &Check| {
        ORDER
            .iter()
            .position(|o| *o == c.check)
            .unwrap_or(ORDER.len())
    };
    checks.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.region.cmp(&b.region)));
    Ok(PreflightReport::of(checks))
}

/// Every check of one region: its context first; when the API server does not answer, the
/// region's other checks are problems without being tried.
async fn region_checks(
    t: &RegionTarget,
    args: &PreflightArgs,
    spec: &std::result::Result<RepoSpec, String>,
    limit: Duration,
) -> Vec<Check> {
    let id = t.id;
    let session = match &t.session {
        Ok(s) => s,
        Err(e) => {
            let context = Check::problem(
                "context",
                Some(id),
                format!("not configured: {e}"),
                format!(
                    "set CLUSTER_{n} and CAMUNDA_NAMESPACE_{n} (or the *_SURVIVING/*_RECREATED \
                     variables) to this region's kube context and namespace",
                    n = id.index()
                ),
            );
            return unreached(context, "the region is not configured");
        }
    };
    let s = &session.settings;
    let context = s.location.context.as_deref().unwrap_or("<current>");
    let reached = bounded("the Kubernetes API", limit, async {
        let kube = session.kube().await?;
        let version = kube.server_version().await?;
        Ok((kube, version))
    })
    .await;
    let (kube, version) = match reached {
        Ok(k) => k,
        Err(e) => {
            let context = Check::problem(
                "context",
                Some(id),
                format!("context {context}: {e}"),
                "check the context (kubectl --context CONTEXT version), the VPN, and the region's API server",
            );
            return unreached(context, "the region's Kubernetes API did not answer");
        }
    };
    let context_ok = Check::ok(
        "context",
        Some(id),
        format!(
            "context {} reaches its API server ({}); namespace {}",
            kube.context(),
            version
                .chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>(),
            kube.namespace()
        ),
    );
    let (permissions, rest, management, es) = tokio::join!(
        permissions_check(kube, id, limit),
        rest_check(session, id, limit),
        management_check(session, id, limit),
        es_checks(session, id, args, spec, limit),
    );
    let mut out = vec![context_ok, permissions, rest, management];
    out.extend(es);
    out
}

/// A region whose API server cannot be used: its context problem, and each of its other checks
/// a problem without being tried (`why`).
fn unreached(context: Check, why: &str) -> Vec<Check> {
    let region = context.region.clone();
    let mut out = vec![context];
    out.extend(REGION_CHECKS.into_iter().map(|c| Check {
        region: region.clone(),
        ..Check::problem(
            c,
            None,
            format!("not checked: {why}"),
            "see the context check of this region",
        )
    }));
    out
}

async fn permissions_check(
    kube: &crate::kube::RegionClient,
    id: RegionId,
    limit: Duration,
) -> Check {
    let asked = futures_util::future::join_all(
        PERMISSIONS
            .iter()
            .map(|p| async move { (p, bounded("the access review", limit, kube.can_i(p)).await) }),
    )
    .await;
    let mut denied: Vec<Permission> = vec![];
    for (p, answer) in asked {
        match answer {
            Ok(true) => {}
            Ok(false) => denied.push(*p),
            Err(e) => {
                return Check::problem(
                    "permissions",
                    Some(id),
                    format!("cannot ask the API server whether it may {p}: {e}"),
                    "every authenticated user may create SelfSubjectAccessReviews by default (the \
                     system:basic-user ClusterRole): check the context's credentials",
                );
            }
        }
    }
    report::permissions(id, kube.namespace(), PERMISSIONS.len(), &denied)
}

async fn rest_check(session: &Session, id: RegionId, limit: Duration) -> Check {
    let read = bounded("the v2 REST API", limit, async {
        session.rest().await?.topology().await
    })
    .await;
    match read {
        Ok(t) => Check::ok(
            "rest-credentials",
            Some(id),
            format!(
                "/v2/topology accepted the credentials ({} brokers listed)",
                t.brokers.len()
            ),
        ),
        Err(
            e @ Error::Api {
                status: 401 | 403, ..
            },
        ) => Check::problem(
            "rest-credentials",
            Some(id),
            format!("the v2 REST API refused the credentials: {e}"),
            FIX_REST,
        ),
        Err(e) => Check::problem(
            "rest-credentials",
            Some(id),
            format!("cannot read /v2/topology: {e}"),
            "check that the gateway's port 8080 answers (kubectl c8dr topology -v); the credentials \
             come from CAMUNDA_CLIENT_AUTH_*",
        ),
    }
}

async fn management_check(session: &Session, id: RegionId, limit: Duration) -> Check {
    let fix = "check the gateway Service and the broker pods' port 9600 (kubectl c8dr status)";
    let gateway = bounded("the Zeebe gateway", limit, async {
        session.management().await?.cluster().await
    })
    .await;
    if let Err(e) = gateway {
        return Check::problem(
            "management",
            Some(id),
            format!("the gateway's /actuator/cluster: {e}"),
            fix,
        );
    }
    let brokers =
        match tokio::time::timeout(limit, crate::commands::pause_state::observe_region(session))
            .await
        {
            Ok(b) => b,
            Err(_) => {
                return Check::problem(
                    "management",
                    Some(id),
                    format!(
                        "the broker pods did not answer within {}",
                        humantime::format_duration(limit)
                    ),
                    fix,
                );
            }
        };
    if let Some(e) = &brokers.error {
        return Check::problem("management", Some(id), format!("the broker pods: {e}"), fix);
    }
    let failed: Vec<String> = brokers
        .brokers
        .iter()
        .filter_map(|b| b.error.as_ref().map(|e| format!("{}: {e}", b.pod)))
        .collect();
    if brokers.brokers.is_empty() {
        return Check::problem(
            "management",
            Some(id),
            "no broker pod of the release in this namespace",
            "check --release/CAMUNDA_RELEASE_NAME and the namespace",
        );
    }
    if !failed.is_empty() {
        return Check::problem(
            "management",
            Some(id),
            format!(
                "broker management port 9600 unreachable: {}",
                failed.join("; ")
            ),
            fix,
        );
    }
    Check::ok(
        "management",
        Some(id),
        format!(
            "the gateway's /actuator/cluster and port 9600 of all {} broker pods answer",
            brokers.brokers.len()
        ),
    )
}

/// The search engine, then its snapshot repository through the same connection.
async fn es_checks(
    session: &Session,
    id: RegionId,
    args: &PreflightArgs,
    spec: &std::result::Result<RepoSpec, String>,
    limit: Duration,
) -> [Check; 2] {
    let opts = EsOptions {
        retries: 1,
        ..args.es.options(session)
    };
    let connected = bounded("the search engine", limit, async {
        let conn = crate::es::connect(session, &args.es).await?;
        let status = crate::es::cluster_status(conn.transport.as_ref(), &opts).await?;
        Ok((conn, status))
    })
    .await;
    let how = if session.settings.es_url.is_some() {
        "through --es-url"
    } else {
        "through kubectl exec"
    };
    let (conn, status) = match connected {
        Ok(c) => c,
        Err(e) => {
            return [
                Check::problem(
                    "search-engine",
                    Some(id),
                    format!("{how}: {e}"),
                    "check the Elasticsearch pod and its credentials (the chart's Secret, or \
                     --es-user/--es-password-env): kubectl c8dr es status",
                ),
                Check::problem(
                    "snapshot-repository",
                    Some(id),
                    "not checked: the search engine did not answer",
                    "see the search-engine check of this region",
                ),
            ];
        }
    };
    let es = report::search_engine(id, how, conn.secured, &status);
    let repo = bounded(
        "the snapshot repository",
        limit,
        repository_check(id, spec, conn.transport.as_ref(), &opts),
    )
    .await
    .unwrap_or_else(|e| {
        Check::problem(
            "snapshot-repository",
            Some(id),
            e.to_string(),
            "kubectl c8dr es repo show",
        )
    });
    [es, repo]
}

/// The registration `es copy` would make, checked before any call: a bad repository flag or
/// `S3_BUCKET_NAME` is exit 2; no bucket at all is left to the check to report (`Err` with why),
/// the other flags checked with a stand-in bucket.
fn repository_spec(
    session: &Session,
    repo: &RepoFlags,
) -> Result<std::result::Result<RepoSpec, String>> {
    let settings = &session.settings;
    match repo.spec(settings) {
        Ok(spec) => Ok(Ok(spec)),
        Err(e) => {
            let kind = repo.kind.as_deref().unwrap_or("s3");
            let bucket_kind = matches!(kind, "s3" | "gcs" | "azure");
            let env_bucket = kind == "s3" && settings.env.get("S3_BUCKET_NAME").is_some();
            if !bucket_kind || repo.bucket.is_some() || env_bucket {
                return Err(e);
            }
            let stand_in = RepoFlags {
                bucket: Some("c8dr-preflight".into()),
                ..repo.clone()
            };
            stand_in.spec(settings)?;
            Ok(Err(e.to_string()))
        }
    }
}

async fn repository_check(
    id: RegionId,
    spec: &std::result::Result<RepoSpec, String>,
    t: &dyn crate::es::EsTransport,
    opts: &EsOptions,
) -> Result<Check> {
    let repo = &opts.repository;
    let problem = |detail: String, fix: &str| {
        Check::problem("snapshot-repository", Some(id), detail, fix.to_string())
    };
    match crate::es::repo_show(t, opts).await {
        Ok(registered) => {
            // es copy uses a registration as it is or refuses it (docs/contract.md §4 rule 12).
            if let Ok(spec) = spec
                && let Err(e) = crate::es::repo::repo_check(t, opts, spec).await
            {
                return Ok(problem(
                    e.to_string(),
                    "give preflight (and es copy) the repository flags that match the registration",
                ));
            }
            Ok(match crate::es::repo_verify(t, opts).await {
                Ok(nodes) => Check::ok(
                    "snapshot-repository",
                    Some(id),
                    format!(
                        "{repo} registered ({}), _verify passed on {} nodes",
                        registered.kind,
                        nodes.len()
                    ),
                ),
                Err(e) => problem(
                    e.to_string(),
                    "fix the repository's access on every node (keystore credentials, path.repo), then \
                 kubectl c8dr es repo show",
                ),
            })
        }
        Err(Error::Failed(m)) if m.contains("is not registered") => {
            let spec = match spec {
                Ok(spec) => spec,
                Err(e) => {
                    return Ok(problem(
                        format!("{repo} is not registered, and es copy could not register it: {e}"),
                        "set S3_BUCKET_NAME (or pass --bucket, or --repo-type fs --location DIR)",
                    ));
                }
            };
            crate::es::repo::repo_check(t, opts, spec).await?;
            let target = ["bucket", "location", "container"]
                .iter()
                .find_map(|k| spec.settings.get(*k).and_then(|v| v.as_str()))
                .unwrap_or_default();
            Ok(Check::ok(
                "snapshot-repository",
                Some(id),
                format!(
                    "{repo} not registered yet; es copy registers it ({} {target}) and verifies it",
                    spec.kind
                ),
            ))
        }
        Err(e) => Err(e),
    }
}

/// The two regions are two clusters: the rule every command applies before any call.
fn distinct_check(session: &Session, targets: &[RegionTarget]) -> Check {
    let located: Vec<_> = targets
        .iter()
        .filter_map(|t| t.session.as_ref().ok())
        .map(|s| s.settings.location.clone())
        .collect();
    if located.len() < 2 {
        return Check::problem(
            "distinct",
            None,
            "cannot compare: a region is not configured",
            "see the context checks",
        );
    }
    let s = &session.settings;
    match crate::location::check_distinct(&located, s.kubeconfig.as_deref(), &s.env) {
        Ok(()) => {
            let shown: Vec<String> = targets
                .iter()
                .filter_map(|t| t.session.as_ref().ok().map(|s| (t.id, s)))
                .map(|(id, s)| {
                    let l = &s.settings.location;
                    format!(
                        "{id} {}/{}",
                        l.context.as_deref().unwrap_or("<current>"),
                        l.namespace.as_deref().unwrap_or("<current>")
                    )
                })
                .collect();
            Check::ok(
                "distinct",
                None,
                format!("two clusters: {}", shown.join(", ")),
            )
        }
        Err(e) => Check::problem(
            "distinct",
            None,
            e.to_string(),
            "point each region's variables (CLUSTER_0/1, CLUSTER_SURVIVING/RECREATED) at its own \
             cluster's context",
        ),
    }
}

/// helm present, supported, and the contexts it will be given known to the kubeconfig.
async fn helm_check(session: &Session, targets: &[RegionTarget], limit: Duration) -> Check {
    let s = &session.settings;
    let fix = "install helm 3.17 or later (or helm 4), or point HELM_BIN at it";
    let Some(bin) = crate::helm::binary::locate(&s.env) else {
        return Check::problem("helm", None, "helm not found on PATH (nor HELM_BIN)", fix);
    };
    let version = match crate::helm::binary::version(&bin, limit).await {
        Ok(v) => v,
        Err(e) => return Check::problem("helm", None, e.to_string(), fix),
    };
    if let Some(why) = crate::helm::binary::unsupported(version) {
        return Check::problem("helm", None, why, fix);
    }
    let loaded = match crate::kube::kubeconfig::Loaded::read(s.kubeconfig.as_deref(), &s.env) {
        Ok(l) => l,
        Err(e) => return Check::problem("helm", None, e.to_string(), "fix the kubeconfig"),
    };
    let mut contexts = vec![];
    for t in targets {
        let Ok(session) = &t.session else { continue };
        let context = session
            .settings
            .location
            .context
            .clone()
            .or_else(|| loaded.current_context().map(String::from));
        match context {
            Some(c) if loaded.has_context(&c) => contexts.push(c),
            Some(c) => {
                return Check::problem(
                    "helm",
                    None,
                    format!(
                        "the kubeconfig has no context {} ({}): helm c8dr redeploy passes it as --kube-context",
                        crate::error::shown(&c),
                        t.id
                    ),
                    "add the context to the kubeconfig helm reads (KUBECONFIG)",
                );
            }
            None => {
                return Check::problem(
                    "helm",
                    None,
                    format!("no context for {} and no current context", t.id),
                    "set CLUSTER_0/CLUSTER_1 to the regions' contexts",
                );
            }
        }
    }
    let (major, minor, patch) = version;
    Check::ok(
        "helm",
        None,
        format!(
            "{bin} v{major}.{minor}.{patch}; contexts {} known",
            contexts.join(", ")
        ),
    )
}

/// Both regions' exporters, from the first gateway that answers.
async fn exporters_check(targets: &[RegionTarget], limit: Duration) -> Check {
    let mut last = String::from("no region is configured");
    for t in targets {
        let Ok(session) = &t.session else { continue };
        let read = bounded("the Zeebe gateway", limit, async {
            session.management().await?.exporters().await
        })
        .await;
        match read {
            Ok(exporters) => return report::exporters(&exporters),
            Err(e) => last = format!("{}: {e}", t.id),
        }
    }
    Check::problem(
        "exporters",
        None,
        format!("no gateway answered: {last}"),
        "see the management checks",
    )
}
