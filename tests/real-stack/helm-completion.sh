#!/usr/bin/env bash
# helm-completion.sh HELM : `helm c8dr <TAB>` and `helm c8dr redeploy --<TAB>` through a real
# Helm's own completion. Helm's shell scripts (`helm completion bash|zsh|fish`) ask
# `helm __complete WORDS… PARTIAL` and offer the lines it prints (a candidate, a tab, its
# description; the last line `:N` is cobra's directive); for a plugin Helm builds the commands
# and flags from completion.yaml in the plugin's directory (helm/helm v3 cmd/helm/load_plugins.go,
# v4 pkg/cmd/load_plugins.go). The plugin is the one installed in the HELM_PLUGINS of the
# environment (tests/real-stack/run installs the checkout with each Helm). Exit 1 naming what is
# missing.
set -euo pipefail
helm="$1"

# complete WORDS… : the candidates Helm offers for the last word.
complete() { "$helm" __complete c8dr "$@" 2>/dev/null | grep -v '^:' | cut -f1; }

# expect WHAT CANDIDATES EXPECTED… : every expected candidate is offered.
expect() {
  local what="$1" got="$2"; shift 2
  local want
  for want in "$@"; do
    if ! grep -qx -- "$want" <<<"$got"; then
      printf '%s: %s not offered; offered:\n%s\n' "$what" "$want" "$got"
      exit 1
    fi
  done
  printf '%s: %s\n' "$what" "$*"
}

expect 'helm c8dr <TAB>' "$(complete '')" redeploy overlay version completion
expect 'helm c8dr re<TAB>' "$(complete re)" redeploy
expect 'helm c8dr redeploy --<TAB>' "$(complete redeploy --)" \
  --region --no-webapps --no-schema-manager --dry-run --yes --version --values --region-values \
  --keep-overlay --wait --timeout --verify --output --surviving-context --recreated-context
expect 'helm c8dr redeploy -<TAB>' "$(complete redeploy -)" -y -f -o
expect 'helm c8dr redeploy --region both --no-<TAB>' "$(complete redeploy --region both --no-)" \
  --no-webapps --no-schema-manager
expect 'helm c8dr overlay --<TAB>' "$(complete overlay --)" --show-secrets --region --output
expect 'helm c8dr completion <TAB>' "$(complete completion '')" bash zsh fish
