#!/usr/bin/env bash
# Runs cohort-operator end to end on a local control plane: starts etcd,
# kube-apiserver and kube-controller-manager, installs the CRDs and RBAC, starts the
# manager as a process with the RBAC of its ServiceAccount, applies the samples with
# their dates shifted so that today falls inside the programs (hack/samples), waits for
# every object to be reconciled and prints them. Everything it starts is stopped on exit
# unless DEMO_KEEP=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=$root/bin
dir=${DEMO_DIR:-$bin/demo}
namespace=${DEMO_NAMESPACE:-cohort-demo}
metrics_addr=${DEMO_METRICS_ADDR:-127.0.0.1:18080}
probe_addr=${DEMO_PROBE_ADDR:-127.0.0.1:18081}
export KUBEBUILDER_ASSETS=${KUBEBUILDER_ASSETS:-$bin/k8s}
kubectl() { "$KUBEBUILDER_ASSETS/kubectl" --kubeconfig "$dir/kubeconfig" "$@"; }

portal_addr=${DEMO_PORTAL_ADDR:-127.0.0.1:18090}
cohort=allyship-2026

cluster_pid=""
manager_pid=""
portal_pid=""
cleanup() {
  local status=$?
  [[ -n "$portal_pid" ]] && kill "$portal_pid" 2>/dev/null && wait "$portal_pid" 2>/dev/null
  [[ -n "$manager_pid" ]] && kill "$manager_pid" 2>/dev/null && wait "$manager_pid" 2>/dev/null
  [[ -n "$cluster_pid" ]] && kill "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null
  if [[ $status -ne 0 && $status -ne 130 ]]; then
    echo "demo failed; logs are in $dir" >&2
    tail -n 20 "$dir/manager.log" >&2 2>/dev/null || true
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }

step "building the local cluster runner and the samples renderer"
go build -o "$bin/localcluster" ./hack/localcluster
go build -o "$bin/samples" ./hack/samples
mkdir -p "$dir"

step "starting etcd, kube-apiserver and kube-controller-manager"
"$bin/localcluster" --dir "$dir" > "$dir/cluster.log" 2>&1 &
cluster_pid=$!
for _ in $(seq 1 120); do
  [[ -f "$dir/ready" ]] && break
  kill -0 "$cluster_pid" 2>/dev/null || { cat "$dir/cluster.log" >&2; exit 1; }
  sleep 0.5
done
[[ -f "$dir/ready" ]] || { echo "the local cluster did not start" >&2; exit 1; }
echo "API server at $(cat "$dir/ready")"

step "installing the CRDs and RBAC (config/local)"
kubectl apply --server-side -k config/local > /dev/null
kubectl wait --for=condition=Established --timeout=60s crd \
  communityofpractices.learning.cohort.dev cohorts.learning.cohort.dev \
  memberships.learning.cohort.dev learningevents.learning.cohort.dev actionplans.learning.cohort.dev \
  programreports.learning.cohort.dev

step "starting the manager as system:serviceaccount:cohort-system:cohort-controller-manager"
"$bin/manager" --kubeconfig "$dir/manager.kubeconfig" \
  --metrics-bind-address "$metrics_addr" --health-probe-bind-address "$probe_addr" \
  > "$dir/manager.log" 2>&1 &
manager_pid=$!
for _ in $(seq 1 60); do
  if command -v curl > /dev/null; then
    curl -fsS "http://$probe_addr/readyz" > /dev/null 2>&1 && break
  elif grep -q "Starting workers" "$dir/manager.log" 2>/dev/null; then
    break
  fi
  kill -0 "$manager_pid" 2>/dev/null || { cat "$dir/manager.log" >&2; exit 1; }
  sleep 0.5
done

step "applying the samples to namespace $namespace"
# The samples are written for internal/samples.ReferenceDay; hack/samples shifts every
# date in them by whole months so that the programs are in progress today.
months=$("$bin/samples" -print-months)
echo "  the samples' dates are shifted by $months month(s) so that today, $(date -u +%F), falls inside the program"
kubectl create namespace "$namespace" --dry-run=client -o yaml | kubectl apply -f - > /dev/null
"$bin/samples" -months "$months" | tee "$dir/samples.yaml" |
  kubectl apply -n "$namespace" -f - | sed 's/^/  /' | tail -n 5
