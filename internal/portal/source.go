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
// ConfigMap) and decodes the documents they hold.
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
	rosterCM, err := get(s.roster)
	if err != nil {
		return Documents{}, err
	}
	if err := decodeJSON(rosterCM, publish.RosterKey, &docs.Roster); err != nil {
		return Documents{}, err
	}
	overviewCM, err := get(s.overview)
	if err != nil {
		return Documents{}, err
	}
	if err := decodeJSON(overviewCM, publish.OverviewKey, &docs.Overview); err != nil {
		return Documents{}, err
	}
	calendarCM, err := get(s.calendar)
	if err != nil {
		return Documents{}, err
	}
	if docs.Calendar, err = calendarData(calendarCM); err != nil {
		return Documents{}, err
	}
	return docs, nil
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
