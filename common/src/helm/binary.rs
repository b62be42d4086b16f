//! The helm binary itself: which version it is (`helm version --template '{{.Version}}'`, which
//! reaches no cluster) and whether c8dr supports it. Supported: Helm 3 from 3.17 (the oldest the
//! real-stack tier runs, README "Real-stack tier") and Helm 4.

use std::time::Duration;

use crate::config::Env;
use crate::error::{Error, Result};

/// The oldest Helm c8dr runs: (major, minor).
pub const OLDEST: (u32, u32) = (3, 17);
/// The newest major c8dr runs.
pub const NEWEST_MAJOR: u32 = 4;

/// `vMAJOR.MINOR.PATCH` out of helm's answer: the template form (`v3.17.4`) or the default
/// `version.BuildInfo{Version:"v3.17.4", …}`.
pub fn parse_version(output: &str) -> Option<(u32, u32, u32)> {
    let text = output.trim();
    let raw = match text.find("Version:\"") {
        Some(i) => text[i + "Version:\"".len()..].split('"').next()?,
        None => text.lines().next()?.trim(),
    };
    let raw = raw.strip_prefix('v').unwrap_or(raw);
    let core = raw.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    parts.next().is_none().then_some((major, minor, patch))
}

/// Why c8dr does not run with Helm `version`, `None` when it does.
pub fn unsupported(version: (u32, u32, u32)) -> Option<String> {
    let (major, minor, patch) = version;
    let shown = format!("v{major}.{minor}.{patch}");
    if (major, minor) < OLDEST {
        return Some(format!(
            "helm {shown} is older than the oldest supported ({}.{}): upgrade helm",
            OLDEST.0, OLDEST.1
        ));
    }
    if major > NEWEST_MAJOR {
        return Some(format!(
            "helm {shown} is newer than the newest supported major ({NEWEST_MAJOR}.x)"
        ));
    }
    None
}

/// Run `BIN version --template {{.Version}}` (bounded by `limit`): the version, or why not.
pub async fn version(bin: &str, limit: Duration) -> Result<(u32, u32, u32)> {
    let run = tokio::process::Command::new(bin)
        .args(["version", "--template", "{{.Version}}"])
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(limit, run)
        .await
        .map_err(|_| Error::Timeout {
            what: format!("{bin} version"),
            after: humantime::format_duration(limit).to_string(),
        })?
        .map_err(|e| Error::failed(format!("cannot run {bin}: {e}")))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(Error::failed(format!(
            "{bin} version failed ({}): {}",
            out.status,
            crate::error::bound_message(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    parse_version(&stdout).ok_or_else(|| {
        Error::failed(format!(
            "{bin} version answered {}: not a helm version",
            crate::error::shown(stdout.trim())
        ))
    })
}

/// Where helm is, as `helm c8dr redeploy` finds it (`HELM_BIN`, else `helm` on PATH).
pub fn locate(env: &Env) -> Option<String> {
    super::plan::helm_bin(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helm_versions_are_read_in_both_forms() {
        assert_eq!(parse_version("v3.17.4"), Some((3, 17, 4)));
        assert_eq!(parse_version("v4.3.1\n"), Some((4, 3, 1)));
        assert_eq!(
            parse_version(
                "version.BuildInfo{Version:\"v3.18.0\", GitCommit:\"x\", GoVersion:\"go1.24\"}"
            ),
            Some((3, 18, 0))
        );
        assert_eq!(parse_version("v3.19.0-rc.1"), Some((3, 19, 0)));
        assert_eq!(parse_version("not helm"), None);
        assert_eq!(parse_version("v3.1"), None);
    }

    #[test]
    fn helm_3_17_and_later_and_helm_4_are_supported() {
        assert_eq!(unsupported((3, 17, 4)), None);
        assert_eq!(unsupported((3, 22, 0)), None);
        assert_eq!(unsupported((4, 3, 1)), None);
        assert!(unsupported((3, 16, 0)).is_some_and(|m| m.contains("older")));
        assert!(unsupported((2, 17, 0)).is_some());
        assert!(unsupported((5, 0, 0)).is_some_and(|m| m.contains("newer")));
    }
}
