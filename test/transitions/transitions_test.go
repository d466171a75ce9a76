package transitions

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// chains is how many namespaces run transitions side by side, each with a manager of
// its own.
const chains = 6

// tally counts what the transitions verified.
type tally struct {
	sync.Mutex
	cases, rejections, changes, reverts, revertsFull, oneWay, finals, finalsFull int
}

func (c *tally) add(f func(*tally)) {
	c.Lock()
	defer c.Unlock()
	f(c)
}

// TestTransitions runs every transition case from a converged workload. For each case
// it checks that the invalid change is refused at admission with a message naming the
// field and changes nothing; that the valid change converges without losing history
// (seats held by memberships that may still hold them, seatedSince, terms served,
// calendar sequences); that the specs reached step by step, applied to an empty
// namespace, converge to the same state apart from that history; and that reverting
// to the previous spec restores the previous state apart from that history, again
// without losing it. Cases run in chains, one namespace each; every case starts from
// the state its predecessor reverted to.
func TestTransitions(t *testing.T) {
	all := transitions()
	var oneWay []transition
	groups := make([][]transition, chains)
	n := 0
	for _, c := range all {
		if c.oneWay {
			oneWay = append(oneWay, c)
			continue
		}
		groups[n%chains] = append(groups[n%chains], c)
		n++
	}
	// A one-way change ends its chain: nothing after it starts from the base workload.
	for i, c := range oneWay {
		groups[i%chains] = append(groups[i%chains], c)
	}
	counts := &tally{}
	start := time.Now()
	t.Cleanup(func() {
		c := counts
		t.Logf("%d spec fields (CRD schemas), %d transition cases run in %s across %d namespaces", len(specFields(t)), c.cases, time.Since(start).Round(time.Second), chains)
		t.Logf("%d invalid changes refused at admission naming the field, state unchanged", c.rejections)
		t.Logf("%d valid changes converged with history kept", c.changes)
		t.Logf("%d reverts restored the previous state (%d compared in full, %d apart from seats that history explains); %d one-way changes refused on the way back", c.reverts, c.revertsFull, c.reverts-c.revertsFull, c.oneWay)
		t.Logf("%d final specs applied to an empty namespace gave the step-by-step state (%d in full, %d apart from seats that history explains)", c.finals, c.finalsFull, c.finals-c.finalsFull)
	})
	// The chains run side by side whatever the -parallel flag says: they mostly wait
	// for the operator.
	var wg sync.WaitGroup
	for i, group := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.Run(fmt.Sprintf("chain-%d", i), func(t *testing.T) { runChain(t, group, counts) })
		}()
	}
	wg.Wait()
}

// runChain runs cases one after the other in a namespace of the base workload. A
// case that leaves a seat history behind (a seat that moved, a withdrawal) ends the
// namespace: the next case starts from the base workload in a new one, so that its
// final spec compares in full.
func runChain(t *testing.T, cases []transition, counts *tally) {
	var ns string
	var before state
	var stop func()
	for _, c := range cases {
		if ns == "" {
			if stop != nil {
				stop()
			}
			ns = testutil.Namespace(t, admin)
			stop = startManager(t, ns)
			first, later := baseWorkload(t)
			build(t, ns, first, later, nil)
			before = converge(t, ns, "the base workload")
		}
		ok := t.Run(strings.ReplaceAll(c.field, " ", "/"), func(t *testing.T) {
			counts.add(func(c *tally) { c.cases++ })
			var reusable bool
			before, reusable = runCase(t, ns, c, before, counts)
			if !reusable {
				ns = ""
			}
		})
		if !ok {
			// Later cases would start from a state nobody checked.
			t.FailNow()
		}
	}
}

