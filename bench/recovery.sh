#!/usr/bin/env bash
# The recovery benchmark (issue 14): failback three ways on the simulator with a stated data
# volume, measured by the simulator itself (GET /timeline on its control URL, in simulated
# seconds). Prints numbers; asserts nothing (not a timed test).
#
#   a) the docs' procedure as Camunda's reference automation runs it (bench/docs-procedure.sh:
#      sequential steps, polls every 15 s, regions upgraded one after the other);
#   b) c8dr as it was: kubectl c8dr failback --no-pre-copy --no-tuning;
#   c) c8dr with pre-copy and recovery tuning: kubectl c8dr failback (the default).
# The helm steps (the two redeploys without webapps, the final one) run through helm c8dr
# redeploy against the simulator's helm stand-in.
#
# For each: the time without webapps (redeploy surviving -> redeploy both), the time exporting was
# paused (pause -> resume), the total (install of the recreated region -> the end), and the
# floor: the servers' own time for that method (the
# union of the intervals in which the simulated servers worked: topology changes, snapshots,
# restores). The last line compares c) with a) and with its floor.
#
#   bench/recovery.sh                       # release build, the defaults below
#   ES_DATA=50gb PARTITION_SIZE=5gb TIME_SCALE=20 bench/recovery.sh
#   BIN=target/debug bench/recovery.sh      # use already built binaries
#   KEEP=dir bench/recovery.sh              # keep each run's timeline JSON and log in dir
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

ES_DATA=${ES_DATA:-50gb}             # primary Elasticsearch data per region
INGEST=${INGEST:-2mb}                # exported bytes per second while exporting runs
PARTITION_SIZE=${PARTITION_SIZE:-5gb} # each of the 8 partitions
TIME_SCALE=${TIME_SCALE:-20}         # simulated seconds per real second
METHODS=${METHODS:-"docs plain precopy"}

if [[ -z "${BIN:-}" ]]; then
  cargo build --release --bins -q
  BIN=target/release
fi
BIN=$(cd "$BIN" && pwd)
export PATH="$BIN:$PATH"

poll=$(python3 -c "print(15 / $TIME_SCALE)")
work=$(mktemp -d)
sim_pid=
cleanup() { [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT


plain_flags=(--no-pre-copy --no-tuning)
if ! kubectl-c8dr failback --help 2>/dev/null | grep -q -- '--no-pre-copy'; then
  echo "note: this kubectl-c8dr has no --no-pre-copy/--no-tuning: b) and c) both run plain 'failback'"
  plain_flags=()
fi

# Start a simulator with region1 lost, fail over, recreate region1, mark the timeline.
start() {
  local dir=$work/sim-$1
  "$BIN/c8dr-sim" serve --dir "$dir" --lose region1 --time-scale "$TIME_SCALE" \
    --es-data "$ES_DATA" --es-ingest-rate "$INGEST" --partition-size "$PARTITION_SIZE" \
    >"$work/serve-$1.log" 2>&1 &
  sim_pid=$!
  for _ in $(seq 100); do grep -q '^export KUBECONFIG' "$work/serve-$1.log" 2>/dev/null && break; sleep 0.1; done
  eval "$(grep '^export ' "$work/serve-$1.log")"
  export HELM_BIN="$BIN/c8dr-sim-helm" C8DR_ASSUME_YES=1 HOME="$work" S3_BUCKET_NAME=c8dr-bench-bucket
  control=$(cat "$dir/control-url")
  MGMT=$(jq -r '.[0].management' "$dir/endpoints.json")
  REST=$(jq -r '.[0].rest' "$dir/endpoints.json")
  ES_SURVIVING=$(jq -r '.[0].elasticsearch' "$dir/endpoints.json")
  ES_RECREATED=$(jq -r '.[1].elasticsearch' "$dir/endpoints.json")
  export MGMT REST ES_SURVIVING ES_RECREATED
  kubectl-c8dr failover -q >/dev/null
  "$BIN/c8dr-sim" ctl --dir "$dir" recreate region1 >/dev/null
  curl -sf -XPOST "$control/timeline/reset" >/dev/null
}

stop() { kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; sim_pid=; }

# The windows of the run just finished: "webapps_off paused total floor" in simulated seconds.
measure() {
  curl -sf "$control/timeline" >"$work/timeline-$1.json"
  [[ -n "${KEEP:-}" ]] && mkdir -p "$KEEP" && cp "$work/timeline-$1.json" "$work/run-$1.log" "$KEEP/"
  jq -r '.windows | "\(.webapps_off_s) \(.exporting_paused_s) \(.span_s) \(.busy_s)"' "$work/timeline-$1.json"
}

run_method() {
  local m=$1
  start "$m"
  local began; began=$(date +%s.%N)
  # `c8dr-sim serve` writes the docs' values layout (aws/dual-region/kubernetes) into DIR/values.
  ( cd "$work/sim-$m/values"
    case $m in
      docs) POLL=$poll "$root/bench/docs-procedure.sh" ;;
      plain|precopy)
        local flags=()
        [[ $m == plain ]] && flags=("${plain_flags[@]}")
        helm-c8dr redeploy --region recreated --no-webapps --no-schema-manager >/dev/null
        if [[ $m == precopy ]]; then
          # After the recreated region's install the driver takes the full snapshot while the
          # webapps still run, and stops before the surviving region's redeploy.
          kubectl-c8dr failback --replication-factor 4 -q >/dev/null
        fi
        helm-c8dr redeploy --region surviving --no-webapps >/dev/null
        kubectl-c8dr failback --replication-factor 4 "${flags[@]}" -q >/dev/null
        helm-c8dr redeploy --region both >/dev/null ;;
    esac
  ) >"$work/run-$m.log" 2>&1 || { echo "method $m failed:"; tail -30 "$work/run-$m.log"; exit 1; }
  local real; real=$(python3 -c "import time; print(round(time.time() - $began, 1))")
  read -r off paused total floor < <(measure "$m")
  stop
  printf '%-8s webapps off %8.1f s   exporting paused %8.1f s   total %8.1f s   floor %8.1f s   (%s s real)\n' \
    "$m" "$off" "$paused" "$total" "$floor" "$real"
  eval "r_${m}=\"$off $paused $total $floor\""
}

echo "recovery benchmark: $ES_DATA of Elasticsearch data per region (2 nodes, 3 primaries + 1 replica per index),"
echo "8 partitions of $PARTITION_SIZE, $INGEST/s exported while exporting runs; time scale $TIME_SCALE"
echo "(simulated seconds = real seconds x $TIME_SCALE; the docs' 15 s polls are ${poll} s real)"
for m in $METHODS; do run_method "$m"; done

if [[ -n "${r_docs:-}" && -n "${r_precopy:-}" ]]; then
  read -r y q _ _ <<<"$r_docs"
  read -r x p t f <<<"$r_precopy"
  printf 'recovery: webapps-off %.0f s (docs %.0f s), exporting paused %.0f s (docs %.0f s), total %.0f s (floor %.0f s)\n' \
    "$x" "$y" "$p" "$q" "$t" "$f"
fi