echo "  ... $(kubectl get -n "$namespace" cop,coh,mbr,lev --no-headers | wc -l) objects in all"

step "waiting for every object to be reconciled"
# The samples were just created, so each is at generation 1.
for kind in cop coh mbr lev; do
  kubectl wait -n "$namespace" --all --timeout=60s \
    --for=jsonpath='{.status.observedGeneration}'=1 "$kind" > /dev/null
done
kubectl wait -n "$namespace" --all --timeout=60s --for=condition=Provisioned coh > /dev/null
echo "all reconciled, and the seated members' access provisioned"

step "members create their action plans as themselves (config/samples/plans)"
# The action-plan policy admits a plan only from the user its spec.owner names: each is
# created as its owner. A seated member may create plans (RBAC cannot limit create by
# name) and, once the operator sees the plan, get and update it by name.
for owner in $("$bin/samples" -dir config/samples/plans -owners); do
  "$bin/samples" -dir config/samples/plans -months "$months" -owner "$owner" > "$dir/plans-$owner.yaml"
  # RBAC follows a new RoleBinding within moments, not at once.
  for try in $(seq 1 20); do
    if out=$(kubectl create -n "$namespace" --as "$owner" -f "$dir/plans-$owner.yaml" 2>&1); then
      echo "$out" | sed "s/\$/ (as $owner)/; s/^/  /"
      break
    fi
    [[ $try == 20 ]] && { echo "$out" >&2; exit 1; }
    sleep 0.5
  done
done
echo "  the cluster administrator tries to create a plan in a member's name (the admission policy refuses):"
"$bin/samples" -dir config/samples/plans -months "$months" -owner u-ally-005 | sed 's/name: emery-2026/name: emery-forged/' |
  kubectl create -n "$namespace" -f - 2>&1 | fold -s -w 110 | sed 's/^/    /' || true

kubectl wait -n "$namespace" --all --timeout=60s --for=jsonpath='{.status.observedGeneration}'=1 aplan > /dev/null

# Short names; 'kubectl get learning' (the category) lists all five kinds at once.
for kind in cop coh mbr lev aplan; do
  step "kubectl get $kind -n $namespace"
  kubectl get -n "$namespace" "$kind"
done

step "conditions of the cohorts"
kubectl get -n "$namespace" coh -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{range .status.conditions[*]}{"  "}{.type}={.status} ({.reason}) {.message}{"\n"}{end}{end}'

step "memberships that are waitlisted or below the attendance commitment"
kubectl get -n "$namespace" mbr -o jsonpath='{range .items[*]}{.metadata.name}{range .status.conditions[?(@.reason=="Waitlisted")]}{"\t"}{.type}={.status}: {.message}{end}{range .status.conditions[?(@.reason=="BelowThreshold")]}{"\t"}{.type}={.status}: {.message}{end}{range .status.conditions[?(@.reason=="CannotReachThreshold")]}{"\t"}{.type}={.status}: {.message}{end}{"\n"}{end}' | grep -P '\t' || true

step "events awaiting attendance or approval"
kubectl get -n "$namespace" lev -o jsonpath='{range .items[*]}{.metadata.name}{range .status.conditions[?(@.status=="False")]}{"\t"}{.type}=False ({.reason}) {.message}{end}{"\n"}{end}' | grep -P '\t' || true

step "Casey checks in on her plan today, as herself, and shares it with the cohort (kubectl cohort checkin)"
cohort_plugin() { "$bin/kubectl-cohort" --kubeconfig "$dir/kubeconfig" -n "$namespace" "$@"; }
cohort_plugin checkin casey-2026 --as u-ally-003 --shared --progress "mentor=InProgress:The second newcomer postponed twice" \
  --learned "Asking before advising changed the conversation." --adjust "Book the sessions a month ahead." | sed 's/^/  /'
echo "  Devon, her partner, may read her plan but not check in on it:"
cohort_plugin checkin casey-2026 --as u-ally-004 --learned "Not mine to write." 2>&1 | fold -s -w 110 | sed 's/^/    /' || true
kubectl wait -n "$namespace" --timeout=30s --for=jsonpath='{.status.observedGeneration}'=2 aplan/casey-2026 > /dev/null

