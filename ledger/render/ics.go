package render

import (
	"bufio"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agreement-ledger/ledger/projections"
	"github.com/oklog/ulid/v2"
)

// ICSOptions say what a calendar file says of itself.
type ICSOptions struct {
	// Stamp is when the file is written (each event's DTSTAMP): an
	// application importing the file again sees the events as newer.
	Stamp time.Time
	// Name is the calendar's name, shown by applications that show one.
	Name string
}

// CalendarICS writes the dated entries of a calendar as an RFC 5545
// iCalendar file: one VEVENT each, all-day on its date when the entry is at
// midnight UTC (as dates are), else at its time. An event's UID is the
// entry's (agreement, clause and kind, not the date), so that importing the
// file again updates events whose date moved rather than adding them twice.
// Standing risks have no date and are not events.
func CalendarICS(w io.Writer, c *projections.Calendar, opts ICSOptions) error {
	iw := &icsWriter{w: bufio.NewWriter(w)}
	if opts.Name == "" {
		opts.Name = "Deal calendar"
	}
	stamp := icsDateTime(opts.Stamp)
	iw.line("BEGIN:VCALENDAR")
	iw.line("VERSION:2.0")
	iw.line("PRODID:-//agreement-ledger//ledger calendar//EN")
	iw.line("CALSCALE:GREGORIAN")
	iw.line("METHOD:PUBLISH")
	iw.prop("X-WR-CALNAME", opts.Name)
	for _, e := range c.Entries {
		at := e.At().UTC()
		iw.line("BEGIN:VEVENT")
		iw.line("UID:" + e.UID())
		iw.line("DTSTAMP:" + stamp)
		if at.Equal(at.Truncate(24 * time.Hour)) {
			iw.line("DTSTART;VALUE=DATE:" + at.Format("20060102"))
			iw.line("DTEND;VALUE=DATE:" + at.AddDate(0, 0, 1).Format("20060102"))
		} else {
			iw.line("DTSTART:" + icsDateTime(at))
			iw.line("DTEND:" + icsDateTime(at))
		}
		iw.prop("SUMMARY", e.Agreement()+" / "+e.Clause()+": "+CalendarWhat(e))
		desc := []string{
			"Agreement: " + e.Agreement(),
			"Clause: " + e.Clause() + " (" + string(e.ClauseKind()) + ")",
			"Entry: " + string(e.Kind()),
		}
		if id := e.Amendment(); id != (ulid.ULID{}) {
			desc = append(desc, "Amendment: "+id.String())
		}
		iw.prop("DESCRIPTION", strings.Join(desc, "\n"))
		iw.prop("CATEGORIES", string(e.Kind()))
		iw.line("TRANSP:TRANSPARENT")
		iw.line("END:VEVENT")
	}
	iw.line("END:VCALENDAR")
	if iw.err != nil {
		return iw.err
	}
	return iw.w.Flush()
}

// icsDateTime is a UTC date-time in iCalendar's form (seconds; a calendar
// has no use for less).
func icsDateTime(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// icsWriter writes content lines: CRLF-terminated and folded at 75 octets
// (RFC 5545 §3.1), never inside a UTF-8 sequence.
type icsWriter struct {
	w   *bufio.Writer
	err error
}

// prop writes a property whose value is text, escaped (§3.3.11).
func (iw *icsWriter) prop(name, text string) {
	iw.line(name + ":" + icsEscape.Replace(text))
}

var icsEscape = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`)

func (iw *icsWriter) line(s string) {
	if iw.err != nil {
		return
	}
	limit := 75 // octets on the first line; continuation lines begin with a space
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		_, iw.err = iw.w.WriteString(s[:cut] + "\r\n ")
		s = s[cut:]
		limit = 74
	}
	if iw.err == nil {
		_, iw.err = iw.w.WriteString(s + "\r\n")
	}
}
