package main

import (
	"slices"
	"testing"
)

func TestSharedFlag(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		shared bool
		rest   []string
	}{
		{name: "a cohort's portal", args: []string{"--cohort=spring", "--namespace=learning"}, rest: []string{"--cohort=spring", "--namespace=learning"}},
		{name: "--shared", args: []string{"--shared", "--namespace=learning"}, shared: true, rest: []string{"--namespace=learning"}},
		{name: "-shared anywhere", args: []string{"--namespace=learning", "-shared"}, shared: true, rest: []string{"--namespace=learning"}},
		{name: "--shared=true", args: []string{"--shared=true"}, shared: true, rest: []string{}},
		{name: "--shared=false", args: []string{"--shared=false", "--cohort=spring"}, rest: []string{"--cohort=spring"}},
		{name: "not a boolean: left to the flag set to refuse", args: []string{"--shared=maybe"}, rest: []string{"--shared=maybe"}},
		{name: "a value that mentions it", args: []string{"--audience=shared"}, rest: []string{"--audience=shared"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			shared, rest := sharedFlag(tc.args)
			if shared != tc.shared || !slices.Equal(rest, tc.rest) {
				t.Errorf("sharedFlag(%q) = %v, %q; want %v, %q", tc.args, shared, rest, tc.shared, tc.rest)
			}
		})
	}
}
