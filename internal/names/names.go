// Package names derives the names of the objects and label values the operator makes
// for a cohort. One rule serves every kind: "<cohort>-<suffix>" when it fits the kind's
// limit, otherwise a truncated prefix of that name plus an 8-character hash of the whole
// of it, so that two long cohort names never collide and the same inputs always give the
// same name.
package names

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Limits of the kinds of names the operator derives.
const (
	// ObjectLimit is the length limit of most object names (DNS-1123 subdomains).
	ObjectLimit = validation.DNS1123SubdomainMaxLength
	// LabelLimit is the length limit of label values, and of Service names (DNS-1035
	// labels).
	LabelLimit = validation.LabelValueMaxLength
)

// hashLength is how many hex characters of the SHA-256 of the full name a shortened
// name keeps.
const hashLength = 8

// Derive returns the name of something derived from base: "<base>-<suffix>" (just base
// when suffix is empty) when that fits in limit characters, otherwise its first
// characters, with any trailing '-' or '.' removed, then '-' and the first 8 hex
// characters of the SHA-256 of the full name. base and suffix are DNS-1123 names or
// parts of them, so the result is one too.
func Derive(base, suffix string, limit int) string {
	full := base
	if suffix != "" {
		full = base + "-" + suffix
	}
	if len(full) <= limit {
		return full
	}
	sum := sha256.Sum256([]byte(full))
	hash := hex.EncodeToString(sum[:])[:hashLength]
	prefix := strings.TrimRight(full[:max(limit-hashLength-1, 0)], "-.")
	if prefix == "" {
		return hash
	}
	return prefix + "-" + hash
}

// CohortLabel is the value of a label that names a cohort: the cohort's name when it is
// a valid label value (63 characters at most, no dots at the ends), otherwise its
// derived short form.
func CohortLabel(cohort string) string {
	return Derive(cohort, "", LabelLimit)
}

// DNS1035 returns the derived name for kinds whose names must be DNS-1035 labels, such
// as Services: at most 63 characters and starting with a letter. A base that starts
// with a digit gets the prefix "c-" (for cohort).
func DNS1035(base, suffix string) string {
	if base != "" && (base[0] < 'a' || base[0] > 'z') {
		base = "c-" + base
	}
	return Derive(strings.ReplaceAll(base, ".", "-"), suffix, LabelLimit)
}