step "kubectl cohort actions $cohort (as the cluster administrator: the members' and the built-in roles list no plans)"
cohort_plugin actions "$cohort" | sed 's/^/  /'

step "action plans: whether each is current, and the cohorts' figures"
kubectl get -n "$namespace" aplan -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.conditions[?(@.type=="PlanCurrent")].reason}: {.status.conditions[?(@.type=="PlanCurrent")].message}{"\n"}{end}' | sed 's/^/  /'
kubectl get -n "$namespace" coh -o jsonpath='{range .items[*]}{.metadata.name}{"\t"}{.status.actionPlans.summary}{"\n"}{end}' | sed 's/^/  /'
echo "  on the agenda of $cohort's next gathering (its overview document, counts and shared reflections only):"
kubectl get -n "$namespace" cm "$cohort-overview" -o jsonpath='{.data.overview\.json}' |
  sed -n '/^  "agenda": {/,/^  }/p' | { grep -E '^ +"(title|by|at|learned|adjust)": ' || true; } | sed 's/^ */    /'

step "Kubernetes Events on transitions"
kubectl get -n "$namespace" events.events.k8s.io --sort-by=.metadata.creationTimestamp \
  -o custom-columns=REASON:.reason,OBJECT:.regarding.name,NOTE:.note | awk 'NR == 1 || $1 != "Seated"' | head -n 20

step "services provisioned for $cohort"
kubectl wait -n "$namespace" --timeout=60s --for=condition=Provisioned "coh/$cohort" > /dev/null
kubectl get -n "$namespace" -l "app.kubernetes.io/managed-by=cohort-operator,learning.cohort.dev/cohort=$cohort" \
  role,rolebinding,configmap,serviceaccount,deployment,service,networkpolicy

step "the portal of $cohort, run here as a process with the portal's ServiceAccount"
portal_sa=system:serviceaccount:$namespace:$cohort-portal
KUBECONFIG=$dir/kubeconfig "$bin/manager" portal --as "$portal_sa" --namespace "$namespace" --cohort "$cohort" \
  --roster-configmap "$cohort-roster" --calendar-configmap "$cohort-calendar" --overview-configmap "$cohort-overview" \
  --address "$portal_addr" > "$dir/portal.log" 2>&1 &
