package calendar

import (
	"sync"
	"time"
)

// locations are the time zones loaded so far, by name: at most the IANA database's
// few hundred.
var locations sync.Map

// LoadLocation is time.LoadLocation, each zone loaded once per process. Loading reads
// and parses the zone's rules, a few kilobytes, and every evaluation of a program
// resolves the zones of its cohorts, schedules and reports: shared, the manager holds
// one copy of each zone rather than one per cohort view, and reads none again. An
// unknown name is not remembered.
func LoadLocation(name string) (*time.Location, error) {
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	actual, _ := locations.LoadOrStore(name, loc)
	return actual.(*time.Location), nil
}
