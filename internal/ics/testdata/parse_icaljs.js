// Reads an iCalendar feed on stdin with ical.js and prints, as JSON, the fields
// the Go tests compare (see crossparse_test.go).
//
// Usage: node parse_icaljs.js <absolute path of test/js/node_modules/ical.js>
'use strict';
const fs = require('fs');

const mod = require(process.argv[2]);
const ICAL = mod.default || mod;

function text(comp, name) {
  const v = comp.getFirstPropertyValue(name);
  return v === null || v === undefined ? '' : String(v);
}

// utc returns the time as 2006-01-02T15:04:05Z if the feed says UTC, else as it reads.
function utc(comp, name) {
  const t = comp.getFirstPropertyValue(name);
  if (!t) return '';
  if (t.isDate || !t.zone || t.zone.tzid !== 'UTC') return 'not UTC: ' + t.toString();
  return t.toString();
}

// ical.js does not know the RFC 7986 NAME nor X-WR-CALNAME and would return them
// still escaped; declare them TEXT, as RFC 7986 and the de facto X-WR use do.
for (const name of ['name', 'x-wr-calname']) {
  ICAL.design.icalendar.property[name] = { defaultType: 'text' };
}

const cal = new ICAL.Component(ICAL.parse(fs.readFileSync(0, 'utf8')));
const out = {
  name: text(cal, 'name'),
  wrName: text(cal, 'x-wr-calname'),
  description: text(cal, 'description'),
  events: [],
  errors: [],
};
if (cal.name !== 'vcalendar') out.errors.push('top-level component is ' + cal.name);
for (const ev of cal.getAllSubcomponents()) {
  if (ev.name !== 'vevent') {
    out.errors.push('unexpected component ' + ev.name);
    continue;
  }
  const seq = ev.getFirstPropertyValue('sequence');
  out.events.push({
    uid: text(ev, 'uid'),
    sequence: typeof seq === 'number' ? seq : -1,
    summary: text(ev, 'summary'),
    description: text(ev, 'description'),
    location: text(ev, 'location'),
    start: utc(ev, 'dtstart'),
    end: utc(ev, 'dtend'),
    status: text(ev, 'status'),
  });
}
process.stdout.write(JSON.stringify(out));
