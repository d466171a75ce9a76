package samples

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"
)

// documentSeparator splits a YAML stream into its documents.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// ByOwner splits a rendered stream of ActionPlans by their spec.owner, the user each
// must be created as (the action-plan admission policy admits a plan only from its
// owner). It returns the owners in the order their first plan appears, and each
// owner's plans as a YAML stream; a document that is not an object with a
// spec.owner is an error, and comments between documents are dropped.
func ByOwner(stream string) (owners []string, plans map[string]string, err error) {
	plans = map[string]string{}
	for _, doc := range documentSeparator.Split(stream, -1) {
		var obj struct {
			Kind     string `json:"kind"`
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
			Spec struct {
				Owner string `json:"owner"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			return nil, nil, fmt.Errorf("decoding a sample plan: %w", err)
		}
		if obj.Kind == "" {
			continue // only comments
		}
		if obj.Spec.Owner == "" {
			return nil, nil, fmt.Errorf("%s %s has no spec.owner to create it as", obj.Kind, obj.Metadata.Name)
		}
		if !slices.Contains(owners, obj.Spec.Owner) {
			owners = append(owners, obj.Spec.Owner)
		} else {
			plans[obj.Spec.Owner] += "---\n"
		}
		plans[obj.Spec.Owner] += strings.TrimLeft(doc, "\n")
	}
	return owners, plans, nil
}
