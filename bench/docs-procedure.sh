#!/usr/bin/env bash
# The failback's steps replayed as Camunda's reference automation runs them, for bench/recovery.sh:
# camunda/c8-multi-region stable/8.8 `test/multi_region_aws_camunda_test.go`
# (TestAWSDualRegFailback_8_6_plus) and `test/internal/helpers/kubectl/helpers.go`:
# sequential steps, every wait a poll every 15 s (check, then sleep 15 s), the snapshot and the
# restore started with `wait_for_completion=true`, both regions redeployed one after the other.
# It drives the simulator over the same APIs, not through c8dr's logic: curl against the
# management API and Elasticsearch (the automation port-forwards the gateway and runs curl in
# the Elasticsearch pod; here the simulator's loopback endpoints stand in for both) and
# `helm c8dr redeploy` for the helm upgrades (the simulator's helm stand-in, as for every method).
#
# Environment: MGMT, REST (surviving gateway management and v2 REST URLs), ES_SURVIVING, ES_RECREATED (Elasticsearch
# URLs), POLL (seconds between polls: 15 divided by the simulator's time scale), BLOCKING_POLL
# (how often to look while standing in for a blocking wait_for_completion call), plus what
# helm c8dr needs (KUBECONFIG, CLUSTER_*, HELM_BIN, run from the values directory).
# Asserts nothing about timing; exits non-zero when a step fails.
set -euo pipefail
: "${MGMT:?}" "${REST:?}" "${ES_SURVIVING:?}" "${ES_RECREATED:?}" "${POLL:?}"
BLOCKING_POLL=${BLOCKING_POLL:-0.05}
SNAPSHOT=${SNAPSHOT:-failback-docs}
BUCKET=${S3_BUCKET_NAME:-c8dr-bench-bucket}
log() { printf '   [docs] %s\n' "$*" >&2; }

# The automation's retry helper: try, and sleep POLL between failed tries.
poll() {
  local what=$1; shift
  for _ in $(seq 1 100000); do
    if "$@"; then return 0; fi
    sleep "$POLL"
  done
  log "gave up waiting for $what"; return 1
}

# /v2/topology lists 8 brokers (the recreated ones as non-members), as the automation waits for.
topology_complete() {
  curl -sf -u "$CAMUNDA_CLIENT_AUTH_USERNAME:$CAMUNDA_CLIENT_AUTH_PASSWORD" "$REST/v2/topology" |
    jq -e '.brokers | length == 8' >/dev/null
}
green() { curl -sf "$1/_cluster/health" | jq -e '.status == "green"' >/dev/null; }
exporter_enabled() {
  curl -sf "$MGMT/actuator/exporters" |
    jq -e 'map(select(.exporterId == "camundaregion1" and .status == "ENABLED")) | length == 1' >/dev/null
}
no_pending_change() {
  curl -sf "$MGMT/actuator/cluster" | jq -e 'has("pendingChange") | not' >/dev/null
}
snapshot_done() {
  curl -sf "$ES_SURVIVING/_snapshot/camunda_backup/$SNAPSHOT" |
    jq -e '.snapshots[0].state == "SUCCESS" or .snapshots[0].state == "PARTIAL" or .snapshots[0].state == "FAILED"' >/dev/null
}
# A restore with wait_for_completion=true returns once every primary is restored.
primaries_restored() {
  curl -sf "$ES_RECREATED/_cluster/health" | jq -e '.status != "red"' >/dev/null
}
blocking() { # stand-in for a blocking call: look often, so no polling delay is added
  local what=$1; shift
  until "$@"; do sleep "$BLOCKING_POLL"; done
}

log "failback: install the recreated region without webapps and schema manager"
helm-c8dr redeploy --region recreated --no-webapps --no-schema-manager >/dev/null
log "failback: redeploy the surviving region without webapps; wait for the topology"
helm-c8dr redeploy --region surviving --no-webapps >/dev/null
poll "topology" topology_complete

log "failback: pause exporting"
curl -sf -XPOST "$MGMT/actuator/exporting/pause" >/dev/null

log "failback: copy Elasticsearch: register, snapshot (wait_for_completion), register on the recreated side, restore"
repo="{\"type\":\"s3\",\"settings\":{\"bucket\":\"$BUCKET\",\"client\":\"camunda\",\"base_path\":\"backups\"}}"
curl -sf -XPUT "$ES_SURVIVING/_snapshot/camunda_backup" -H 'content-type: application/json' -d "$repo" >/dev/null
curl -sf -XPUT "$ES_SURVIVING/_snapshot/camunda_backup/$SNAPSHOT" -H 'content-type: application/json' \
  -d '{"include_global_state":true}' >/dev/null
blocking "snapshot" snapshot_done
curl -sf "$ES_SURVIVING/_snapshot/camunda_backup/$SNAPSHOT" | jq -e '.snapshots[0].shards.failed == 0' >/dev/null
curl -sf -XPUT "$ES_RECREATED/_snapshot/camunda_backup" -H 'content-type: application/json' -d "$repo" >/dev/null
poll "the snapshot in the recreated region" \
  curl -sf "$ES_RECREATED/_snapshot/camunda_backup/_all" -o /dev/null
curl -sf -XPOST "$ES_RECREATED/_snapshot/camunda_backup/$SNAPSHOT/_restore" -H 'content-type: application/json' \
  -d '{"include_global_state":true}' >/dev/null
blocking "restore" primaries_restored
poll "green in both regions" bash -c "$(declare -f green); green '$ES_SURVIVING' && green '$ES_RECREATED'"

log "failback: enable the recreated exporter from the surviving one"
curl -sf -XPOST "$MGMT/actuator/exporters/camundaregion1/enable" -H 'content-type: application/json' \
  -d '{"initializeFrom":"camundaregion0"}' >/dev/null
poll "exporter enabled" exporter_enabled

log "failback: resume exporting"
curl -sf -XPOST "$MGMT/actuator/exporting/resume" >/dev/null

log "failback: re-add the brokers (no force), RF 4"
curl -sf -XPATCH "$MGMT/actuator/cluster" -H 'content-type: application/json' \
  -d '{"brokers":{"add":[1,3,5,7]},"partitions":{"replicationFactor":4}}' >/dev/null
poll "the re-add" no_pending_change

log "failback: redeploy both regions with the webapps, one after the other"
helm-c8dr redeploy --region surviving >/dev/null
helm-c8dr redeploy --region recreated >/dev/null
log "done"
