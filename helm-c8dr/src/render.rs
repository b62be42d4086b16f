//! Rendering: short human lines on stdout, notices and errors on stderr; `-o json` prints one
//! document on stdout and nothing else there.

use c8dr_common::Error;
use c8dr_common::helm::{OverlayList, Plan, RedeployReport, RegionOverlay};
use c8dr_common::output::{Document, Format, render_document};
use c8dr_common::values::EnvChange;

use c8dr_common::{errln, out, outln};

fn indent(text: &str, prefix: &str) -> String {
    text.lines()
        .map(|l| format!("{prefix}{l}\n"))
        .collect::<String>()
}

fn schema_line(change: EnvChange) -> &'static str {
    match change {
        EnvChange::Added | EnvChange::Replaced => "schema manager off",
        EnvChange::Removed => "schema manager on (variable removed)",
        EnvChange::Absent => "schema manager on",
    }
}

/// Print one document (`-o json|yaml`): apiVersion, kind, the report (docs/output.md).
pub fn document<T: Document>(report: &T, output: &Format) -> Result<(), Error> {
    let format = if *output == Format::Yaml {
        Format::Yaml
    } else {
        Format::Json
    };
    out!("{}", render_document(report, &format)?);
    Ok(())
}

pub fn redeploy(report: &RedeployReport, output: &Format) -> Result<(), Error> {
    if output.is_document() {
        return document(report, output);
    }
    // Shown before the prompt when the redeploy ran (helm::redeploy); a dry run shows them here.
    let notices = report
        .notices
        .iter()
        .chain(report.regions.iter().flat_map(|r| &r.notices));
    for n in notices.filter(|_| !report.notices_shown) {
        errln!("note: {n}");
    }
    if report.dry_run {
        outln!("Dry run: nothing was run. The plan:");
    }
    for r in &report.regions {
        let side = r.side.map(|s| format!(" ({s})"));
        let what = format!(
            "{}, webapps {}",
            schema_line(r.schema_manager),
            if r.webapps { "on" } else { "off" }
        );
        let command = c8dr_common::helm::command_line(&r.argv);
        if report.dry_run {
            outln!(
                "\n{}{}: context {}, namespace {} ({what})",
                r.region,
                side.unwrap_or_default(),
                r.context,
                r.namespace
            );
            outln!("  {command}");
            let yaml = c8dr_common::values::to_yaml(&r.overlay)?;
            outln!(
                "  overlay {}{}:",
                r.overlay_file,
                if r.overlay_kept { " (written)" } else { "" }
            );
            out!("{}", indent(&yaml, "    "));
            continue;
        }
        outln!("{}{}: {}", r.region, side.unwrap_or_default(), command);
        out!("{}", indent(&r.output, "  | "));
        match r.exit_code {
            Some(0) => outln!(
                "{}: upgraded in context {}, namespace {} ({what}){}",
                r.region,
                r.context,
                r.namespace,
                if r.overlay_kept {
                    format!("; overlay kept at {}", r.overlay_file)
                } else {
                    String::new()
                }
            ),
            Some(code) => outln!("{}: helm exited {code}", r.region),
            None => {}
        }
        if let Some(v) = &r.verify {
            if v.ok {
                outln!(
                    "{}: verified: {} shows spring.profiles.active {}",
                    r.region,
                    v.configmap,
                    v.expected.join(",")
                );
            } else {
                outln!(
                    "{}: {} (expected {})",
                    r.region,
                    v.message.as_deref().unwrap_or("verification failed"),
                    v.expected.join(",")
                );
            }
        }
    }
    Ok(())
}

pub fn overlays(plan: &Plan, show_secrets: bool, output: &Format) -> Result<(), Error> {
    let docs = plan.overlays(show_secrets)?;
    for n in plan
        .notices
        .iter()
        .chain(plan.regions.iter().flat_map(|r| &r.overlay.notices))
    {
        errln!("note: {n}");
    }
    if output.is_document() {
        return document(
            &OverlayList {
                overlays: plan
                    .regions
                    .iter()
                    .map(|r| RegionOverlay {
                        region: r.label(),
                        overlay: plan.overlay_document(r, show_secrets),
                    })
                    .collect(),
            },
            output,
        );
    }
    if let [(_, yaml)] = docs.as_slice() {
        out!("{yaml}");
        return Ok(());
    }
    for (i, (label, yaml)) in docs.iter().enumerate() {
        if i > 0 {
            outln!("---");
        }
        outln!("# {label}");
        out!("{yaml}");
    }
    Ok(())
}

/// Print an error on stderr. Its text passes through the free-text redaction (URL userinfo,
/// `secret=...` pairs): it may quote a URL or a service's answer.
pub fn error(e: &Error, output: &Format) {
    c8dr_common::err!("{}", c8dr_common::output::error_text(e, output));
}
