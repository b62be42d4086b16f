//! Command-line flags. helm strips `--kube-context`, `-n/--namespace`, `--kubeconfig` and
//! `--debug` from a plugin's argv (they arrive as HELM_* variables), so none is defined here.

use std::path::PathBuf;

use c8dr_common::Error;
use c8dr_common::helm::RedeployRequest;
use c8dr_common::output::Format;
use c8dr_common::values::OverlayOptions;
use clap::{Args, Parser, Subcommand};

/// The long help: the helm steps of the failback come from the procedure table (one home for step
/// numbers and commands).
fn long_about() -> String {
    use c8dr_common::procedure::{Fill, Stage, Tool};
    let steps: String = Stage::Failback
        .run_by(Tool::Helm)
        .map(|s| format!("  {}  {}\n", s.number(), s.command(&Fill::default())))
        .collect();
    format!("{LONG_ABOUT_HEAD}\n\nFailback steps:\n{steps}\n{LONG_ABOUT_TAIL}")
}

const ABOUT: &str = "Camunda 8 dual-region failover/failback: helm upgrades per region";

const LONG_ABOUT_HEAD: &str = "\
Camunda 8 dual-region failover/failback: the helm side of the procedure.

`helm c8dr redeploy` runs `helm upgrade --install` per region with your values files plus a
generated overlay, passed last: the effective orchestration.env list of your files (Helm replaces
lists whole) with CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false added by name for
--no-schema-manager (on Camunda 8.10, CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA
instead when your files set it: it wins there; never both), or every spelling removed otherwise;
and Operate/Tasklist off for --no-webapps. Your files
are never modified; the overlay is written with mode 0600 into a private (0700) directory under
$TMPDIR and removed afterwards, also on SIGINT/SIGTERM/SIGHUP (--keep-overlay DIR keeps it).
On a signal, helm gets SIGINT or SIGTERM (it cancels the upgrade cleanly on those), c8dr waits
up to 30s for it, reports, and exits 130/143/129.

Extra helm arguments after -- must not override what c8dr decides: --kube-context, -n/--namespace,
--kubeconfig, --kube-*, -f/--values, --version and --set on orchestration.env/profiles are refused.
Secrets (ES_PWD, *_LICENSE_KEY, *_TOKEN, *_SECRET, passwords, URL userinfo) are hidden by name
and by value in everything printed.";

const LONG_ABOUT_TAIL: &str = "\
Regions come from the Camunda docs' variables (CLUSTER_SURVIVING, CAMUNDA_NAMESPACE_SURVIVING,
REGION_SURVIVING, the same for RECREATED, or CLUSTER_0/1 and CAMUNDA_NAMESPACE_0/1), or from
--surviving-context/--surviving-namespace/--recreated-context/--recreated-namespace. helm's own
--kube-context and -n apply to the surviving region only. Release: --release or
CAMUNDA_RELEASE_NAME (default camunda); chart version: --version or HELM_CHART_VERSION. The
chart major (13 = Camunda 8.8, 14 = 8.9, 15 = 8.10) decides the profiles, the schema switch and
the ConfigMap --verify reads: from the pinned version, else from the release's helm.sh/chart
label in the regions; when neither can be read, pass --version.

Values layout: by default the docs' EKS layout, run from aws/dual-region/kubernetes:
-f camunda-values.yml -f region<N>/camunda-values.yml. With -f and/or --region-values (e.g.
OpenShift: -f values-base.yml --region-values region0=values-region-1.yml
--region-values region1=values-region-2.yml) exactly those files are used, -f files first.

redeploy prints its plan and asks before running helm; --yes (or C8DR_ASSUME_YES=1) skips the
question, and without a terminal it is required. --dry-run shows the plan and the overlays only.

Exit codes: 0 success, 2 bad input (nothing ran), 3 refused or declined, 4 --verify timed out,
5 cluster unreachable for --verify, 130/143/129 interrupted by SIGINT/SIGTERM/SIGHUP, otherwise
helm's own exit code.";

/// The root's examples: the failback's helm steps, each named with its number from the table.
fn root_examples() -> String {
    use c8dr_common::procedure::Action;
    let named = |a: Action| a.step().named_capitalised();
    format!(
        "\
Examples:
  # {}: install the recreated region, Operate/Tasklist and schema manager off
  helm c8dr redeploy --region recreated --no-webapps --no-schema-manager
  # {}: the surviving region with Operate/Tasklist off
  helm c8dr redeploy --region surviving --no-webapps
  # {}: both regions back to normal, chart version pinned
  helm c8dr redeploy --region both --version 13.1.0",
        named(Action::InstallRecreated),
        named(Action::RedeploySurviving),
        named(Action::RedeployBoth)
    )
}

