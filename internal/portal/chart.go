package portal

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/cohort-dev/cohort-operator/internal/publish"
)

// Geometry of the attendance chart, in the units of its viewBox. The SVG scales to the
// width of its container.
const (
	chartWidth  = 960.0
	chartHeight = 300.0
	plotLeft    = 44.0
	plotRight   = chartWidth - 48.0
	plotTop     = 18.0
	plotBottom  = chartHeight - 34.0
	// maxBarWidth keeps a few bars from becoming slabs.
	maxBarWidth = 56.0
	// maxXLabels is how many event dates fit under the plot; with more events only
	// every n-th is labelled.
	maxXLabels = 12
)

// chart is the attendance chart: one bar per ended event and the required percent as
// a line. Coordinates are strings, formatted once, for the template's attributes.
type chart struct {
	ViewBox string
	// Title and Desc are the chart's text alternative.
	Title string
	Desc  string
	Left  string
	Right string
	// Grid are the horizontal lines at 0, 25, 50, 75 and 100 percent.
	Grid      []gridLine
	Bars      []bar
	RequiredY string
	// RequiredLabel is drawn in the right margin, at the required line.
	RequiredLabel  string
	RequiredLabelX string
	RequiredLabelY string
}

type gridLine struct {
	Y, LabelY, Label string
}

// bar is one ended event. An event whose attendance has no percent (everyone recorded
// was excused) has a label but no bar.
type bar struct {
	X, Y, Width, Height string
	HasValue            bool
	Met                 bool
	Value               string
	// Inside puts the value inside the top of the bar, where a label above it
	// would cross the required line.
	Inside         bool
	ValueX, ValueY string
	Label          string
	LabelY         string
	// Tooltip is the bar's <title>: the event, its date and the figures.
	Tooltip string
}

// newChart lays out the chart of the ended events' attendance.
func newChart(att []publish.EventAttendance, required int32, overall *int32, loc *time.Location) chart {
	y := func(p float64) float64 { return plotBottom - (plotBottom-plotTop)*min(max(p, 0), 100)/100 }
	c := chart{
		ViewBox:        fmt.Sprintf("0 0 %s %s", num(chartWidth), num(chartHeight)),
		Title:          "Attendance at ended gatherings",
		Left:           num(plotLeft),
		Right:          num(plotRight),
		RequiredY:      num(y(float64(required))),
		RequiredLabel:  percent(required),
		RequiredLabelX: num(plotRight + 6),
		RequiredLabelY: num(y(float64(required)) + 4),
	}
	for p := 0.0; p <= 100; p += 25 {
		c.Grid = append(c.Grid, gridLine{Y: num(y(p)), LabelY: num(y(p) + 4), Label: percent(int32(p))})
	}
	n := len(att)
	slot := (plotRight - plotLeft) / float64(n)
	width := min(slot*0.62, maxBarWidth)
	every := (n + maxXLabels - 1) / maxXLabels
	lowest, highest, met, valued := int32(101), int32(-1), 0, 0
	for i, a := range att {
		x := plotLeft + float64(i)*slot + (slot-width)/2
		b := bar{
			X:       num(x),
			Width:   num(width),
			ValueX:  num(x + width/2),
			Value:   "–",
			LabelY:  num(plotBottom + 18),
			Tooltip: fmt.Sprintf("%s, %s: no attendance to count", a.Title, a.Start.In(loc).Format("Jan 2")),
		}
		if i%every == 0 {
			b.Label = a.Start.In(loc).Format("Jan 2")
		}
		if a.Percent != nil {
			p := *a.Percent
			top := y(float64(p))
			b.HasValue = true
			b.Met = p >= required
			b.Y, b.Height = num(top), num(plotBottom-top)
			b.Value = percent(p)
			b.Tooltip = fmt.Sprintf("%s, %s: %s (%d present, %d late, %d excused, %d absent)",
				a.Title, a.Start.In(loc).Format("Jan 2"), percent(p), a.Present, a.Late, a.Excused, a.Absent)
			lowest, highest, valued = min(lowest, p), max(highest, p), valued+1
			if b.Met {
				met++
			}
		}
		vy, inside := valueY(y(float64(derefOr(a.Percent, 0))), y(float64(required)))
		b.ValueY, b.Inside = num(vy), b.HasValue && inside
		// A narrow bar has no room for its value; the table and the tooltip have it.
		if width < 26 {
			b.Value = ""
		}
		c.Bars = append(c.Bars, b)
	}
	c.Desc = chartDescription(att, loc, required, overall, lowest, highest, met, valued)
	return c
}

// chartDescription summarises the chart in words, for its <desc>.
func chartDescription(att []publish.EventAttendance, loc *time.Location, required int32, overall *int32, lowest, highest int32, met, valued int) string {
	first, last := att[0].Start.In(loc), att[len(att)-1].Start.In(loc)
	d := fmt.Sprintf("%d ended %s from %s to %s.", len(att), plural(len(att), "gathering", "gatherings"),
		first.Format("Jan 2, 2006"), last.Format("Jan 2, 2006"))
	if valued > 0 {
		d += fmt.Sprintf(" Attendance ranged from %d%% to %d%%; %d of %d met the required %d%%.", lowest, highest, met, valued, required)
	}
	if overall != nil {
		d += fmt.Sprintf(" The cohort's attendance is %d%%.", *overall)
	}
	return d
}

// valueY is the baseline of a bar's value: above the bar's top, or inside the bar
// when the label would otherwise sit on the required line (and the bar is tall enough).
func valueY(top, requiredY float64) (baseline float64, inside bool) {
	above := top - 6
	center := above - 4
	if d := center - requiredY; d > -8 && d < 8 && plotBottom-top > 24 {
		return top + 15, true
	}
	return above, false
}

func derefOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// num formats a coordinate with at most one decimal.
func num(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }
