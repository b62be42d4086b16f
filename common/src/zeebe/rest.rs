//! The v2 REST API client (port 8080): `GET /v2/topology`, which needs authentication
//! (basic, or an OIDC client-credentials token), and 8.10's coordinated leader rebalance
//! (`/cluster/v2/rebalance`).

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::model::Topology;
use crate::config::Env;
use crate::error::{Error, Result};
use crate::http::{Auth, JsonClient, parse_base_url};

pub const SERVICE: &str = "Camunda v2 REST API";

/// The credential variables of the docs' `CAMUNDA_CLIENT_AUTH_*` set.
pub const CREDENTIAL_VARS: [&str; 6] = [
    "CAMUNDA_CLIENT_AUTH_USERNAME",
    "CAMUNDA_CLIENT_AUTH_PASSWORD",
    "CAMUNDA_CLIENT_AUTH_CLIENT_ID",
    "CAMUNDA_CLIENT_AUTH_CLIENT_SECRET",
    "CAMUNDA_CLIENT_AUTH_TOKEN_URL",
    "CAMUNDA_CLIENT_AUTH_AUDIENCE",
];

/// How to authenticate against the REST API, from the docs' `CAMUNDA_CLIENT_AUTH_*` variables.
#[derive(Clone, Default)]
pub enum RestAuth {
    #[default]
    None,
    Basic {
        username: String,
        password: String,
    },
    Oidc {
        client_id: String,
        client_secret: String,
        token_url: String,
        audience: Option<String>,
    },
}

impl std::fmt::Debug for RestAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::None => f.write_str("none"),
            Self::Basic { username, .. } => write!(f, "basic ({username})"),
            Self::Oidc {
                client_id,
                token_url,
                ..
            } => write!(f, "oidc ({client_id} via {token_url})"),
        }
    }
}

impl RestAuth {
    /// Read the auth method and credentials from the environment.
    pub fn from_env(env: &Env) -> Result<Self> {
        let need = |k: &str| {
            env.get(k).map(String::from).ok_or_else(|| {
                Error::usage(format!("{k} is required by CAMUNDA_CLIENT_AUTH_METHOD"))
            })
        };
        match env
            .get("CAMUNDA_CLIENT_AUTH_METHOD")
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => {
                // Credentials without a method are half-set: say so rather than send none.
                let set: Vec<&str> = CREDENTIAL_VARS
                    .iter()
                    .copied()
                    .filter(|k| env.get(k).is_some())
                    .collect();
                if set.is_empty() {
                    Ok(Self::None)
                } else {
                    Err(Error::usage(format!(
                        "{} set but CAMUNDA_CLIENT_AUTH_METHOD is not: set it to basic or oidc",
                        set.join(", ")
                    )))
                }
            }
            Some("none") => Ok(Self::None),
            Some("basic") => Ok(Self::Basic {
                username: need("CAMUNDA_CLIENT_AUTH_USERNAME")?,
                password: need("CAMUNDA_CLIENT_AUTH_PASSWORD")?,
            }),
            Some("oidc") => Ok(Self::Oidc {
                client_id: need("CAMUNDA_CLIENT_AUTH_CLIENT_ID")?,
                client_secret: need("CAMUNDA_CLIENT_AUTH_CLIENT_SECRET")?,
                token_url: need("CAMUNDA_CLIENT_AUTH_TOKEN_URL").and_then(|u| {
                    // Checked here, before any call, not when the first token is fetched.
                    parse_base_url("CAMUNDA_CLIENT_AUTH_TOKEN_URL", &u)?;
                    Ok(u)
                })?,
                audience: env.get("CAMUNDA_CLIENT_AUTH_AUDIENCE").map(String::from),
            }),
            Some(other) => Err(Error::usage(format!(
                "CAMUNDA_CLIENT_AUTH_METHOD={other}: expected basic or oidc (or unset it when /v2/topology needs no credentials)"
            ))),
        }
    }

    pub fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

/// What to do when this API refuses a request: 401 without credentials (set them, as the docs
/// do), 401 with credentials (they were rejected), 403 (the user may not do this).
pub fn refusal_hint(status: u16, no_credentials: bool) -> Option<&'static str> {
    match (status, no_credentials) {
        (401, true) => Some(
            "it needs credentials and none are set: export CAMUNDA_CLIENT_AUTH_METHOD=basic, \
             CAMUNDA_CLIENT_AUTH_USERNAME and CAMUNDA_CLIENT_AUTH_PASSWORD (or \
             CAMUNDA_CLIENT_AUTH_METHOD=oidc with CAMUNDA_CLIENT_AUTH_CLIENT_ID, \
             CAMUNDA_CLIENT_AUTH_CLIENT_SECRET and CAMUNDA_CLIENT_AUTH_TOKEN_URL), as the Camunda \
             docs do",
        ),
        (401, false) => Some(
            "the credentials in CAMUNDA_CLIENT_AUTH_* were rejected; check the username/password \
             (or the OIDC client id, secret and token URL)",
        ),
        (403, _) => Some(
            "the CAMUNDA_CLIENT_AUTH_* user may not do this; use a user or client with access to \
             the orchestration cluster API",
        ),
        _ => None,
    }
}

#[derive(Debug, Clone)]
pub struct RestClient {
    http: JsonClient,
    auth: RestAuth,
    timeout: Duration,
    zones: Option<super::zones::ZoneMap>,
}

/// Hide the client secret (by value) and anything secret-looking (URL userinfo, `secret=…`,
/// bearer tokens) in a text that came back from the token endpoint or the HTTP stack: some IdPs
/// echo the request in their error, and transport errors name the URL (docs/contract.md §4 rule 6).
fn scrub(text: &str, secret: &str) -> String {
    let text = crate::values::redact_text(text);
    if secret.len() >= crate::values::MIN_SECRET_LEN {
        text.replace(secret, crate::values::REDACTED)
    } else {
        text
    }
}

/// The operator-facing message of a failed token request: the OAuth `error` code and its
/// `error_description` (RFC 6749 §5.2), scrubbed.
fn token_error_message(body: &Value, secret: &str) -> String {
    let code = body.get("error").and_then(Value::as_str);
    let description = body.get("error_description").and_then(Value::as_str);
    let text = match (code, description) {
        (Some(c), Some(d)) => format!("{c}: {d}"),
        (Some(c), None) => c.to_string(),
        (None, Some(d)) => d.to_string(),
        (None, None) => "no access_token in the answer".to_string(),
    };
    scrub(&text, secret)
}

impl RestClient {
    pub fn new(http: JsonClient, auth: RestAuth, timeout: Duration) -> Self {
        Self {
            http,
            auth,
            timeout,
            zones: None,
        }
    }

    async fn bearer(
        &self,
        client_id: &str,
        secret: &str,
        token_url: &str,
        audience: Option<&str>,
    ) -> Result<String> {
        let url = parse_base_url("CAMUNDA_CLIENT_AUTH_TOKEN_URL", token_url)?;
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .build()
            .map_err(|e| Error::failed(e.to_string()))?;
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ];
        if let Some(a) = audience {
            form.push(("audience", a));
        }
        let resp = http
            .post(url.clone())
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                Error::unreachable(
                    format!(
                        "OIDC token endpoint {}",
                        scrub(&url.origin().ascii_serialization(), secret)
                    ),
                    scrub(&e.to_string(), secret),
                )
            })?;
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        match body.get("access_token").and_then(Value::as_str) {
            Some(t) if status == 200 => Ok(t.to_string()),
            _ => Err(Error::Api {
                service: "OIDC token endpoint",
                status,
                message: token_error_message(&body, secret),
            }),
        }
    }

    /// The client of a zone-aware cluster (zone ids are translated at the wire).
    pub fn with_zones(mut self, zones: Option<super::zones::ZoneMap>) -> Self {
        self.zones = zones;
        self
    }

    pub async fn topology(&self) -> Result<Topology> {
        let body = self.topology_document().await?;
        super::management::decode_with(self.zones.as_ref(), "/v2/topology", body)
    }

    /// Run `op` (calls of this client) within `limit`, as [`JsonClient::bounded`].
    pub async fn bounded<T>(
        &self,
        limit: Duration,
        what: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        self.http.bounded(limit, what, op).await
    }

    /// `GET /v2/topology` as the gateway sent it: what the releases add (8.10's string
    /// `brokerId`, zone-aware ids) is read from here before it is parsed as numbers.
    pub async fn topology_document(&self) -> Result<serde_json::Value> {
        Ok(self.send(Method::GET, "/v2/topology", None).await?.body)
    }

    /// One request with this API's credentials; a refusal (401/403) says what to do about it,
    /// in every command ([`refusal_hint`]).
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<crate::http::Answer> {
        let answer = self
            .authenticated()
            .await?
            .expect_ok(method, path, &[], body)
            .await;
        answer.map_err(|e| match e {
            Error::Api {
                service,
                status,
                message,
            } => Error::Api {
                service,
                status,
                message: match refusal_hint(status, self.auth.is_none()) {
                    Some(hint) => format!("{message}: {hint}"),
                    None => message,
                },
            },
            other => other,
        })
    }

    /// The HTTP client with this API's credentials (a fresh token for OIDC).
    async fn authenticated(&self) -> Result<JsonClient> {
        Ok(match &self.auth {
            RestAuth::None => self.http.clone(),
            RestAuth::Basic { username, password } => self.http.clone().with_auth(Auth::Basic {
                username: username.clone(),
                password: password.clone(),
            }),
            RestAuth::Oidc {
                client_id,
                client_secret,
                token_url,
                audience,
            } => {
                let token = self
                    .bearer(client_id, client_secret, token_url, audience.as_deref())
                    .await?;
                self.http.clone().with_auth(Auth::Bearer(token))
            }
        })
    }

    /// `GET /cluster/v2/rebalance` (8.10): the leadership balance now.
    pub async fn balance(&self) -> Result<Balance> {
        decode_balance(self.send(Method::GET, REBALANCE_PATH, None).await?.body)
    }

    /// `POST /cluster/v2/rebalance` (8.10); `dry_run`: the gateway's plan only, nothing moves.
    /// The spec puts `dryRun` in the JSON body (`ClusterRebalanceRequest`), not in the query.
    /// A real rebalance is sent once (the client never retries a POST).
    pub async fn rebalance(&self, dry_run: bool) -> Result<Balance> {
        let body = serde_json::json!({ "dryRun": dry_run });
        decode_balance(
            self.send(Method::POST, REBALANCE_PATH, Some(&body))
                .await?
                .body,
        )
    }
}

