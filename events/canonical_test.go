package events_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/oklog/ulid/v2"

	"github.com/agreement-ledger/ledger/events"
)

// decodeAll decodes input, failing the test on error, and gives every
// amendment without an id a fixed one.
func decodeAll(t testing.TB, input []byte) []*events.Amendment {
	t.Helper()
	as, err := events.Decode(input)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	for i, a := range as {
		if a.ID == (ulid.ULID{}) {
			a.ID = ulid.MustNew(uint64(1_700_000_000_000+i), bytes.NewReader(make([]byte, 16)))
		}
	}
	return as
}

func decodeOne(t testing.TB, input string) *events.Amendment {
	t.Helper()
	as := decodeAll(t, []byte(input))
	if len(as) != 1 {
		t.Fatalf("got %d amendments, want 1", len(as))
	}
	return as[0]
}

var somePrev = events.Hash(sha256.Sum256([]byte("the previous amendment")))

// TestEncodeRoundTrip checks that Encode, DecodeStored and Encode again give
// the same bytes, for every valid amendment in the test data.
func TestEncodeRoundTrip(t *testing.T) {
	inputs := map[string][]byte{}
	for name, data := range validFiles(t) {
		inputs[name] = data
	}
	for _, tc := range goodInputs {
		inputs["good input: "+tc.name] = []byte(tc.input)
	}
	for name, data := range inputs {
		for i, a := range decodeAll(t, data) {
			for _, prev := range []events.Hash{{}, somePrev} {
				t.Run(fmt.Sprintf("%s/%d/prev=%v", name, i, !prev.IsZero()), func(t *testing.T) {
					stored, err := events.Encode(a, prev)
					if err != nil {
						t.Fatalf("Encode: %v", err)
					}
					back, gotPrev, err := events.DecodeStored(stored)
					if err != nil {
						t.Fatalf("DecodeStored(%s): %v", stored, err)
					}
					if gotPrev != prev {
						t.Errorf("prev = %v, want %v", gotPrev, prev)
					}
					again, err := events.Encode(back, gotPrev)
					if err != nil {
						t.Fatalf("Encode again: %v", err)
					}
					if !bytes.Equal(stored, again) {
						t.Errorf("encodings differ:\n%s\n%s", stored, again)
					}
					if back.ContentHash() != a.ContentHash() {
						t.Errorf("content hash changed in the round trip")
					}
					if back.ID != a.ID || !back.Effective.Equal(a.Effective) || len(back.Changes) != len(a.Changes) {
						t.Errorf("round trip changed the amendment: %+v", back)
					}
					checkCanonical(t, stored)
					want := map[bool]int{false: 0, true: 1}[!prev.IsZero()]
					if got := bytes.Count(stored, []byte(`"prev":`)); got != want {
						t.Errorf("stored form has %d prev fields, want %d", got, want)
					}
				})
			}
		}
	}
}

// checkCanonical checks that data has no insignificant space and its object
// keys sorted at every level: re-marshalling it through map[string]any (which
// sorts keys) gives the same bytes, and each object's keys increase.
func checkCanonical(t *testing.T, data []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("stored form is not JSON: %v", err)
	}
	again, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("not canonical:\n got %s\nwant %s", data, again)
	}
	// The map round trip cannot see the order of the original keys; read
	// them from the token stream.
	tokens := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		last   string
		key    bool // the next string token is a key
	}
	var stack []frame
	for {
		tok, err := tokens.Token()
		if err != nil {
			break
		}
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
				stack = append(stack, frame{object: d == '{', key: d == '{'})
			default:
				stack = stack[:len(stack)-1]
				if len(stack) > 0 && stack[len(stack)-1].object {
					stack[len(stack)-1].key = true
				}
			}
			continue
		}
		if len(stack) == 0 || !stack[len(stack)-1].object {
			continue
		}
		top := &stack[len(stack)-1]
		if top.key {
			k := tok.(string)
			if top.last != "" && k <= top.last {
				t.Errorf("key %q follows %q in %s", k, top.last, data)
			}
			top.last, top.key = k, false
		} else {
			top.key = true
		}
	}
}

