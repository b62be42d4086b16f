//! `curl` as run by `kubectl exec` in the Elasticsearch container: argv and stdin config
//! (`curl -K -`) interpreted against the simulated Elasticsearch. Stub interface.

use crate::exec::ExecOutcome;
use crate::world::{RegionId, SharedWorld};

pub fn run(
    _world: &SharedWorld,
    _region: RegionId,
    _argv: &[String],
    _stdin: &[u8],
) -> ExecOutcome {
    ExecOutcome::failure(127, "curl: not simulated yet\n")
}
