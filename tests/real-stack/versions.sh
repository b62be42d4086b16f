# Versions of every real component of the real-stack tier (sourced by build-tools.sh and run).
# Changing one changes its cache directory, so the next run rebuilds exactly that component.
KUBE_VERSION=v1.34.4    # must match the require line and the v0.34.x replaces in go/k8s/go.mod
ETCD_VERSION=v3.6.16    # must match go/etcd/go.mod
KWOK_VERSION=v0.8.0
HELM3_OLD_VERSION=v3.17.4 # oldest Helm 3 c8dr supports (docs/api-behaviour.md §7)
HELM3_NEW_VERSION=v3.22.0 # newest Helm 3 on the module proxy
HELM4_VERSION=v4.3.1
KREW_VERSION=v0.4.3      # newest sigs.k8s.io/krew on the module proxy (krew + validate-krew-manifest)
OPENSEARCH_VERSION=2.19.6 # newest 2.19.x; 3.x needs Java 21

RS_CACHE="${C8DR_REAL_STACK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/c8dr-real-stack}"

# rs_dir TOOL VERSION : the cache directory of one built tool.
rs_dir() { printf '%s/%s-%s' "$RS_CACHE" "$1" "$2"; }