// TestContentHashOfEquivalentInputs checks that inputs that say the same
// thing in different ways have the same canonical form and content hash.
func TestContentHashOfEquivalentInputs(t *testing.T) {
	base := with(amendment(openChange, add(with(shareClause, `"cap":{"amount":"15.5","currency":"USD"}`)), add(with(licenseClause, `"scope":{"channels":["api","web"]}`))), `"id":"`+aULID+`"`)
	tests := []struct {
		name string
		a, b string
	}{
		{"whitespace", base, "\n  " + strings.ReplaceAll(strings.ReplaceAll(base, ",", " ,\n\t"), ":", " : ") + "\n"},
		{"key order", `{"id":"` + aULID + `","agreement":"acme-globex","effective":"2026-02-27","changes":[{"op":"declare","condition":"agi"}]}`,
			`{"changes":[{"condition":"agi","op":"declare"}],"effective":"2026-02-27","agreement":"acme-globex","id":"` + aULID + `"}`},
		{"trailing zeros of a rate", amendment(add(replace(shareClause, `"0.05"`, `"0.20"`))), amendment(add(replace(shareClause, `"0.05"`, `"0.2"`)))},
		{"leading and trailing zeros of money", base, replace(base, `"15.5"`, `"0015.500"`)},
		{"date and midnight UTC", amendment(openChange), replace(amendment(openChange), `"2026-02-27"`, `"2026-02-27T00:00:00Z"`)},
		{"date and midnight UTC with fractions", amendment(openChange), replace(amendment(openChange), `"2026-02-27"`, `"2026-02-27T00:00:00.000Z"`)},
		{"date and a time with an offset", amendment(openChange), replace(amendment(openChange), `"2026-02-27"`, `"2026-02-27T01:00:00+01:00"`)},
		{"date and a time with a negative offset", amendment(openChange), replace(amendment(openChange), `"2026-02-27"`, `"2026-02-26T19:00:00-05:00"`)},
		{"scope value order", base, replace(base, `["api","web"]`, `["web","api"]`)},
		{"wildcard dimension and no dimension", amendment(add(licenseClause)), amendment(add(with(licenseClause, `"scope":{"products":["*"]}`)))},
		{"empty scope and no scope", amendment(add(licenseClause)), amendment(add(with(licenseClause, `"scope":{}`)))},
		{"null and absent", amendment(add(licenseClause)), amendment(add(with(licenseClause, `"note":null,"term":null,"scope":null`)))},
		{"absent and false exclusive", amendment(add(licenseClause)), amendment(add(with(licenseClause, `"exclusive":false`)))},
		{"escaped and plain strings", amendment(openChange), amendment(replace(openChange, `"acme"`, `"\u0061cme"`))},
		{"lower-case and upper-case ULID", base, replace(base, aULID, strings.ToLower(aULID))},
		{"empty and absent source", amendment(openChange), with(amendment(openChange), `"source":{}`)},
		{"undisclosed with null amount", amendment(add(with(shareClause, `"cap":{"undisclosed":true}`))), amendment(add(with(shareClause, `"cap":{"undisclosed":true,"amount":null}`)))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := decodeOne(t, tc.a), decodeOne(t, tc.b)
			ja, _ := json.Marshal(a)
			jb, _ := json.Marshal(b)
			if a.ContentHash() != b.ContentHash() {
				t.Errorf("content hashes differ:\n%s\n%s", ja, jb)
			}
			if !bytes.Equal(ja, jb) {
				t.Errorf("canonical forms differ:\n%s\n%s", ja, jb)
			}
			if a.ContentHash() != events.Hash(sha256.Sum256(ja)) {
				t.Errorf("ContentHash is not the SHA-256 of the canonical form")
			}
			sa, _ := events.Encode(a, somePrev)
			sb, _ := events.Encode(b, somePrev)
			if !bytes.Equal(sa, sb) || events.Sum(sa) != events.Sum(sb) {
				t.Errorf("stored forms differ:\n%s\n%s", sa, sb)
			}
		})
	}
}