const REDEPLOY_EXAMPLES: &str = "\
Examples:
  helm c8dr redeploy --region recreated --no-webapps --no-schema-manager
  helm c8dr redeploy --region both --version 13.1.0 --dry-run
  # OpenShift: one generated values file per region
  helm c8dr redeploy --region both -f values-base.yml \\
    --region-values region0=values-region-1.yml --region-values region1=values-region-2.yml";

const OVERLAY_EXAMPLES: &str = "\
Examples:
  helm c8dr overlay --region recreated --no-webapps --no-schema-manager
  helm c8dr overlay --region both -o json";

const VERSION_EXAMPLES: &str = "\
Examples:
  helm c8dr version
  helm c8dr version -o json";

const COMPLETION_EXAMPLES: &str = "\
`helm c8dr <TAB>` completes through Helm's own completion (`helm completion bash`), from the
completion.yaml installed with the plugin: nothing to set up. This script completes the binary
when run directly as helm-c8dr.

Examples:
  source <(helm-c8dr completion bash)";

#[derive(Debug, Parser)]
#[command(
    name = "helm c8dr",
    bin_name = "helm c8dr",
    version = env!("C8DR_LONG_VERSION"),
    about = ABOUT,
    long_about = long_about(),
    after_help = root_examples()
)]
pub struct Cli {
    /// Output format: text, or one document (apiVersion, kind; docs/output.md) as json or yaml
    #[arg(short = 'o', long, value_parser = output_format(), default_value = "text", global = true)]
    pub output: Format,
    #[command(subcommand)]
    pub command: Command,
}

