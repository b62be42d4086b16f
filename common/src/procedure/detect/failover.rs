//! The lost region does not run Camunda (unreachable, or reachable again with no release):
//! the brokers' removal and the exporter's disable, failed over, or the recreated region's install
//! once it is back empty.

use super::Lost;
use crate::procedure::steps::{Action, Stage};
use crate::procedure::verdict::{Phase, Verdict};

pub(super) fn detect(ctx: &Lost<'_>) -> Verdict {
    let (lost, fill) = (ctx.lost, &ctx.fill);
    let lost_members = &ctx.lost_members;
    if !lost_members.is_empty() {
        let mut v = Verdict::at(&[Action::RemoveBrokers], fill, lost);
        // The forced removal needs a topology listing every broker that remains (docs/contract.md
        // §4 rule 2) and refuses otherwise: name what is missing instead of a command that will
        // be refused (found by the model-based test, common/tests/model_based.rs).
        if let Some(alive) = &ctx.obs.alive_brokers {
            let remaining: Vec<u32> = ctx
                .cluster
                .members
                .iter()
                .copied()
                .filter(|b| !lost.holds(*b))
                .collect();
            let missing: Vec<u32> = remaining
                .iter()
                .copied()
                .filter(|b| !alive.contains(b))
                .collect();
            if !missing.is_empty() {
                let cmd = v.next.take().unwrap_or_default();
                v = v.note(format!(
                    "/v2/topology does not list brokers {missing:?} of {}, which would remain: without them it is \
                     no evidence that {lost}'s brokers are down, and the forced removal is refused. Get them running \
                     and answering the gateway (kubectl get pods in {}), then: {cmd}",
                    ctx.surviving, ctx.surviving
                ));
            }
        }
        if ctx.lost_obs.reachable {
            v = v.note(format!(
                "{lost} is reachable again but has no Camunda release: its brokers {lost_members:?} do not run"
            ));
        }
        return ctx.finish(v);
    }
    if ctx.lost_exporter_on {
        let mut v = Verdict::at(&[Action::DisableExporter], fill, lost);
        if !ctx.surviving_exporter_on {
            // Disabling the lost exporter would leave no exporter enabled and is refused (docs/contract.md §4
            // rule 10): the surviving region's own exporter, disabled by hand, comes back first
            // (found by the model-based test, common/tests/model_based.rs).
            let enable = format!(
                "kubectl c8dr exporters enable {}",
                ctx.fill.surviving_exporter
            );
            v.next = Some(format!(
                "{enable}, then {}",
                Action::DisableExporter.step().command(fill)
            ));
            v = v.note(format!(
                "the surviving region's exporter {} is disabled: disabling {} now would leave no exporter \
                 enabled, so it is refused; enable {} first (its Elasticsearch missed what was exported while \
                 it was off: check Operate there afterwards)",
                ctx.fill.surviving_exporter, ctx.fill.lost_exporter, ctx.fill.surviving_exporter
            ));
        }
        return ctx.finish(v);
    }
    if !ctx.lost_obs.reachable {
        let v = Verdict::new(
            Phase::FailedOver,
            "the lost region's brokers are removed and its exporter is disabled",
            Stage::Failback.steps().first().map(|s| s.command(fill)),
        )
        .lost(lost);
        return ctx.finish(v);
    }
    ctx.finish(Verdict::at(&[Action::InstallRecreated], fill, lost))
}