// runCase runs one case from the converged state before and returns the state the
// next case starts from, and whether that state has the base workload's seats.
func runCase(t *testing.T, ns string, c transition, before state, counts *tally) (state, bool) {
	ctx := context.Background()
	kind, name, _ := strings.Cut(c.object, "/")
	obj := read(t, ns, kind, name)
	previous := deepCopy(obj.Object["spec"].(map[string]any))
	if c.invalid != nil {
		refused(t, ns, obj, edited(t, previous, c.invalid), c)
		after, err := snapshot(ctx, ns)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(before.objects, after.objects) {
			t.Fatalf("the refused change altered the state")
		}
		counts.add(func(c *tally) { c.rejections++ })
	}
	if c.valid == nil {
		t.Logf("no valid change: %s", c.noValid)
		return before, true
	}
	changed := edited(t, previous, c.valid)
	if err := write(ctx, obj, changed); err != nil {
		t.Fatalf("the valid change was refused: %v", err)
	}
	after := converge(t, ns, "after the valid change")
	if problems := kept(before.history(), after.history()); len(problems) > 0 {
		t.Fatalf("the valid change lost history:\n%s", strings.Join(problems, "\n"))
	}
	counts.add(func(c *tally) { c.changes++ })

	if c.noFinal == "" {
		finalSpec(t, ns, before, after, counts)
	} else {
		t.Logf("no final-spec comparison: %s", c.noFinal)
	}

	if c.oneWay {
		err := write(ctx, read(t, ns, kind, name), previous)
		checkRefused(t, err, c)
		counts.add(func(c *tally) { c.oneWay++ })
		return after, false
	}
	if err := write(ctx, read(t, ns, kind, name), previous); err != nil {
		t.Fatalf("reverting to the previous spec was refused: %v", err)
	}
	reverted := converge(t, ns, "after the revert")
	if problems := kept(after.history(), reverted.history()); len(problems) > 0 {
		t.Fatalf("the revert lost history:\n%s", strings.Join(problems, "\n"))
	}
	bef, mid, rev := before.history(), after.history(), reverted.history()
	problems, full := compareStates(before, reverted, func(d seatDiff) []string {
		var out []string
		for _, m := range d.extra {
			if !mid.seated[m] {
				out = append(out, fmt.Sprintf("membership %s holds a seat after the revert, which it held neither before the change nor after it", m))
			}
		}
		for _, m := range d.missing {
			if mid.seated[m] {
				out = append(out, fmt.Sprintf("membership %s held a seat before and after the change but lost it at the revert", m))
			}
		}
		for _, m := range d.moved {
			if mid.seated[m] && mid.since[m] == bef.since[m] {
				out = append(out, fmt.Sprintf("membership %s kept its seat through the change, but after the revert it is seated since %s instead of %s", m, rev.since[m], bef.since[m]))
			}
		}
		return out
	})
	if len(problems) > 0 {
		t.Fatalf("the revert did not restore the previous state:\n%s", strings.Join(problems, "\n"))
	}
	counts.add(func(c *tally) {
		c.reverts++
		if full {
			c.revertsFull++
		}
	})
	return reverted, full
}

// finalSpec applies the specs of every object in ns (except generated gatherings) to
// an empty namespace and compares the state they converge to with the state reached
// step by step, after.
func finalSpec(t *testing.T, ns string, before, after state, counts *tally) {
	t.Helper()
	first, later := baseWorkload(t)
	for _, batch := range [][]object{first, later} {
		for i := range batch {
			o := read(t, ns, batch[i].kind, batch[i].name)
			batch[i].spec = deepCopy(o.Object["spec"].(map[string]any))
		}
	}
	empty := testutil.Namespace(t, admin)
	stop := startManager(t, empty)
	defer stop()
	build(t, empty, first, later, specApprovals(first, later))
	fresh := converge(t, empty, "the final specs in an empty namespace")
	held := before.history()
	stepwise := after.history()
	problems, full := compareStates(after, fresh, func(d seatDiff) []string {
		var out []string
		for _, m := range d.missing {
			if !held.seated[m] {
				out = append(out, fmt.Sprintf("membership %s holds a seat step by step but not from the final spec, and held none before the change", m))
			}
		}
		for _, m := range d.extra {
			if !stepwise.waiting[m] {
				out = append(out, fmt.Sprintf("membership %s holds a seat from the final spec but does not even wait for one step by step", m))
			}
		}
		// A seat given at the first evaluation starts with the term; one given
		// later, when it is given. Step by step, a seat either dates from before the
		// change or was given at it.
		for _, m := range d.moved {
			if held.seated[m] && held.since[m] != stepwise.since[m] {
				out = append(out, fmt.Sprintf("membership %s held its seat through the change, but its seatedSince moved from %s to %s", m, held.since[m], stepwise.since[m]))
			}
		}
		return out
	})
	if len(problems) > 0 {
		t.Fatalf("the final spec applied to an empty namespace gave another state:\n%s", strings.Join(problems, "\n"))
	}
	counts.add(func(c *tally) {
		c.finals++
		if full {
			c.finalsFull++
		}
	})
}

// specApprovals are the approvals the specs carry, by event name.
func specApprovals(batches ...[]object) map[string]map[string]any {
	out := map[string]map[string]any{}
	for _, batch := range batches {
		for _, o := range batch {
			if a, ok := o.spec["approval"].(map[string]any); ok {
				out[o.name] = a
			}
		}
	}
	return out
}

