#!/usr/bin/env bash
# Builds the local control plane from the Go module proxy: kube-apiserver,
# kube-controller-manager and kubectl from hack/tools/kube, etcd from hack/tools/etcd,
# and the binaries of its node (internal/localnode): kubelet, kube-scheduler and
# kube-proxy, also from hack/tools/kube.
# Binaries go to $1 (default bin/k8s). A stamp file records the versions built, so a
# second run with the same pins does nothing.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/bin/k8s}
mkdir -p "$out"
# The builds below run in the tools modules' folders: make the output path absolute.
out=$(cd "$out" && pwd)

# required_version prints the version go.mod file $1 requires of module $2.
required_version() {
  awk -v m="$2" '($1 == "require" && $2 == m) {print $3; exit} ($1 == m && $2 ~ /^v/) {print $2; exit}' "$1"
}
kube_version=$(required_version "$root/hack/tools/kube/go.mod" k8s.io/kubernetes)
etcd_version=$(required_version "$root/hack/tools/etcd/go.mod" go.etcd.io/etcd/server/v3)
if [[ -z "$kube_version" || -z "$etcd_version" ]]; then
  echo "cannot read the pinned versions from hack/tools/*/go.mod" >&2
  exit 1
fi
want="kubernetes=$kube_version etcd=$etcd_version"
stamp="$out/.versions"

have_all=true
for b in etcd kube-apiserver kube-controller-manager kubectl kubelet kube-scheduler kube-proxy; do
  [[ -x "$out/$b" ]] || have_all=false
done
if $have_all && [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "control plane up to date in $out ($want)"
  exit 0
fi

echo "building the control plane ($want) into $out"
rm -f "$stamp"
# Compiling is CPU-bound and downloading is not: fetch etcd's and the operator's own
# modules while Kubernetes compiles, so a cold machine waits for the network once.
(cd "$root/hack/tools/etcd" && go mod download) > /dev/null 2>&1 &
etcd_download=$!
(cd "$root" && go mod download) > /dev/null 2>&1 &
minor=${kube_version#v1.}
minor=${minor%%.*}
pkg=k8s.io/component-base/version
ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$kube_version -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
# A kubectl of 1.32 or newer on the machine is good enough for the demo and the tests;
# building one costs a minute on a cold 2-core machine.
targets=(k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager
  k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy)
rm -f "$out/kubectl"
system_kubectl=$(command -v kubectl || true)
system_minor=$([[ -n "$system_kubectl" ]] && "$system_kubectl" version --client -o json 2>/dev/null | sed -n 's/.*"minor": *"\([0-9]*\).*/\1/p' | head -n 1)
if [[ -n "$system_minor" && "$system_minor" -ge 32 && -z "${BUILD_KUBECTL:-}" ]]; then
  ln -s "$system_kubectl" "$out/kubectl"
  echo "using $system_kubectl (1.$system_minor); set BUILD_KUBECTL=1 to build kubectl $kube_version instead"
else
  targets+=(k8s.io/kubernetes/cmd/kubectl)
fi
(
  cd "$root/hack/tools/kube"
  go build -trimpath -ldflags "$ldflags" -o "$out/" "${targets[@]}"
)
wait "$etcd_download" || true
(
  cd "$root/hack/tools/etcd"
  go build -trimpath -ldflags "-s -w" -o "$out/etcd" .
)
echo "$want" > "$stamp"
echo "control plane built in $out"
