package render

import (
	"fmt"
	"strings"

	"github.com/agreement-ledger/ledger/projections"
)

// markerStack is the amendments effective at the same instant. They are
// drawn as one marker labelled with each version: drawn one by one they
// would fall on each other, and a retroactive correction recorded later
// would hide behind the amendment it corrects.
type markerStack []projections.Marker

// stackShown is how many versions a stack's label names; the rest are
// counted ("v2, v3, v4 +2").
const stackShown = 3

// stackMarkers gathers the amendments of a timeline (in order of effective
// time) into stacks of those effective at the same instant, in that order.
func stackMarkers(ms []projections.Marker) []markerStack {
	var out []markerStack
	for i := 0; i < len(ms); {
		j := i + 1
		for j < len(ms) && ms[j].Effective.Equal(ms[i].Effective) {
			j++
		}
		out = append(out, markerStack(ms[i:j:j]))
		i = j
	}
	return out
}

// retracted reports whether every amendment of the stack was retracted.
func (s markerStack) retracted() bool {
	for _, m := range s {
		if !m.Retracted {
			return false
		}
	}
	return true
}

// shown are the amendments the label names, and how many more there are.
func (s markerStack) shown() ([]projections.Marker, int) {
	if len(s) <= stackShown {
		return s, 0
	}
	return s[:stackShown], len(s) - stackShown
}

// versions writes the versions of the stack, for a data attribute: "v2 v3".
func (s markerStack) versions() string {
	vs := make([]string, len(s))
	for i, m := range s {
		vs[i] = fmt.Sprintf("v%d", m.Version)
	}
	return strings.Join(vs, " ")
}

// label writes the label of the stack as text, each version by mark (its
// version, with what shows it retracted): "v2, v3 +1".
func (s markerStack) label(mark func(projections.Marker) string) string {
	shown, more := s.shown()
	parts := make([]string, len(shown))
	for i, m := range shown {
		parts[i] = mark(m)
	}
	out := strings.Join(parts, ", ")
	if more > 0 {
		out += fmt.Sprintf(" +%d", more)
	}
	return out
}

// tip is the stack's tooltip: each amendment's, one after the other.
func (s markerStack) tip(one func(projections.Marker) string) string {
	parts := make([]string, len(s))
	for i, m := range s {
		parts[i] = one(m)
	}
	return fmt.Sprintf("%d amendments effective %s\n\n", len(s), Time(s[0].Effective)) + strings.Join(parts, "\n\n")
}
