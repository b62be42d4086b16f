//! SPEC safety rule 1: a mutating command prints its plan and asks on a terminal; `--yes` (or
//! C8DR_ASSUME_YES=1) skips the question; without a terminal and without `--yes` it refuses.

use std::io::{BufRead, IsTerminal, Write};

use c8dr_common::Error;
use c8dr_common::helm::Plan;

pub fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "y"
    )
}

pub fn confirm(plan: &Plan, yes: bool) -> Result<(), Error> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(Error::refused(
            "helm c8dr redeploy changes releases and stdin is not a terminal: pass --yes (or set \
             C8DR_ASSUME_YES=1), or --dry-run to see the plan",
        ));
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "This will run:");
    for region in &plan.regions {
        let argv = plan.shown_argv(region, std::path::Path::new("<generated overlay>"));
        let _ = writeln!(err, "  {}", argv.join(" "));
    }
    let _ = write!(err, "Proceed? [y/N] ");
    let _ = err.flush();
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|e| Error::failed(format!("reading the answer: {e}")))?;
    if truthy(&answer) {
        Ok(())
    } else {
        Err(Error::Aborted)
    }
}
