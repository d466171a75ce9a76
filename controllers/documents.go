package controllers

import (
	"encoding/json"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/names"
	"github.com/cohort-dev/cohort-operator/internal/program"
	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// documents are the names of the first part of each document: the roster, the
// calendar and the overview, which exist whatever the documents hold.
func (n childNames) documents() []string { return []string{n.Roster, n.Calendar, n.Overview} }

// documentParts are the names of the ConfigMaps holding pub's documents, which the
// portal and the members may get: every part of the roster, the calendar, and every
// part of the overview. A publication not rendered yet has one part of each.
func (n childNames) documentParts(pub program.Publication) []string {
	out := n.parts(n.Roster, "roster", len(pub.Documents.Roster.Parts))
	out = append(out, n.Calendar)
	return append(out, n.parts(n.Overview, "overview", len(pub.Documents.Overview.Parts))...)
}

// parts are the names of the ConfigMaps of a document in count parts: first, then
// "<cohort>-<suffix>-2", "-3" and on, each derived by the one naming rule, so that a
// part keeps its name for as long as the document has that many parts.
func (n childNames) parts(first, suffix string, count int) []string {
	out := []string{first}
	for i := 2; i <= count; i++ {
		out = append(out, names.Derive(n.cohortName, suffix+"-"+strconv.Itoa(i), names.ObjectLimit))
	}
	return out
}

// documentChildren are the ConfigMaps holding the roster, the calendar and the
// overview as the publication rendered them, one per part. It cannot fail: the
// evaluation rendered the documents (program.RenderDocuments), so a document that
// cannot be rendered never holds back the members' access.
//
// A document of one part is one ConfigMap with one key. A document of several parts
// has, in each ConfigMap, its part under the document's key and a manifest under
// publish.PartsKey; the first part's manifest names the others. The later parts come
// first, so that a reader who finds a new manifest finds its parts written (and one
// who finds parts of two renders sees their digests differ).
func documentChildren(cohort *learningv1alpha1.Cohort, n childNames, pub program.Publication) []client.Object {
	configMap := func(name string, data map[string]string) client.Object {
		return &corev1.ConfigMap{ObjectMeta: n.meta(cohort, name, componentDocuments), Data: data}
	}
	split := func(doc publish.Document, first, suffix, key string) []client.Object {
		partNames := n.parts(first, suffix, len(doc.Parts))
		if len(doc.Parts) == 1 {
			return []client.Object{configMap(first, map[string]string{key: string(doc.Parts[0])})}
		}
		objs := make([]client.Object, len(doc.Parts))
		for i, part := range doc.Parts {
			m := publish.Manifest{Part: i + 1, Parts: len(doc.Parts), Digest: doc.Digest}
			if i == 0 {
				m.Next = partNames[1:]
			}
			manifest, _ := json.Marshal(m) // strings and numbers: nothing to fail
			objs[(i+len(doc.Parts)-1)%len(doc.Parts)] = configMap(partNames[i], map[string]string{key: string(part), publish.PartsKey: string(manifest)})
		}
		return objs
	}
	objs := split(pub.Documents.Roster, n.Roster, "roster", publish.RosterKey)
	objs = append(objs, configMap(n.Calendar, map[string]string{publish.CalendarKey: string(pub.Documents.Calendar)}))
	return append(objs, split(pub.Documents.Overview, n.Overview, "overview", publish.OverviewKey)...)
}
