#!/usr/bin/env bash
# Builds (once) and caches every real component of the real-stack tier, from the Go module
# proxy only: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes,
# through the consumer module in go/k8s), etcd (go.etcd.io/etcd/server/v3, consumer module in
# go/etcd), kwok + kwokctl (sigs.k8s.io/kwok), helm 3 oldest, helm 3 newest, helm 4, krew and its
# validate-krew-manifest (sigs.k8s.io/krew).
#
# Usage: build-tools.sh [component...]   (default: all; components: kubernetes etcd kwok
#        helm-old helm-new helm4 krew). Prints each binary's --version; exits 1 naming the component
#        that failed to build. Binaries land in $C8DR_REAL_STACK_CACHE (default
#        ${XDG_CACHE_HOME:-$HOME/.cache}/c8dr-real-stack)/<tool>-<version>/bin, keyed by version,
#        so a re-run skips what is built. Build timings are appended to timings.log there.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.sh
. "$HERE/versions.sh"

mkdir -p "$RS_CACHE"
TIMINGS="$RS_CACHE/timings.log"
export GOFLAGS="${GOFLAGS:-} -trimpath"
export CGO_ENABLED=0
NICE=(nice -n 10)

log() { printf '[build-tools] %s\n' "$*" >&2; }

# timed NAME CMD... : runs CMD, records the wall time of a build that really ran.
timed() {
  local name="$1"; shift
  local start end
  start=$(date +%s)
  if ! "$@"; then
    log "FAILED to build $name (see the output above)"
    return 1
  fi
  end=$(date +%s)
  printf '%s %s %ss go=%s nproc=%s\n' "$(date -u +%FT%TZ)" "$name" "$((end - start))" \
    "$(go env GOVERSION)" "$(nproc)" >>"$TIMINGS"
  log "$name built in $((end - start))s"
}

have_all() { local f; for f in "$@"; do [ -x "$f" ] || return 1; done; }

build_kubernetes() {
  local d; d="$(rs_dir kubernetes "$KUBE_VERSION")/bin"
  have_all "$d/kube-apiserver" "$d/kube-controller-manager" "$d/kube-scheduler" "$d/kubectl" && return 0
  mkdir -p "$d"
  local minor="${KUBE_VERSION#v1.}"; minor="${minor%%.*}"
  local ld="-s -w"
  local p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
  done
  (cd "$HERE/go/k8s" && timed "kubernetes-$KUBE_VERSION" "${NICE[@]}" go build -ldflags "$ld" -o "$d/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl)
}

build_etcd() {
  local d; d="$(rs_dir etcd "$ETCD_VERSION")/bin"
  have_all "$d/etcd" && return 0
  mkdir -p "$d"
  (cd "$HERE/go/etcd" && timed "etcd-$ETCD_VERSION" "${NICE[@]}" go build -ldflags "-s -w" -o "$d/etcd" \
    go.etcd.io/etcd/server/v3)
}

build_kwok() {
  local d; d="$(rs_dir kwok "$KWOK_VERSION")/bin"
  have_all "$d/kwok" "$d/kwokctl" && return 0
  mkdir -p "$d"
  local ld="-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$KUBE_VERSION"
  GOBIN="$d" timed "kwok-$KWOK_VERSION" "${NICE[@]}" go install -ldflags "$ld" \
    "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" "sigs.k8s.io/kwok/cmd/kwokctl@$KWOK_VERSION"
}

# build_helm VERSION : v3.x from helm.sh/helm/v3, v4.x from helm.sh/helm/v4.
build_helm() {
  local v="$1" major
  major="${v%%.*}"
  local d; d="$(rs_dir helm "$v")/bin"
  have_all "$d/helm" && return 0
  mkdir -p "$d"
  GOBIN="$d" timed "helm-$v" "${NICE[@]}" go install \
    -ldflags "-s -w -X helm.sh/helm/$major/internal/version.version=$v" "helm.sh/helm/$major/cmd/helm@$v"
}

# krew as kubectl's plugin (kubectl-krew, how `kubectl krew` finds it) and validate-krew-manifest,
# krew's own check of a plugin manifest (it installs each platform with `kubectl krew install`).
build_krew() {
  local d; d="$(rs_dir krew "$KREW_VERSION")/bin"
  have_all "$d/kubectl-krew" "$d/validate-krew-manifest" && return 0
  mkdir -p "$d"
  local ld="-s -w -X sigs.k8s.io/krew/internal/version.gitTag=$KREW_VERSION"
  GOBIN="$d" timed "krew-$KREW_VERSION" "${NICE[@]}" go install -ldflags "$ld" \
    "sigs.k8s.io/krew/cmd/krew@$KREW_VERSION" "sigs.k8s.io/krew/cmd/validate-krew-manifest@$KREW_VERSION" &&
    mv "$d/krew" "$d/kubectl-krew"
}

versions() {
  local k e w
  k="$(rs_dir kubernetes "$KUBE_VERSION")/bin"; e="$(rs_dir etcd "$ETCD_VERSION")/bin"
  w="$(rs_dir kwok "$KWOK_VERSION")/bin"
  [ -x "$k/kube-apiserver" ] && echo "kube-apiserver: $("$k/kube-apiserver" --version)"
  [ -x "$k/kube-controller-manager" ] && echo "kube-controller-manager: $("$k/kube-controller-manager" --version)"
  [ -x "$k/kube-scheduler" ] && echo "kube-scheduler: $("$k/kube-scheduler" --version)"
  [ -x "$k/kubectl" ] && echo "kubectl: $("$k/kubectl" version --client 2>/dev/null | head -1)"
  [ -x "$e/etcd" ] && echo "etcd: $("$e/etcd" --version | head -1)"
  [ -x "$w/kwok" ] && echo "kwok: $("$w/kwok" --version)"
  [ -x "$w/kwokctl" ] && echo "kwokctl: $("$w/kwokctl" --version)"
  [ -x "$(rs_dir krew "$KREW_VERSION")/bin/kubectl-krew" ] &&
    echo "krew: $("$(rs_dir krew "$KREW_VERSION")/bin/kubectl-krew" version 2>/dev/null | grep -i gitTag | tr -s ' ')"
  local v
  for v in "$HELM3_OLD_VERSION" "$HELM3_NEW_VERSION" "$HELM4_VERSION"; do
    [ -x "$(rs_dir helm "$v")/bin/helm" ] && echo "helm $v: $("$(rs_dir helm "$v")/bin/helm" version --short)"
  done
  return 0
}

main() {
  command -v go >/dev/null || { log "go is not installed: the real-stack tier needs Go >= 1.26"; exit 1; }
  local todo=("$@")
  [ ${#todo[@]} -eq 0 ] && todo=(kubernetes etcd kwok helm-old helm-new helm4 krew)
  local c failed=()
  for c in "${todo[@]}"; do
    case "$c" in
      kubernetes) build_kubernetes || failed+=("$c") ;;
      etcd) build_etcd || failed+=("$c") ;;
      kwok) build_kwok || failed+=("$c") ;;
      helm-old) build_helm "$HELM3_OLD_VERSION" || failed+=("$c") ;;
      helm-new) build_helm "$HELM3_NEW_VERSION" || failed+=("$c") ;;
      helm4) build_helm "$HELM4_VERSION" || failed+=("$c") ;;
      krew) build_krew || failed+=("$c") ;;
      versions) ;;
      *) log "unknown component $c"; exit 2 ;;
    esac
  done
  versions
  if [ ${#failed[@]} -ne 0 ]; then
    log "could not build: ${failed[*]}"
    exit 1
  fi
}

main "$@"
