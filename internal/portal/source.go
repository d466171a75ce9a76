package portal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// Documents are the cohort's published documents, as the portal serves them.
type Documents struct {
	Roster   publish.Roster
	Overview publish.Overview
	// Calendar is the iCalendar feed (RFC 5545), served as it was published.
	Calendar []byte
}

// A Source loads the cohort's documents. Load returns either all three documents or
// an error, so that the portal never mixes documents of two refreshes with one missing.
type Source interface {
	Load(ctx context.Context) (Documents, error)
}

// ConfigMapSource loads the documents from the cohort's ConfigMaps with one GET by
// name per ConfigMap: it never lists or watches, because the portal's Role grants only
// get on those names.
type ConfigMapSource struct {
	client    kubernetes.Interface
	namespace string
	roster    string
	calendar  string
	overview  string
}

// NewConfigMapSource returns a Source that reads the ConfigMaps that opts names in
// opts.Namespace.
func NewConfigMapSource(client kubernetes.Interface, opts Options) *ConfigMapSource {
	return &ConfigMapSource{
		client:    client,
		namespace: opts.Namespace,
		roster:    opts.RosterConfigMap,
		calendar:  opts.CalendarConfigMap,
		overview:  opts.OverviewConfigMap,
	}
}

// Load gets the three ConfigMaps (once each, also when two names are the same
// ConfigMap), and the further parts of a roster or overview split over several
// (publish.Manifest), and decodes the documents they hold.
func (s *ConfigMapSource) Load(ctx context.Context) (Documents, error) {
	got := map[string]*corev1.ConfigMap{}
	get := func(name string) (*corev1.ConfigMap, error) {
		if cm, ok := got[name]; ok {
			return cm, nil
		}
		cm, err := s.client.CoreV1().ConfigMaps(s.namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("getting ConfigMap %s/%s: %w", s.namespace, name, err)
		}
		got[name] = cm
		return cm, nil
	}
	var docs Documents
	rosters, err := loadParts[publish.Roster](get, s.roster, publish.RosterKey)
	if err != nil {
		return Documents{}, err
	}
	docs.Roster = publish.MergeRoster(rosters)
	overviews, err := loadParts[publish.Overview](get, s.overview, publish.OverviewKey)
	if err != nil {
		return Documents{}, err
	}
	docs.Overview = publish.MergeOverview(overviews)
	calendarCM, err := get(s.calendar)
	if err != nil {
		return Documents{}, err
	}
	if docs.Calendar, err = calendarData(calendarCM); err != nil {
		return Documents{}, err
	}
	return docs, nil
}

// loadParts gets and decodes the parts of the JSON document under key whose first
// part is the ConfigMap first: just that one when it has no manifest, otherwise every
// part its manifest names, in order. Parts of two renders (their digests differ, as
// while the manager rewrites them) are an error, so that the portal keeps serving the
// documents it had and reads them again at the next refresh.
func loadParts[T any](get func(string) (*corev1.ConfigMap, error), first, key string) ([]T, error) {
	cm, err := get(first)
	if err != nil {
		return nil, err
	}
	var part T
	if err := decodeJSON(cm, key, &part); err != nil {
		return nil, err
	}
	head, err := manifestOf(cm)
	if err != nil || head == nil {
		return []T{part}, err
	}
	if head.Part != 1 || head.Parts != len(head.Next)+1 {
		return nil, fmt.Errorf("%s of ConfigMap %s/%s: part %d of %d naming %d more, want the first part naming the others", publish.PartsKey, cm.Namespace, cm.Name, head.Part, head.Parts, len(head.Next))
	}
	parts := []T{part}
	for i, name := range head.Next {
		if cm, err = get(name); err != nil {
			return nil, err
		}
		m, err := manifestOf(cm)
		if err != nil {
			return nil, err
		}
		if m == nil || m.Part != i+2 || m.Parts != head.Parts || m.Digest != head.Digest {
			return nil, fmt.Errorf("ConfigMap %s/%s is not part %d of the %s its first part %s describes (being rewritten?)", cm.Namespace, cm.Name, i+2, key, first)
		}
		var next T
		if err := decodeJSON(cm, key, &next); err != nil {
			return nil, err
		}
		parts = append(parts, next)
	}
	return parts, nil
}

// manifestOf returns the parts manifest a ConfigMap holds, nil when it holds a whole
// document.
func manifestOf(cm *corev1.ConfigMap) (*publish.Manifest, error) {
	if _, ok := cm.Data[publish.PartsKey]; !ok {
		return nil, nil
	}
	m := &publish.Manifest{}
	if err := decodeJSON(cm, publish.PartsKey, m); err != nil {
		return nil, err
	}
	return m, nil
}

// document returns the text the ConfigMap holds under key.
func document(cm *corev1.ConfigMap, key string) (string, error) {
	v, ok := cm.Data[key]
	if !ok {
		return "", fmt.Errorf("ConfigMap %s/%s has no key %q", cm.Namespace, cm.Name, key)
	}
	return v, nil
}

// decodeJSON decodes the JSON document under key into v.
func decodeJSON(cm *corev1.ConfigMap, key string, v any) error {
	text, err := document(cm, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return fmt.Errorf("decoding %s of ConfigMap %s/%s: %w", key, cm.Namespace, cm.Name, err)
	}
	return nil
}

// calendarData returns the calendar the ConfigMap holds, after checking that it looks
// like an iCalendar object, so that the portal never serves something else as one.
func calendarData(cm *corev1.ConfigMap) ([]byte, error) {
	text, err := document(cm, publish.CalendarKey)
	if err != nil {
		return nil, err
	}
	b := []byte(text)
	if !bytes.HasPrefix(bytes.TrimLeft(b, "\ufeff"), []byte("BEGIN:VCALENDAR")) {
		return nil, fmt.Errorf("%s of ConfigMap %s/%s: %w", publish.CalendarKey, cm.Namespace, cm.Name, errNotCalendar)
	}
	return b, nil
}

var errNotCalendar = errors.New("not an iCalendar object (no BEGIN:VCALENDAR)")