/// 8.10's coordinated rebalance (camunda/camunda
/// `zeebe/gateway-protocol/src/main/proto/v2/cluster-admin.yaml`, `x-added-in-version: "8.10"`,
/// behind the cluster-admin credentials).
pub const REBALANCE_PATH: &str = "/cluster/v2/rebalance";

fn decode_balance(body: Value) -> Result<Balance> {
    serde_json::from_value(body)
        .map_err(|e| Error::failed(format!("unexpected {REBALANCE_PATH} response: {e}")))
}

/// `ClusterBalanceResponse`: `state` is `BALANCED | BALANCING | UNBALANCED`.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Balance {
    pub state: String,
    #[serde(default)]
    pub partitions: Vec<BalancePartition>,
    #[serde(default)]
    pub running_rebalance: Option<RebalanceRun>,
    #[serde(default)]
    pub last_completed_rebalance: Option<RebalanceRun>,
}

/// `ClusterRebalancePartition`: broker ids are strings in this API.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BalancePartition {
    pub partition_id: u32,
    #[serde(default)]
    pub current_leader: Option<String>,
    #[serde(default)]
    pub desired_leader: Option<String>,
    #[serde(default)]
    pub state: String,
}

/// `ClusterRunningRebalance` / `ClusterCompletedRebalance` (the fields c8dr reads).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebalanceRun {
    #[serde(default)]
    pub rebalance_id: i64,
    #[serde(default)]
    pub partitions: Vec<RebalanceStep>,
    #[serde(default)]
    pub dry_run: Option<bool>,
    /// `COMPLETED | CANCELLED | FAILED`, on a completed rebalance.
    #[serde(default)]
    pub result: Option<String>,
}

/// `ClusterRebalanceOperationPartition`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RebalanceStep {
    pub partition_id: u32,
    #[serde(default)]
    pub current_leader: Option<String>,
    #[serde(default)]
    pub desired_leader: Option<String>,
    /// `PENDING | TRANSFERRING | COMPLETED`.
    #[serde(default)]
    pub progress: String,
    /// The terminal outcome once `COMPLETED` (`TRANSFERRED`, `ALREADY_LEADER`, `UNREACHABLE`, …).
    #[serde(default)]
    pub result: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_method_or_half_set_credentials_are_bad_input() {
        let err = |pairs: &[(&str, &str)]| {
            RestAuth::from_env(&Env::from_pairs(pairs.iter().copied()))
                .err()
                .map(|e| (e.exit_code(), e.to_string()))
        };
        let (code, msg) = err(&[("CAMUNDA_CLIENT_AUTH_METHOD", "foo")]).unwrap_or_default();
        assert_eq!(code, 2);
        assert!(msg.contains("CAMUNDA_CLIENT_AUTH_METHOD=foo"), "{msg}");
        let (code, msg) = err(&[
            ("CAMUNDA_CLIENT_AUTH_METHOD", "basic"),
            ("CAMUNDA_CLIENT_AUTH_USERNAME", "demo"),
        ])
        .unwrap_or_default();
        assert_eq!(code, 2);
        assert!(msg.contains("CAMUNDA_CLIENT_AUTH_PASSWORD"), "{msg}");
        let (code, msg) = err(&[("CAMUNDA_CLIENT_AUTH_PASSWORD", "x")]).unwrap_or_default();
        assert_eq!(code, 2);
        assert!(msg.contains("CAMUNDA_CLIENT_AUTH_METHOD is not"), "{msg}");
        assert!(
            RestAuth::from_env(&Env::from_pairs(Vec::<(String, String)>::new()))
                .ok()
                .is_some_and(|a| a.is_none())
        );
    }
}

#[cfg(test)]
mod oidc_error_tests {
    use super::*;

    #[test]
    fn token_errors_never_carry_the_client_secret() {
        let secret = "s3cr3t-client-secret";
        let echoed = serde_json::json!({
            "error": "invalid_client",
            "error_description": format!("client_secret={secret} does not match for client c8dr"),
        });
        let msg = token_error_message(&echoed, secret);
        assert!(msg.contains("invalid_client"), "{msg}");
        assert!(!msg.contains(secret), "{msg}");
        let transport =
            format!("error sending request for url (https://c8dr:{secret}@idp.example/token)");
        assert!(!scrub(&transport, secret).contains(secret));
        // A secret too short to hide by value is still hidden where it is named.
        assert!(
            !token_error_message(
                &serde_json::json!({"error_description": "client_secret=abc"}),
                "abc"
            )
            .contains("=abc")
        );
    }
}