// build creates the workload in ns: first, then a second later the rest, then the
// approvals as the approver gives them. With approvals nil, the approver approves the
// events of approved with the hash the operator computed.
func build(t *testing.T, ns string, first, later []object, approvals map[string]map[string]any) {
	t.Helper()
	ctx := context.Background()
	for i, batch := range [][]object{first, later} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // creation times order the claims
		}
		for _, o := range batch {
			spec := deepCopy(o.spec)
			delete(spec, "approval") // given by the approver, below
			u := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
			u.SetAPIVersion("learning.cohort.dev/v1alpha1")
			u.SetKind(o.kind)
			u.SetNamespace(ns)
			u.SetName(o.name)
			c, err := writer(o.kind, o.spec)
			if err != nil {
				t.Fatalf("creating %s: %v", o.key(), err)
			}
			if err := c.Create(ctx, u); err != nil {
				t.Fatalf("creating %s: %v", o.key(), err)
			}
		}
	}
	if approvals == nil {
		approvals = map[string]map[string]any{}
		for _, name := range approved {
			approvals[name] = map[string]any{"approver": testutil.ApproverUser, "contentHash": contentHash(t, ns, name)}
		}
	}
	for _, name := range sortedKeys(approvals) {
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"approval": approvals[name]}})
		if err != nil {
			t.Fatal(err)
		}
		ev := read(t, ns, "LearningEvent", name)
		// The operator binds the community's approvers to the verb approve.
		testutil.Eventually(t, 30*time.Second, "the approver approves "+name, func() error {
			return approver.Patch(ctx, ev, client.RawPatch(types.MergePatchType, patch))
		})
	}
}

// contentHash waits for the hash the operator computes for an event.
func contentHash(t *testing.T, ns, name string) string {
	t.Helper()
	var hash string
	testutil.Eventually(t, 30*time.Second, "the content hash of "+name, func() error {
		ev := read(t, ns, "LearningEvent", name)
		hash, _, _ = unstructured.NestedString(ev.Object, "status", "contentHash")
		if hash == "" {
			return fmt.Errorf("no status.contentHash yet")
		}
		return nil
	})
	return hash
}

func read(t *testing.T, ns, kind, name string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("learning.cohort.dev/v1alpha1")
	u.SetKind(kind)
	if err := admin.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("reading %s %s: %v", kind, name, err)
	}
	return u
}

func edited(t *testing.T, spec map[string]any, edits []edit) map[string]any {
	t.Helper()
	out := deepCopy(spec)
	for _, e := range edits {
		if err := set(out, e.path, e.value); err != nil {
			t.Fatalf("bad case: %v", err)
		}
	}
	return out
}

// write replaces obj's spec with a JSON patch guarded by its resourceVersion: as the
// approver when the change gives an approval (which only the approver may give as
// themselves), as the plan's owner for an ActionPlan (whose check-ins only their
// author may write), as the administrator otherwise.
func write(ctx context.Context, obj *unstructured.Unstructured, spec map[string]any) error {
	patch, err := json.Marshal([]map[string]any{
		{"op": "test", "path": "/metadata/resourceVersion", "value": obj.GetResourceVersion()},
		{"op": "replace", "path": "/spec", "value": spec},
	})
	if err != nil {
		return err
	}
	old, _ := obj.Object["spec"].(map[string]any)
	c, err := writer(obj.GetKind(), old)
	if err != nil {
		return err
	}
	if a, ok := spec["approval"]; ok && !reflect.DeepEqual(a, old["approval"]) {
		c = approver
	}
	return c.Patch(ctx, obj.DeepCopy(), client.RawPatch(types.JSONPatchType, patch))
}

// writer is the client that creates and changes an object of kind with spec: an
// ActionPlan's owner, who writes its check-ins, or the administrator.
func writer(kind string, spec map[string]any) (client.Client, error) {
	if kind != "ActionPlan" {
		return admin, nil
	}
	owner, _ := spec["owner"].(string)
	c, ok := owners[owner]
	if !ok {
		return nil, fmt.Errorf("no client of plan owner %q: add them to planOwners", owner)
	}
	return c, nil
}

// refused sends an invalid spec and checks that the API server refuses it with a
// message naming the field, and stores nothing.
func refused(t *testing.T, ns string, obj *unstructured.Unstructured, spec map[string]any, c transition) {
	t.Helper()
	err := write(context.Background(), obj, spec)
	checkRefused(t, err, c)
	again := read(t, ns, obj.GetKind(), obj.GetName())
	if again.GetResourceVersion() != obj.GetResourceVersion() {
		t.Fatalf("the refused change was stored: resourceVersion %s, was %s", again.GetResourceVersion(), obj.GetResourceVersion())
	}
}

func checkRefused(t *testing.T, err error, c transition) {
	t.Helper()
	leaf := fieldName(c.field)
	switch {
	case err == nil:
		t.Fatalf("want the change refused with %q, it was admitted", c.want)
	case !apierrors.IsInvalid(err) && !apierrors.IsForbidden(err):
		t.Fatalf("want Invalid or Forbidden naming %s, got %v", leaf, err)
	case !strings.Contains(err.Error(), c.want):
		t.Fatalf("the refusal does not say %q:\n%v", c.want, err)
	case !strings.Contains(err.Error(), leaf):
		t.Fatalf("the refusal does not name the field %s:\n%v", leaf, err)
	}
	t.Logf("refused: %s", firstLine(err.Error()))
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
