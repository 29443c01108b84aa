package projections

// ForgetCalendar drops the facts the index keeps for calendars, so that the
// next calendar of every agreement gathers them again.
func (ix *Index) ForgetCalendar() {
	ix.calendar.mu.Lock()
	defer ix.calendar.mu.Unlock()
	ix.calendar.f, ix.calendar.seq = nil, 0
}