// TestContentHashOfDifferentInputs checks that a change of content, however
// small, changes the hash.
func TestContentHashOfDifferentInputs(t *testing.T) {
	base := with(amendment(openChange, add(with(shareClause, `"cap":{"amount":"15.5","currency":"USD"}`)), add(with(licenseClause, `"exclusive":true,"scope":{"channels":["api"]}`))), `"id":"`+aULID+`"`)
	tests := []struct {
		name string
		b    string
	}{
		{"effective a second later", replace(base, `"2026-02-27"`, `"2026-02-27T00:00:01Z"`)},
		{"effective a nanosecond later", replace(base, `"2026-02-27"`, `"2026-02-27T00:00:00.000000001Z"`)},
		{"another id", replace(base, aULID, "01KJE6A900JMRNV7E9Z0C1HT0J")},
		{"no id", replace(base, `,"id":"`+aULID+`"`, ``)},
		{"another agreement", replace(base, `"acme-globex"`, `"acme-globex-2"`)},
		{"a rate one point higher", replace(base, `"0.05"`, `"0.06"`)},
		{"an undisclosed rate", replace(base, `"0.05"`, `{"undisclosed":true}`)},
		{"another currency", replace(base, `"USD"`, `"EUR"`)},
		{"another amount", replace(base, `"15.5"`, `"15.50001"`)},
		{"an undisclosed cap", replace(base, `{"amount":"15.5","currency":"USD"}`, `{"undisclosed":true,"currency":"USD"}`)},
		{"an undisclosed cap without currency", replace(base, `{"amount":"15.5","currency":"USD"}`, `{"undisclosed":true}`)},
		{"no cap", replace(base, `,"cap":{"amount":"15.5","currency":"USD"}`, ``)},
		{"non-exclusive", replace(base, `"exclusive":true`, `"exclusive":false`)},
		{"another scope", replace(base, `["api"]`, `["api","web"]`)},
		{"everywhere", replace(base, `,"scope":{"channels":["api"]}`, ``)},
		{"a summary", with(base, `"summary":"Signed."`)},
		{"a signed date", with(base, `"signed":"2026-02-20"`)},
		{"parties in another order", replace(base, `["acme","globex"]`, `["globex","acme"]`)},
		{"a title in another case", replace(base, `supply agreement`, `Supply Agreement`)},
	}
	a := decodeOne(t, base)
	seen := map[events.Hash]string{a.ContentHash(): "base"}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			as, err := events.Decode([]byte(tc.b))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			h := as[0].ContentHash()
			if other, ok := seen[h]; ok {
				t.Errorf("same content hash as %s", other)
			}
			seen[h] = tc.name
		})
	}
}

