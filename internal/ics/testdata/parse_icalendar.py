"""Reads an iCalendar feed on stdin with Python's icalendar and prints, as JSON,
the fields the Go tests compare (see crossparse_test.go).

Exit status 3 means icalendar is not installed: run hack/test-deps.sh.
"""
import json
import sys
from datetime import timedelta

try:
    import icalendar
except ImportError as err:
    sys.stderr.write("python3-icalendar is missing (%s): run hack/test-deps.sh\n" % err)
    sys.exit(3)


def text(component, name):
    value = component.get(name)
    return "" if value is None else str(value)


def utc(component, name):
    """The time as 2006-01-02T15:04:05Z if the feed says UTC, else as it reads."""
    if name not in component:
        return ""
    dt = component.decoded(name)
    if getattr(dt, "tzinfo", None) is None or dt.utcoffset() != timedelta(0):
        return "not UTC: %r" % (dt,)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
out = {
    "name": text(cal, "NAME"),
    "wrName": text(cal, "X-WR-CALNAME"),
    "description": text(cal, "DESCRIPTION"),
    "events": [],
    # icalendar 4 collects what it cannot parse here instead of raising.
    "errors": ["%s: %s" % (c.name, e) for c in cal.walk() for e in c.errors],
}
for ev in cal.walk("VEVENT"):
    out["events"].append({
        "uid": text(ev, "UID"),
        "sequence": int(ev.get("SEQUENCE", -1)),
        "summary": text(ev, "SUMMARY"),
        "description": text(ev, "DESCRIPTION"),
        "location": text(ev, "LOCATION"),
        "start": utc(ev, "DTSTART"),
        "end": utc(ev, "DTEND"),
        "status": text(ev, "STATUS"),
    })
json.dump(out, sys.stdout)
