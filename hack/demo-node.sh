#!/usr/bin/env bash
# Runs the story of make demo on the local cluster with a real node, as a platform team
# runs the operator: starts the node (hack/localnode, with the images make image
# built), installs the chart with the local image, applies the samples with their dates
# shifted into this month, waits for every object and both portals, prints the pods, and
# reads the allyship portal through the API server's service proxy as a seated member
# and as an outsider. Everything it starts is stopped, and the machine cleaned, on exit
# unless DEMO_KEEP=1. Needs root (the node creates a bridge, iptables rules, cgroups).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$root/bin
dir=${DEMO_DIR:-$bin/node}
namespace=${DEMO_NAMESPACE:-cohort-demo}
release=${DEMO_RELEASE:-cohort-demo}
release_namespace=${DEMO_RELEASE_NAMESPACE:-cohort-demo-system}
image_archive=${IMG_ARCHIVE:?IMG_ARCHIVE names the operator image archive (make demo-node sets it)}
pause_archive=${PAUSE_ARCHIVE:?PAUSE_ARCHIVE names the pause image archive (make demo-node sets it)}
image=${IMG:?IMG names the operator image (make demo-node sets it)}
helm_bin=${HELM:?HELM names the helm binary (make demo-node sets it)}
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$bin/k8s}
cohort=allyship-2026
kubectl() { "$KUBEBUILDER_ASSETS/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }
helm() { "$helm_bin" --kubeconfig "$dir/kubeconfig" "$@"; }

node_pid=""
cleanup() {
  local status=$?
  if [[ -n "$node_pid" ]]; then
    kill -INT "$node_pid" 2>/dev/null && wait "$node_pid" 2>/dev/null
  fi
  if [[ $status -ne 0 && $status -ne 130 ]]; then
    echo "demo failed; logs are in $dir/logs and $dir/node.log" >&2
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "building the node runner and the samples renderer"
go build -o "$bin/localnode" ./hack/localnode
go build -o "$bin/samples" ./hack/samples
mkdir -p "$dir"
rm -f "$dir/kubeconfig"

step "starting the control plane, containerd and the node (images: $(basename "$image_archive"), $(basename "$pause_archive"))"
"$bin/localnode" -dir "$dir" -assets "$KUBEBUILDER_ASSETS" -image "$image_archive" -pause "$pause_archive" > "$dir/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 240); do
  grep -q "Ready in" "$dir/node.log" 2>/dev/null && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$dir/node.log" >&2; exit 1; }
  sleep 0.5
done
grep "Ready in" "$dir/node.log" || { echo "the node did not become Ready" >&2; exit 1; }

step "helm install $release -n $release_namespace with $image"
# hack/localnode installs the CRDs; the release takes them over.
started=$(date +%s)
helm install "$release" charts/cohort-operator -n "$release_namespace" --create-namespace --take-ownership \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
  --wait --timeout 2m > /dev/null
echo "manager Ready $(( $(date +%s) - started )) s after helm install"

step "applying the samples to namespace $namespace"
months=$("$bin/samples" -print-months)
echo "  the samples' dates are shifted by $months month(s) so that today, $(date -u +%F), falls inside the program"
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - > /dev/null
"$bin/samples" -months "$months" | kubectl apply -n "$namespace" -f - > /dev/null
for kind in cop coh mbr lev; do
  kubectl wait -n "$namespace" --all --timeout=120s --for=condition=Ready "$kind" > /dev/null
done
kubectl wait -n "$namespace" --timeout=90s --for=condition=PortalAvailable=True "coh/$cohort" > /dev/null
echo "samples Ready and the portal Available $(( $(date +%s) - started )) s after helm install"

step "kubectl get pods -A -o wide"
kubectl get pods -A -o wide

step "kubectl get cohorts -n $namespace"
kubectl get -n "$namespace" coh

# A seated member and an outsider, as the API server sees them (impersonated by the
# administrator: the service proxy then authorizes the member, not the administrator).
member=$(kubectl get -n "$namespace" mbr -o jsonpath='{range .items[?(@.spec.cohortRef.name=="'"$cohort"'")]}{.spec.role}{" "}{.status.phase}{" "}{.status.waitlistPosition}{" "}{.spec.member}{"\n"}{end}' |
  awk '$1 == "Member" && $2 == "Active" && NF == 3 {print $3; exit}')
proxy=/api/v1/namespaces/$namespace/services/$cohort-portal:http/proxy

step "the portal through the API server's service proxy, as the seated member $member"
page=$(kubectl get --raw "$proxy/" --as "$member")
echo "  ($(printf '%s' "$page" | wc -c) bytes of HTML; its text:)"
printf '%s\n' "$page" | sed -e '/<style/,/<\/style>/d' -e 's/<[^>]*>/ /g' -e 's/  */ /g' | grep -v '^ *$' | head -n 30 || true
step "its calendar, as $member"
calendar=$(kubectl get --raw "$proxy/calendar.ics" --as "$member")
printf '%s\n' "$calendar" | head -n 12 || true

step "the portal as someone without a seat"
kubectl get --raw "$proxy/" --as someone-else 2>&1 | head -n 3 || true

if [[ "${DEMO_KEEP:-}" == 1 ]]; then
  step "the node keeps running; interrupt to stop it and clean the machine"
  echo "export KUBECONFIG=$dir/kubeconfig"
  wait "$node_pid"
fi
