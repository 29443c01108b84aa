package events

import (
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/shopspring/decimal"
)

// TestDecimalOfIsNewFromString checks that the decimals decimalOf makes
// without a string are those decimal.NewFromString makes, to the exponent
// and the words of the value: decoded amendments are compared deeply.
func TestDecimalOfIsNewFromString(t *testing.T) {
	inputs := []string{"0", "00", "0.0", "0.5", "1", "10", "100.00", "1500.25", "0015.500", "0.000000001",
		"999999999999999999", "999999999999999999.999999999", "123456789.123456789", "0000000000000000001",
		"00000000000000000000000.5", "1.0000000000000000000000"}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		var b strings.Builder
		for range r.IntN(12) {
			b.WriteByte("0123456789"[r.IntN(10)])
		}
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range r.IntN(12) {
				b.WriteByte("0000123456789"[r.IntN(13)])
			}
		}
		inputs = append(inputs, b.String())
	}
	read := 0
	for _, s := range inputs {
		got, err := decimalOf(s)
		gotBytes, errBytes := decimalOf([]byte(s))
		if (err == nil) != (errBytes == nil) || !reflect.DeepEqual(got, gotBytes) {
			t.Fatalf("decimalOf(%q) differs for a string and bytes", s)
		}
		if err != nil {
			continue
		}
		read++
		want, err := decimal.NewFromString(s)
		if err != nil {
			t.Fatalf("decimalOf(%q) reads what NewFromString does not: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("decimalOf(%q) = %#v, NewFromString makes %#v", s, got, want)
		}
	}
	if read < 1000 {
		t.Fatalf("only %d of %d inputs were read", read, len(inputs))
	}
}

// TestScopeCovers: a scope covers another when it has, in every dimension,
// all the other asks for; a dimension left out asks for everything.
func TestScopeCovers(t *testing.T) {
	frontierAPI := &Scope{Products: []string{"frontier"}, Channels: []string{"api"}}
	for _, tt := range []struct {
		name string
		s, o *Scope
		want bool
	}{
		{"everything covers everything", nil, nil, true},
		{"everything covers a product", nil, frontierAPI, true},
		{"a product does not cover everything", frontierAPI, nil, false},
		{"the same scope", frontierAPI, frontierAPI, true},
		{"more values cover fewer", &Scope{Products: []string{"frontier", "gpt"}}, &Scope{Products: []string{"frontier"}, Territories: []string{"eu"}}, true},
		{"another value", &Scope{Products: []string{"gpt"}}, frontierAPI, false},
		{"a value missing", &Scope{Products: []string{"frontier"}}, &Scope{Products: []string{"frontier", "gpt"}}, false},
		{"a limited territory does not cover any territory", &Scope{Territories: []string{"eu"}}, frontierAPI, false},
		{"a limited territory covers itself", &Scope{Territories: []string{"eu"}}, &Scope{Products: []string{"frontier"}, Territories: []string{"eu"}}, true},
	} {
		if got := tt.s.Covers(tt.o); got != tt.want {
			t.Errorf("%s: %v covers %v = %v, want %v", tt.name, tt.s, tt.o, got, tt.want)
		}
	}
}

// TestScopeKinds: the kinds a rights check finds a basis among are those
// with a scope, from the table.
func TestScopeKinds(t *testing.T) {
	if !reflect.DeepEqual(ScopeKinds, []Kind{License, Exclusivity, Right}) {
		t.Errorf("ScopeKinds = %v", ScopeKinds)
	}
}
