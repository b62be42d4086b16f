#!/usr/bin/env bash
# Speed and footprint of c8dr against docs/contract.md §5's targets, on the simulator. Prints numbers;
# asserts nothing (timings on a shared machine are not test material).
#
#   bench/run.sh            # builds release binaries first
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bins -q
bin=target/release
work=$(mktemp -d)
trap 'kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT

ms() { date +%s%N; }
elapsed_ms() { echo $(( ($(ms) - $1) / 1000000 )); }

echo "== kubectl c8dr --help start-up (target < 10 ms), median of 21"
times=()
for _ in $(seq 21); do s=$(ms); "$bin/kubectl-c8dr" --help >/dev/null; times+=( $(( ($(ms) - s) / 100000 )) ); done
IFS=$'\n' sorted=($(sort -n <<<"${times[*]}")); unset IFS
printf '   %s.%s ms\n' $((sorted[10] / 10)) $((sorted[10] % 10))

"$bin/c8dr-sim" serve --dir "$work/sim" --operation-duration 100ms > "$work/serve.log" 2>&1 &
sim_pid=$!
for _ in $(seq 50); do grep -q '^export KUBECONFIG' "$work/serve.log" 2>/dev/null && break; sleep 0.1; done
eval "$(grep '^export ' "$work/serve.log")"
export PATH="$PWD/$bin:$PATH" C8DR_ASSUME_YES=1 HOME="$work"

echo "== exporters list over port-forward, per call incl. process start and tunnel (target: status < 150 ms)"
for _ in 1 2 3; do s=$(ms); kubectl-c8dr exporters list >/dev/null; echo "   $(elapsed_ms "$s") ms"; done

echo "== kubectl c8dr status over port-forward, both regions (target < 150 ms)"
for _ in 1 2 3; do s=$(ms); kubectl-c8dr status >/dev/null; echo "   $(elapsed_ms "$s") ms"; done

echo "== peak memory of a forced removal through port-forward (target < 30 MB)"
"$bin/c8dr-sim" ctl --dir "$work/sim" lose region1 >/dev/null
s=$(ms)
/usr/bin/time -f '   max RSS %M KiB' kubectl-c8dr brokers remove --odd -q 2>&1 >/dev/null | grep 'max RSS'
took=$(elapsed_ms "$s")
# 12 operations x 100 ms of server-side time (4 partitions reconfigured x2 + 4 removals).
echo "== brokers remove --odd: ${took} ms for 1200 ms of server-side work (target: within 5% or 0.5 s)"

echo "== the whole demo (failover + failback), release build"
s=$(ms); "$bin/c8dr-sim" demo > "$work/demo.log" 2>&1 || { tail -20 "$work/demo.log"; exit 1; }
echo "   $(elapsed_ms "$s") ms wall; $(tail -1 "$work/demo.log")"