/// `-o`: the kubectl plugin's formats ([`Format`]), of which helm c8dr writes text or one
/// document (no report of it lists names or needs a jsonpath).
fn output_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    use clap::builder::TypedValueParser as _;
    clap::builder::PossibleValuesParser::new(["text", "json", "yaml"])
        .map(|s| s.parse::<Format>().unwrap_or_default())
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run `helm upgrade --install` in one or both regions with the generated overlay
    #[command(after_help = REDEPLOY_EXAMPLES)]
    Redeploy(RedeployArgs),
    /// Print the generated overlay (YAML) without running anything
    #[command(after_help = OVERLAY_EXAMPLES)]
    Overlay(OverlayArgs),
    /// Print the version, git commit, target and compiler of this binary (no cluster call)
    #[command(after_help = VERSION_EXAMPLES)]
    Version,
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    #[command(after_help = COMPLETION_EXAMPLES)]
    Completion {
        #[arg(value_name = "SHELL")]
        shell: clap_complete::Shell,
    },
    /// Print the plugin's completion.yaml, from which Helm completes `helm c8dr <TAB>`
    #[command(hide = true, name = "completion-yaml")]
    CompletionYaml,
    /// Write man pages into DIR
    #[command(hide = true)]
    Man {
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

/// Flags shared by `redeploy` and `overlay`.
#[derive(Debug, Args)]
pub struct Common {
    /// Region(s): surviving, recreated, both, 0 or 1 (region0/region1)
    #[arg(long, default_value = "surviving")]
    pub region: String,
    /// Turn Operate and Tasklist off (orchestration.profiles.operate/tasklist=false)
    #[arg(long)]
    pub no_webapps: bool,
    /// Set CAMUNDA_DATABASE_SCHEMAMANAGER_CREATESCHEMA=false, or on 8.10 the
    /// CAMUNDA_DATA_SECONDARYSTORAGE_ELASTICSEARCH_CREATESCHEMA your files set (without it every
    /// spelling is removed)
    #[arg(long)]
    pub no_schema_manager: bool,
    /// Chart reference
    #[arg(long, default_value = c8dr_common::chart::DEFAULT_CHART)]
    pub chart: String,
    /// Chart version [env: HELM_CHART_VERSION]
    #[arg(long)]
    pub version: Option<String>,
    /// Release name [env: CAMUNDA_RELEASE_NAME, default camunda]
    #[arg(long)]
    pub release: Option<String>,
    /// Values file for every region (repeatable; before the region's own file)
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// A region's own values file, REGION=FILE (region0, region1, surviving, recreated; repeatable)
    #[arg(long, value_name = "REGION=FILE")]
    pub region_values: Vec<String>,
    /// Kube context of the surviving region [env: CLUSTER_SURVIVING]
    #[arg(long, value_name = "CONTEXT")]
    pub surviving_context: Option<String>,
    /// Namespace of the surviving region [env: CAMUNDA_NAMESPACE_SURVIVING]
    #[arg(long, value_name = "NAMESPACE")]
    pub surviving_namespace: Option<String>,
    /// Kube context of the recreated region [env: CLUSTER_RECREATED]
    #[arg(long, value_name = "CONTEXT")]
    pub recreated_context: Option<String>,
    /// Namespace of the recreated region [env: CAMUNDA_NAMESPACE_RECREATED]
    #[arg(long, value_name = "NAMESPACE")]
    pub recreated_namespace: Option<String>,
}

#[derive(Debug, Args)]
pub struct RedeployArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print the helm commands and overlays; run nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Keep the generated overlay files in DIR (mode 0600); `overlay` writes no file, so it is
    /// redeploy's option only
    #[arg(long, value_name = "DIR")]
    pub keep_overlay: Option<PathBuf>,
    /// Do not ask for confirmation (also C8DR_ASSUME_YES=1); required without a terminal
    #[arg(short = 'y', long)]
    pub yes: bool,
    /// Pass --wait to helm (never for the recreated region: its brokers are not Ready until re-added)
    #[arg(long)]
    pub wait: bool,
    /// helm's --timeout (e.g. 10m); also bounds --verify (default 15m)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// After each upgrade, wait until the ConfigMap <release>-zeebe-configuration-unified shows
    /// the expected spring.profiles.active (compared as a set)
    #[arg(long)]
    pub verify: bool,
    /// Extra arguments for every `helm upgrade`, after `--`
    #[arg(last = true, value_name = "EXTRA HELM ARGS")]
    pub extra: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OverlayArgs {
    #[command(flatten)]
    pub common: Common,
    /// Print secret-looking values instead of <redacted>
    #[arg(long)]
    pub show_secrets: bool,
}

impl Common {
    fn request(&self) -> Result<RedeployRequest, Error> {
        Ok(RedeployRequest {
            target: Some(self.region.parse()?),
            overlay: OverlayOptions {
                no_webapps: self.no_webapps,
                no_schema_manager: self.no_schema_manager,
            },
            chart: Some(self.chart.clone()),
            version: self.version.clone(),
            release: self.release.clone(),
            values: self.values.clone(),
            region_values: self.region_values.clone(),
            surviving_context: self.surviving_context.clone(),
            surviving_namespace: self.surviving_namespace.clone(),
            recreated_context: self.recreated_context.clone(),
            recreated_namespace: self.recreated_namespace.clone(),
            ..Default::default()
        })
    }
}

impl RedeployArgs {
    pub fn request(&self) -> Result<RedeployRequest, Error> {
        Ok(RedeployRequest {
            dry_run: self.dry_run,
            yes: self.yes,
            wait: self.wait,
            timeout: self.timeout.clone(),
            verify: self.verify,
            extra_args: self.extra.clone(),
            keep_overlay: self.keep_overlay.clone(),
            ..self.common.request()?
        })
    }
}

impl OverlayArgs {
    pub fn request(&self) -> Result<RedeployRequest, Error> {
        self.common.request()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn helm_stripped_flags_are_not_defined() {
        let cmd = Cli::command();
        for sub in cmd.get_subcommands() {
            for arg in sub.get_arguments() {
                let long = arg.get_long().unwrap_or_default();
                assert!(
                    !["kube-context", "namespace", "kubeconfig", "debug"].contains(&long),
                    "{long}"
                );
                assert_ne!(arg.get_short(), Some('n'));
            }
        }
    }

    #[test]
    fn extra_helm_args_follow_the_double_dash() {
        let cli = Cli::try_parse_from([
            "helm-c8dr",
            "redeploy",
            "--region",
            "both",
            "--",
            "--set",
            "a=b",
            "--atomic",
        ])
        .expect("parses");
        let Command::Redeploy(args) = cli.command else {
            panic!("redeploy expected");
        };
        assert_eq!(args.extra, ["--set", "a=b", "--atomic"]);
        assert_eq!(args.common.region, "both");
    }
}
