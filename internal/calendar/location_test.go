package calendar

import (
	"testing"
	"time"
)

// TestLoadLocation: a zone is loaded once and shared; its rules are the zone's; an
// unknown name is an error each time, never remembered.
func TestLoadLocation(t *testing.T) {
	a, err := LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadLocation("America/Chicago")
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("America/Chicago loaded twice: two locations, want one shared")
	}
	// 18:00 in Chicago on a July day is 23:00 UTC (daylight time), on a January day 00:00.
	if got := time.Date(2026, 7, 1, 18, 0, 0, 0, a).UTC().Hour(); got != 23 {
		t.Errorf("July 18:00 in Chicago is %d:00 UTC, want 23:00", got)
	}
	if got := time.Date(2026, 1, 15, 18, 0, 0, 0, a).UTC().Hour(); got != 0 {
		t.Errorf("January 18:00 in Chicago is %d:00 UTC, want 00:00", got)
	}
	for range 2 {
		if loc, err := LoadLocation("Mars/Olympus_Mons"); err == nil {
			t.Fatalf("unknown zone loaded as %v", loc)
		}
	}
	if _, ok := locations.Load("Mars/Olympus_Mons"); ok {
		t.Error("an unknown zone was remembered")
	}
}
