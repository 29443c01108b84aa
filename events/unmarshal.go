package events

import "encoding/json"

// The values below read back what their MarshalJSON writes, by the rules
// input is read with (a value that input would refuse is refused here), so
// that a client of the ledger's documents gets the types the ledger uses.
// Amendments are read with Decode, not these.

// UnmarshalJSON reads a clause as it is written in input.
func (c *Clause) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readClause(b, "", &p)
	if !ok {
		return p.Err("not a clause")
	}
	*c = *got
	return nil
}

// UnmarshalJSON reads {"amount", "currency"} or {"undisclosed": true}.
func (m *Money) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readMoney(b, "", &p)
	if !ok {
		return p.Err("not a money")
	}
	*m = *got
	return nil
}

// UnmarshalJSON reads "0.2" or {"undisclosed": true}.
func (r *Rate) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readRate(b, "", &p)
	if !ok {
		return p.Err("not a rate")
	}
	*r = *got
	return nil
}

// UnmarshalJSON reads a scope; one that limits nothing is the zero Scope.
func (s *Scope) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readScope(b, "", &p)
	if !ok {
		return p.Err("not a scope")
	}
	*s = Scope{}
	if got != nil {
		*s = *got
	}
	return nil
}

// UnmarshalJSON reads {"start", "end", "ends_on"}.
func (t *Term) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readTerm(b, "", &p)
	if !ok {
		return p.Err("not a term")
	}
	*t = *got
	return nil
}

// UnmarshalJSON reads {"start", "end"}.
func (per *Period) UnmarshalJSON(b []byte) error {
	var p Problems
	got, ok := readPeriod(b, "", &p)
	if !ok {
		return p.Err("not a period")
	}
	*per = got
	return nil
}

// UnmarshalJSON reads a hash written as 64 hex digits.
func (h *Hash) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return &Error{Kind: Invalid, Message: "a hash is a string of 64 hex digits", Err: err}
	}
	got, err := ParseHash(s)
	if err != nil {
		return &Error{Kind: Invalid, Message: err.Error()}
	}
	*h = got
	return nil
}