func TestDecodeStored(t *testing.T) {
	a := decodeOne(t, with(amendment(openChange, add(licenseClause)), `"id":"`+aULID+`"`))
	stored, err := events.Encode(a, somePrev)
	if err != nil {
		t.Fatal(err)
	}
	s := string(stored)
	tests := []struct {
		name     string
		data     string
		wantPrev events.Hash
		path     string // of the expected field error; "-" for an error without one
		msg      string
	}{
		{"as encoded", s, somePrev, "", ""},
		{"without prev", strings.Replace(s, `,"prev":"`+somePrev.String()+`"`, ``, 1), events.Hash{}, "", ""},
		{"whitespace and key order are not significant", "{\n" + `"v": 1, "prev": "` + somePrev.String() + `",` + strings.Replace(strings.TrimPrefix(s, "{"), `,"prev":"`+somePrev.String()+`","v":1`, ``, 1), somePrev, "", ""},
		{"a newer schema version", strings.Replace(s, `"v":1`, `"v":2`, 1), events.Hash{}, "v", "schema version 2 is not supported by this ledger (it reads version 1); upgrade the ledger"},
		{"a version that is not a number", strings.Replace(s, `"v":1`, `"v":"1"`, 1), events.Hash{}, "v", "upgrade the ledger"},
		{"no version", strings.Replace(s, `,"v":1`, ``, 1), events.Hash{}, "v", "is required"},
		{"no id", strings.Replace(s, `"id":"`+aULID+`",`, ``, 1), events.Hash{}, "id", "is required"},
		{"a malformed prev", strings.Replace(s, somePrev.String(), "abc", 1), events.Hash{}, "prev", "is not a SHA-256 hash (64 hex digits)"},
		{"an unknown field", strings.Replace(s, `"v":1`, `"v":1,"seq":7`, 1), events.Hash{}, "seq", "is not a field of an amendment"},
		{"an invalid amendment", strings.Replace(s, `"acme-globex"`, `"Acme"`, 1), events.Hash{}, "agreement", "is not a valid slug"},
		{"not JSON", s[:len(s)-1], events.Hash{}, "-", "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, prev, err := events.DecodeStored([]byte(tc.data))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("DecodeStored: %v", err)
				}
				if prev != tc.wantPrev {
					t.Errorf("prev = %v, want %v", prev, tc.wantPrev)
				}
				if got.ContentHash() != a.ContentHash() {
					t.Errorf("decoded amendment differs from the encoded one")
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeStored accepted %s", tc.data)
			}
			if got != nil {
				t.Errorf("returned an amendment with the error")
			}
			var e *events.Error
			if !errors.As(err, &e) || e.Kind != events.Invalid {
				t.Fatalf("want an Invalid *events.Error, got %T %v", err, err)
			}
			if tc.path == "-" {
				if !strings.Contains(err.Error(), tc.msg) {
					t.Errorf("error %q does not contain %q", err, tc.msg)
				}
				return
			}
			for _, f := range e.Fields {
				if f.Path == tc.path && strings.Contains(f.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no field error at %q containing %q; got:\n%s", tc.path, tc.msg, describe(e.Fields))
		})
	}
}

func TestEncodeWithoutID(t *testing.T) {
	a := decodeOne(t, amendment(openChange))
	a.ID = ulid.ULID{}
	_, err := events.Encode(a, events.Hash{})
	if err == nil || events.KindOf(err) != events.Internal {
		t.Errorf("Encode without an id: err = %v (kind %s), want an Internal error", err, events.KindOf(err))
	}
}

func TestHash(t *testing.T) {
	tests := []struct {
		name string
		h    events.Hash
	}{
		{"zero", events.Hash{}},
		{"a digest", somePrev},
		{"all ones", events.Hash(bytes.Repeat([]byte{0xff}, 32))},
		{"of stored bytes", events.Sum([]byte(`{"v":1}`))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.h.String()
			if len(s) != 64 || strings.ToLower(s) != s {
				t.Errorf("String() = %q, want 64 lower-case hex digits", s)
			}
			back, err := events.ParseHash(s)
			if err != nil || back != tc.h {
				t.Errorf("ParseHash(%q) = %v, %v", s, back, err)
			}
			j, err := json.Marshal(tc.h)
			if err != nil || string(j) != `"`+s+`"` {
				t.Errorf("MarshalJSON = %s, %v", j, err)
			}
			if tc.h.IsZero() != (tc.h == events.Hash{}) {
				t.Errorf("IsZero() = %v", tc.h.IsZero())
			}
		})
	}
	if events.Sum([]byte("abc")) != events.Hash(sha256.Sum256([]byte("abc"))) {
		t.Errorf("Sum is not SHA-256")
	}
	for _, bad := range []string{"", "abc", strings.Repeat("0", 63), strings.Repeat("0", 65), strings.Repeat("g", 64), " " + strings.Repeat("0", 63)} {
		if _, err := events.ParseHash(bad); err == nil || !strings.Contains(err.Error(), "64 hex digits") {
			t.Errorf("ParseHash(%q): err = %v", bad, err)
		}
	}
}
