package controllers

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	learningv1alpha1 "github.com/cohort-dev/cohort-operator/api/v1alpha1"
	"github.com/cohort-dev/cohort-operator/internal/testutil"
)

// TestHistoryImportedCohortIsSeated applies last year's completed cohort with its
// memberships and recorded attendance, as a team moving a program from spreadsheets
// does, while this year's cohort runs. With two Lead seats, the two earliest-created
// memberships are seated from the start of their term and get their final
// attendance; the third never held a seat (Seated=False/NeverSeated). The served terms
// count toward the limit of one consecutive term: a new membership of the same person
// in the running cohort is TermLimitReached, while a person who held a seat there
// before the history arrived keeps it (Eligible=True/SeatKept, seatedSince unchanged).
// Imported memberships get no Expired Events: their terms ended before anyone watched.
func TestHistoryImportedCohortIsSeated(t *testing.T) {
	fakeClock.SetTime(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC))
	ns := testutil.Namespace(t, k8s)
	lead := testutil.Role("Lead", 0, 2)
	lead.MaxConsecutiveTerms = testutil.Ptr[int32](1)
	create(t,
		testutil.Community(ns, "cop", lead),
		testutil.Cohort(ns, "c2026", "cop", "2026-01-01", 12),
		testutil.Membership(ns, "bea-2026", "c2026", "u-bea", "Lead"),
	)
	eventually(t, "bea holds a seat in the running cohort", seatsXSeat(ns, "bea-2026", "seated"))
	beaSince := seatsXSeatedSince(t, ns, "bea-2026")
	// The history arrives later, once the manager's cache holds the seat.
	time.Sleep(1100 * time.Millisecond)

	// The import: the completed cohort, its memberships in the order the spreadsheet
	// lists them, and its gatherings with attendance.
	create(t, testutil.Cohort(ns, "c2025", "cop", "2025-01-01", 12))
	for _, person := range []string{"ann", "bea", "cal"} {
		create(t, testutil.Membership(ns, person+"-2025", "c2025", "u-"+person, "Lead"))
	}
	present, absent := learningv1alpha1.AttendancePresent, learningv1alpha1.AttendanceAbsent
	for i, month := range []time.Month{time.February, time.March, time.April, time.May} {
		bea := present
		if i%2 == 1 {
			bea = absent
		}
		create(t, testutil.Gathering(ns, fmt.Sprintf("g-2025-%d", month), "c2025", time.Date(2025, month, 11, 18, 0, 0, 0, time.UTC),
			testutil.Attended("ann-2025", present), testutil.Attended("bea-2025", bea), testutil.Attended("cal-2025", present)))
	}

	termStart := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	eventually(t, "the two earliest memberships are seated from their term's start with their final attendance", func() error {
		for name, percent := range map[string]int32{"ann-2025": 100, "bea-2025": 50} {
			m := membership(ns, name)
			if err := get(m); err != nil {
				return err
			}
			if m.Status.SeatedSince == nil || !m.Status.SeatedSince.Time.Equal(termStart) {
				return fmt.Errorf("%s has seatedSince %v, want %s", name, m.Status.SeatedSince, termStart)
			}
			if a := m.Status.Attendance; a == nil || a.EligibleEvents != 4 || a.Percent == nil || *a.Percent != percent {
				return fmt.Errorf("%s has attendance %+v, want %d%% of 4 events", name, a, percent)
			}
			if err := hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.TermExpiredReason); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	})
	eventually(t, "the third never held a seat, and says so", func() error {
		m := membership(ns, "cal-2025")
		if err := get(m); err != nil {
			return err
		}
		if m.Status.SeatedSince != nil || m.Status.Attendance != nil {
			return fmt.Errorf("cal-2025 has seatedSince %v and attendance %+v, want neither", m.Status.SeatedSince, m.Status.Attendance)
		}
		return hasCondition(m.Status.Conditions, learningv1alpha1.SeatedCondition, metav1.ConditionFalse, learningv1alpha1.NeverSeatedReason)
	})
	eventually(t, "the completed cohort reports its final seats", func() error {
		c, err := seatsXCohort(ns, "c2025")
		if err != nil {
			return err
		}
		if c.Status.Phase != learningv1alpha1.CohortCompleted || c.Status.Seats != "Lead 2/2" {
			return fmt.Errorf("c2025 is %s with seats %q, want Completed with Lead 2/2", c.Status.Phase, c.Status.Seats)
		}
		return nil
	})

	// Imported history did not expire while the operator watched: no Expired Events.
	for _, name := range []string{"ann-2025", "bea-2025", "cal-2025"} {
		if err := hasEvent(ns, name, "Expired"); err == nil {
			t.Errorf("%s, imported after its term, got an Expired Event", name)
		}
	}

	eventually(t, "the seat bea held before her history arrived is kept", seatsXEligible(ns, "bea-2026", metav1.ConditionTrue, learningv1alpha1.SeatKeptReason))
	if err := seatsXSeat(ns, "bea-2026", "seated")(); err != nil {
		t.Fatal(err)
	}
	if got := seatsXSeatedSince(t, ns, "bea-2026"); !got.Equal(beaSince) {
		t.Fatalf("bea-2026's seatedSince moved from %s to %s", beaSince, got)
	}

	create(t, testutil.Membership(ns, "ann-2026", "c2026", "u-ann", "Lead"))
	eventually(t, "ann's imported term reaches the limit for her next one", seatsXEligible(ns, "ann-2026", metav1.ConditionFalse, learningv1alpha1.TermLimitReachedReason))
	eventually(t, "ann's next term gets no seat", seatsXSeat(ns, "ann-2026", learningv1alpha1.NotEligibleReason))
}
