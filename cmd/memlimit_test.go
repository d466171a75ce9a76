package main

import (
	"strings"
	"testing"
)

func TestGoMemoryLimit(t *testing.T) {
	cases := []struct {
		name, gomemlimit, limit string
		ratio                   float64
		want                    int64
		err                     string
	}{
		{name: "90% of 256Mi", limit: "268435456", ratio: 0.9, want: 241591910},
		{name: "the whole limit", limit: "1073741824", ratio: 1, want: 1073741824},
		{name: "GOMEMLIMIT wins", gomemlimit: "100MiB", limit: "268435456", ratio: 0.9},
		{name: "no limit given", limit: "", ratio: 0.9},
		{name: "a quantity is not bytes", limit: "256Mi", ratio: 0.9, err: "MEMORY_LIMIT"},
		{name: "a zero limit", limit: "0", ratio: 0.9, err: "MEMORY_LIMIT"},
		{name: "a ratio over one", limit: "268435456", ratio: 1.5, err: "--go-memory-limit-ratio"},
		{name: "a zero ratio", limit: "268435456", ratio: 0, err: "--go-memory-limit-ratio"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := goMemoryLimit(tc.gomemlimit, tc.limit, tc.ratio)
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one naming %s", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("limit %d, want %d", got, tc.want)
			}
		})
	}
}

func TestGoGCPercent(t *testing.T) {
	cases := []struct {
		name, gogc string
		percent    int
		want       int
		err        bool
	}{
		{name: "the default", percent: defaultGoGCPercent, want: 30},
		{name: "GOGC wins", gogc: "200", percent: 50},
		{name: "GOGC=off wins too", gogc: "off", percent: 50},
		{name: "too small", percent: 5, err: true},
		{name: "too large", percent: 5000, err: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := goGCPercent(tc.gogc, tc.percent)
			if (err != nil) != tc.err || (err != nil && !strings.Contains(err.Error(), "--go-gc-percent")) {
				t.Fatalf("error %v, want one naming --go-gc-percent: %v", err, tc.err)
			}
			if got != tc.want {
				t.Errorf("percent %d, want %d", got, tc.want)
			}
		})
	}
}