portal_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "http://$portal_addr/readyz" > /dev/null 2>&1 && break
  kill -0 "$portal_pid" 2>/dev/null || { cat "$dir/portal.log" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "http://$portal_addr/readyz" > /dev/null
echo "  portal: http://$portal_addr/   (calendar.ics, roster.json, metrics beside it)"
echo "  in a cluster, members open it through the API server's service proxy:"
echo "  kubectl proxy, then /api/v1/namespaces/$namespace/services/$cohort-portal:http/proxy/"
echo "  the first lines of its calendar:"
curl -fsS "http://$portal_addr/calendar.ics" -o "$dir/calendar.ics"
head -n 24 "$dir/calendar.ics" | sed 's/^/    /'

step "who may do what (kubectl auth can-i, decided by the API server)"
event=$cohort-gathering-01
who() { kubectl get -n "$namespace" mbr "$1" -o jsonpath='{.spec.member}'; }
lead=$(who allyship-2026-lead-1) seated=$(who allyship-2026-member-01) waiting=$(who allyship-2026-member-22)
echo "  $waiting waits at position $(kubectl get -n "$namespace" mbr allyship-2026-member-22 -o jsonpath='{.status.waitlistPosition}') for a Member seat"
# Events carry attendance notes (reasons for absences): only Edit roles get their
# cohort's own events, and no member role gets a community-wide event.
wide=allyship-listening-session-2026-09
printf '  %-34s %-11s %-10s %-13s %-15s %-11s %-12s\n' "USER" "GET COHORT" "GET EVENT" "UPDATE EVENT" "GET COMMUNITY" "GET ROSTER" "OPEN PORTAL"
for user in "$lead (Lead, Edit)" "$seated (seated Member)" "$waiting (waitlisted)" "u-outsider (outsider)"; do
  name=${user%% *}
  can() { kubectl auth can-i -n "$namespace" --as "$name" "$@" 2>/dev/null || true; }
  printf '  %-34s %-11s %-10s %-13s %-15s %-11s %-12s\n' "$user" \
    "$(can get "cohorts.learning.cohort.dev/$cohort")" \
    "$(can get "learningevents.learning.cohort.dev/$event")" \
    "$(can update "learningevents.learning.cohort.dev/$event")" \
    "$(can get "learningevents.learning.cohort.dev/$wide")" \
    "$(can get "configmaps/$cohort-roster")" \
    "$(can get "services/$cohort-portal:http" --subresource=proxy)"
done

step "who may read and update an action plan (kubectl auth can-i, decided by the API server)"
printf '  %-36s %-14s %-17s %-14s\n' "USER" "GET casey-2026" "UPDATE casey-2026" "LIST PLANS"
for user in "u-ally-003 (owner)" "u-ally-004 (partner)" "$lead (Lead, Edit)" "$waiting (waitlisted)"; do
  name=${user%% *}
  can() { kubectl auth can-i -n "$namespace" --as "$name" "$@" 2>/dev/null || true; }
  printf '  %-36s %-14s %-17s %-14s\n' "$user" "$(can get actionplans.learning.cohort.dev/casey-2026)" \
    "$(can update actionplans.learning.cohort.dev/casey-2026)" "$(can list actionplans.learning.cohort.dev)"
done

step "an external communication, approved by the community's approver with plain kubectl"
talk=allyship-speaker-series-2026-12
approver=$(kubectl get -n "$namespace" cop allyship -o jsonpath='{.spec.approvers[0].name}')
hash=$(kubectl get -n "$namespace" lev "$talk" -o jsonpath='{.status.contentHash}')
echo "  $talk: $(kubectl get -n "$namespace" lev "$talk" -o jsonpath='{.status.conditions[?(@.type=="Approved")].reason}'), content hash $hash"
approve() {
  local as=()
  [[ -n "$1" ]] && as=(--as "$1")
  kubectl patch -n "$namespace" lev "$talk" --type=merge "${as[@]}" \
    -p "{\"spec\":{\"approval\":{\"approver\":\"$2\",\"contentHash\":\"$hash\"}}}" 2>&1 | fold -s -w 110 | sed 's/^/    /'
}
echo "  the lead $lead tries to approve it as themselves (RBAC refuses: leads edit only their cohort's events):"
approve "$lead" "$lead" || true
echo "  the cluster administrator tries to approve it in the approver's name (the admission policy refuses):"
approve "" "$approver" || true
echo "  the approver $approver approves it as themselves (the operator bound them; nothing granted by hand):"
approve "$approver" "$approver"
kubectl wait -n "$namespace" --timeout=30s --for=condition=Approved "lev/$talk" > /dev/null
echo "  $talk: Approved=$(kubectl get -n "$namespace" lev "$talk" -o jsonpath='{.status.conditions[?(@.type=="Approved")].status}'); in the calendar: $(kubectl get -n "$namespace" cm "$cohort-calendar" -o jsonpath='{.data.calendar\.ics}' | tr -d '\r\n ' | grep -c "$talk" || true)"

step "program reports: the community turns reporting on (monthly; graceDays 0 so that last month is final today)"
kubectl patch -n "$namespace" cop allyship --type=merge -p '{"spec":{"reporting":{"cadence":"Monthly","graceDays":0,"kpis":[
  {"name":"AttendanceRate","target":80,"direction":"AtLeast"},
  {"name":"SeatsFilled","qualifier":"Member","target":15,"direction":"AtLeast"},
  {"name":"GatheringsHeld","target":1,"direction":"AtLeast"},
  {"name":"ExternalEventsApproved","target":1,"direction":"AtLeast"},
  {"name":"Withdrawals","target":1,"direction":"AtMost"},
  {"name":"PlansCurrent","target":75,"direction":"AtLeast"}]}}}' | sed 's/^/  /'
