package render

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// Progress is a one-line progress bar for a terminal, redrawn in place:
//
//	appending ██████████████░░░░░░░░░░░░░░░░  12000/40000  30%
//
// It is safe for concurrent use. Only show it on a terminal: it writes
// carriage returns and an erase-line escape.
type Progress struct {
	w     io.Writer
	label string
	width int

	mu    sync.Mutex
	drawn time.Time
}

// NewProgress returns a progress bar writing to w (usually stderr).
func NewProgress(w io.Writer, label string) *Progress {
	return &Progress{w: w, label: label, width: 30}
}

// Update draws the bar at done of total; redraws are limited to ten a
// second, except the last.
func (p *Progress) Update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if total <= 0 || done < total && time.Since(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = time.Now()
	filled := min(p.width*done/total, p.width)
	fmt.Fprintf(p.w, "\r%s %s%s  %d/%d  %3d%%", p.label, strings.Repeat("█", filled), strings.Repeat("░", p.width-filled), done, total, 100*done/total)
}

// Clear erases the bar.
func (p *Progress) Clear() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.drawn.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