this_month=$(date -u +%Y-%m)
last_month=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%Y-%m)
last_report="community-allyship-$last_month"
for _ in $(seq 1 60); do
  kubectl get -n "$namespace" preport "$last_report" "community-allyship-$this_month" > /dev/null 2>&1 && break
  sleep 0.5
done
kubectl wait -n "$namespace" --timeout=30s --for=jsonpath='{.status.phase}'=Frozen "preport/$last_report" > /dev/null
kubectl wait -n "$namespace" --timeout=30s --for=jsonpath='{.status.phase}'=Open "preport/community-allyship-$this_month" > /dev/null
echo "  one report per month since the cohort began, the months before this one frozen at once (created after they closed):"
kubectl get -n "$namespace" preport | sed 's/^/  /'
owner=program-owner@example.org
kubectl create rolebinding program-owner -n "$namespace" --clusterrole=cohort-editor-role --user="$owner" > /dev/null
echo "  the program owner $owner, a namespace editor (the shipped editor role, aggregated into edit), writes last month's narrative:"
kubectl patch -n "$namespace" preport "$last_report" --type=merge --as "$owner" -p '{"spec":{"narrative":{
  "successes":"Members led two listening sessions at their own organizations.",
  "challenges":"Attendance dips in the weeks before the holidays.",
  "bestPractices":"Pairing new members with an accountability partner from the start.",
  "nextSteps":"Recruit a second co-lead; move the December gathering online."}}}' | sed 's/^/    /'
echo "  editors may update reports but not create or delete them, nor write their figures (the admission policy refuses):"
printf '    create: %s, delete: %s\n' "$(kubectl auth can-i -n "$namespace" --as "$owner" create programreports.learning.cohort.dev 2>/dev/null || true)" \
  "$(kubectl auth can-i -n "$namespace" --as "$owner" delete programreports.learning.cohort.dev 2>/dev/null || true)"
kubectl patch -n "$namespace" preport "community-allyship-$this_month" --type=merge --as "$owner" \
  -p '{"spec":{"figures":{"frozenAt":"2026-01-01T00:00:00Z","kpis":[]}}}' 2>&1 | fold -s -w 110 | sed 's/^/    /' || true
kubectl wait -n "$namespace" --timeout=30s --for=jsonpath='{.status.observedGeneration}'=2 "preport/$last_report" > /dev/null
report_hash=$(kubectl get -n "$namespace" preport "$last_report" -o jsonpath='{.status.contentHash}')
echo "  the approver $approver approves the frozen figures and the narrative as themselves (content hash $report_hash):"
kubectl patch -n "$namespace" preport "$last_report" --type=merge --as "$approver" \
  -p "{\"spec\":{\"approval\":{\"approver\":\"$approver\",\"contentHash\":\"$report_hash\"}}}" | sed 's/^/    /'
kubectl wait -n "$namespace" --timeout=30s --for=condition=Approved "preport/$last_report" > /dev/null

step "kubectl cohort report allyship --period $last_month (approved; Markdown for people, -o csv for spreadsheets)"
cohort_plugin report allyship --period "$last_month" | sed 's/^/  /'
step "kubectl cohort report allyship (this month's draft: open, awaiting its freeze and approval)"
cohort_plugin report allyship | sed 's/^/  /'
echo "  Approved: $(kubectl get -n "$namespace" preport "community-allyship-$this_month" -o jsonpath='{.status.conditions[?(@.type=="Approved")].reason}: {.status.conditions[?(@.type=="Approved")].message}')"
step "every program's latest KPIs at a glance: kubectl get programreports -A -l learning.cohort.dev/latest=true"
kubectl get programreports -A -l learning.cohort.dev/latest=true | sed 's/^/  /'

if [[ "${DEMO_KEEP:-}" == "1" ]]; then
  step "the local cluster and the manager keep running; press Ctrl-C to stop them"
  echo "  export KUBECONFIG=$dir/kubeconfig"
  echo "  $KUBEBUILDER_ASSETS/kubectl get learning -n $namespace   # every kind of the program"
  echo "  metrics: curl http://$metrics_addr/metrics"
  echo "  portal: http://$portal_addr/"
  wait "$manager_pid"
fi
step "demo finished; stopping the manager and the local cluster"
