package events_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/events"
)

// Building blocks for inputs. Each clause holds only its kind's required
// fields, so a test adds optional ones with with() and changes others with
// replace().
const (
	openChange = `{"op":"open","title":"Acme–Globex supply agreement","parties":["acme","globex"]}`

	licenseClause     = `{"id":"patent-license","kind":"license","licensor":"acme","licensee":"globex","subject":"Acme rocket patents"}`
	exclusivityClause = `{"id":"retail-exclusivity","kind":"exclusivity","grantor":"acme","holder":"globex"}`
	shareClause       = `{"id":"royalty","kind":"revenue_share","payer":"globex","payee":"acme","rate":"0.05"}`
	commitmentClause  = `{"id":"minimum-order","kind":"commitment","obligor":"globex","beneficiary":"acme","amount":{"amount":"250000","currency":"USD"},"what":"minimum yearly order"}`
	investmentClause  = `{"id":"stake","kind":"investment","investor":"acme","investee":"globex","tranches":[{"id":"initial","amount":{"amount":"15000000","currency":"USD"}}]}`
	rightClause       = `{"id":"first-look","kind":"right","holder":"globex","grantor":"acme","right":"first-release"}`
	obligationClause  = `{"id":"support","kind":"obligation","obligor":"acme","beneficiary":"globex","what":"second-line support"}`

	reportChange = `{"op":"report","clause":"royalty","period":{"start":"2025-10-01","end":"2026-01-01"},"base":{"amount":"1200000","currency":"USD"}}`
	aULID        = "01KJE6A900JMRNV7E9Z0C1HT0H"
)

// amendment is a valid envelope (agreement acme-globex, effective
// 2026-02-27) around changes.
func amendment(changes ...string) string {
	return `{"agreement":"acme-globex","effective":"2026-02-27","changes":[` + strings.Join(changes, ",") + `]}`
}

// add is an "add" change of clause.
func add(clause string) string { return `{"op":"add","clause":` + clause + `}` }

// with adds members (written as JSON, without braces) to the JSON object obj.
func with(obj, members string) string { return obj[:len(obj)-1] + "," + members + "}" }

// replace replaces the one occurrence of old in s; it panics if there is none,
// so that a table entry cannot silently test the unchanged input.
func replace(s, old, new string) string {
	if strings.Count(s, old) != 1 {
		panic(fmt.Sprintf("replace: %q occurs %d times in %s", old, strings.Count(s, old), s))
	}
	return strings.Replace(s, old, new, 1)
}

// schemaVerdict is what events.Schema says about an input Decode rejects.
type schemaVerdict int

const (
	schemaRejects schemaVerdict = iota // the schema rejects it too
	schemaAccepts                      // only Decode can tell: cross-field checks, byte lengths, duplicate members, size
	notJSON                            // not JSON the schema could be applied to
)

type badInput struct {
	name   string
	input  string
	path   string // the exact path of one expected field error
	msg    string // a substring of that field error's message
	schema schemaVerdict
}

// oversize is a well-formed amendment larger than events.MaxAmendment, made
// of clauses that are each valid.
func oversize() string {
	changes := []string{openChange}
	note := strings.Repeat("Deliver the goods on time. ", 150) // about 4 KB
	for i := 0; len(strings.Join(changes, ",")) <= events.MaxAmendment; i++ {
		changes = append(changes, add(with(replace(obligationClause, `"support"`, fmt.Sprintf(`"duty-%d"`, i)), `"note":"`+note+`"`)))
	}
	return amendment(changes...)
}

var badInputs = []badInput{
	// The input as a whole.
	{"malformed JSON", "{\n  \"agreement\": \"acme-globex\",\n  \"effective\" \"2026-02-27\"\n}", "", "after object key (line 3, column 15)", notJSON},
	{"malformed JSON after blank lines", "\n\n{\"agreement\" \"acme-globex\"}", "", "line 3, column 14", notJSON},
	{"truncated object", "{\n\"agreement\": \"acme-globex\",\n\"changes\": [{\"op\": \"clo\n", "", "ends in the middle of a JSON value (line 3, column 24)", notJSON},
	{"truncated array", `[{"agreement": "acme-globex"}, {"agreement"`, "", "ends in the middle of a JSON value (line 1, column 44)", notJSON},
	{"byte order mark before a syntax error", "\ufeff{\n\"agreement\" 1}", "", "after object key (line 2, column 13)", notJSON},
	{"empty input", "", "", "expected an amendment object, an array of them, or JSON Lines", notJSON},
	{"blank input", " \n\t\r\n ", "", "expected an amendment object", notJSON},
	{"empty array", "[ ]", "", "give at least one amendment", schemaRejects},
	{"invalid UTF-8", "{\"agreement\":\"acme\xff-globex\"}", "", "invalid byte at offset 18 (line 1, column 19)", notJSON},
	{"NaN literal", amendment(add(replace(commitmentClause, `"amount":"250000"`, `"amount":NaN`))), "", "JSON has no NaN or Infinity", notJSON},
	{"Infinity literal", amendment(add(replace(shareClause, `"0.05"`, `Infinity`))), "", "JSON has no NaN or Infinity", notJSON},
	{"-Infinity literal", amendment(add(replace(shareClause, `"0.05"`, `-Infinity`))), "", "JSON has no NaN or Infinity", notJSON},
	{"10000 nested arrays inside a field", with(amendment(openChange), `"summary":`+strings.Repeat("[", 10000)+strings.Repeat("]", 10000)), "", "nested too deeply", notJSON},
	{"9000 nested arrays inside a field", with(amendment(openChange), `"summary":`+strings.Repeat("[", 9000)+strings.Repeat("]", 9000)), "summary", "must be a string, not an array", schemaRejects},
	{"JSON Lines with a broken second line", amendment(openChange) + "\n" + `{"agreement": "acme-globex",`, "[1]", "ends in the middle of a JSON value (line 2, column 29)", notJSON},
	{"garbage after an array", "[" + amendment(openChange) + "] x", "", "after top-level value", notJSON},
	{"a number instead of an amendment", "42", "", "must be an amendment object, not a number", schemaRejects},
	{"a string in an array of amendments", "[" + amendment(openChange) + `, "close it"]`, "[1]", "must be an amendment object, not a string", schemaRejects},
	{"third of three amendments has a malformed effective", "[" + amendment(openChange) + "," + amendment(add(licenseClause)) + "," + replace(amendment(`{"op":"close"}`), "2026-02-27", "next week") + "]", "[2].effective", `"next week" is not a date`, schemaRejects},
	{"oversize amendment", oversize(), "", "amendment is too large", schemaAccepts},
	{"oversize second amendment", "[" + amendment(openChange) + "," + oversize() + "]", "[1]", "at most 262144", schemaAccepts},

	// Money.
	{"number for money", amendment(openChange, add(replace(commitmentClause, `"amount":"250000"`, `"amount":250000`))), "changes[1].clause.amount.amount", "not a JSON number", schemaRejects},
	{"negative money", amendment(openChange, add(replace(commitmentClause, `"250000"`, `"-250000"`))), "changes[1].clause.amount.amount", "must not be negative", schemaRejects},
	{"40-digit money", amendment(openChange, add(replace(commitmentClause, `"250000"`, `"`+strings.Repeat("9", 40)+`"`))), "changes[1].clause.amount.amount", "is too large (40 digits", schemaRejects},
	{"too many decimal places", amendment(openChange, add(replace(commitmentClause, `"250000"`, `"250000.1234567891"`))), "changes[1].clause.amount.amount", "too many decimal places", schemaRejects},
	{"exponent in money", amendment(openChange, add(replace(commitmentClause, `"250000"`, `"2.5e5"`))), "changes[1].clause.amount.amount", "is not a plain decimal number", schemaRejects},
	{"unknown currency", amendment(openChange, add(replace(commitmentClause, `"USD"`, `"XYZ"`))), "changes[1].clause.amount.currency", `"XYZ" is not an ISO 4217 currency code`, schemaRejects},
	{"lower-case currency", amendment(openChange, add(replace(commitmentClause, `"USD"`, `"usd"`))), "changes[1].clause.amount.currency", "currency codes are upper case: USD", schemaRejects},
	{"money without a currency", amendment(openChange, add(replace(commitmentClause, `,"currency":"USD"`, ``))), "changes[1].clause.amount.currency", "is required", schemaRejects},
	{"undisclosed false", amendment(openChange, add(with(shareClause, `"cap":{"undisclosed":false}`))), "changes[1].clause.cap.undisclosed", "may only be true", schemaRejects},
	{"undisclosed with an amount", amendment(openChange, add(with(shareClause, `"cap":{"undisclosed":true,"amount":"5","currency":"USD"}`))), "changes[1].clause.cap.amount", "must be absent when the amount is undisclosed", schemaRejects},
	{"report of an undisclosed base", amendment(replace(reportChange, `{"amount":"1200000","currency":"USD"}`, `{"undisclosed":true}`)), "changes[0].base", "must be a disclosed amount", schemaRejects},

	// Rates.
	{"rate above 1", amendment(openChange, add(replace(shareClause, `"0.05"`, `"1.5"`))), "changes[1].clause.rate", `must be between 0 and 1 (got 1.5): a rate is a decimal in [0, 1] such as "0.20"; for 1.5% write "0.015"`, schemaRejects},
	{"rate above 100", amendment(openChange, add(replace(shareClause, `"0.05"`, `"120"`))), "changes[1].clause.rate", `must be between 0 and 1 (got 120): a rate is a decimal in [0, 1] such as "0.20"`, schemaRejects},
	{"rate as a number", amendment(openChange, add(replace(shareClause, `"0.05"`, `0.05`))), "changes[1].clause.rate", "not a JSON number", schemaRejects},
	{"rate as a percentage", amendment(openChange, add(replace(shareClause, `"0.05"`, `"20%"`))), "changes[1].clause.rate", `"20%" is a percentage: a rate is a decimal in [0, 1] such as "0.20" ("20%" is "0.2")`, schemaRejects},
	{"rate as a percentage amended", amendment(`{"op":"amend","clause":"royalty","set":{"rate":"12.5 %"}}`), "changes[0].set.rate", `"12.5 %" is a percentage: a rate is a decimal in [0, 1] such as "0.20" ("12.5 %" is "0.125")`, schemaRejects},
	{"rate in words", amendment(openChange, add(replace(shareClause, `"0.05"`, `"five percent"`))), "changes[1].clause.rate", `"five percent" is not a decimal: a rate is a decimal in [0, 1] such as "0.20"`, schemaRejects},
	{"negative rate", amendment(openChange, add(replace(shareClause, `"0.05"`, `"-0.05"`))), "changes[1].clause.rate", `must not be negative (got "-0.05"): a rate is a decimal in [0, 1] such as "0.20"`, schemaRejects},
	{"rate object without undisclosed", amendment(openChange, add(replace(shareClause, `"0.05"`, `{}`))), "changes[1].clause.rate.undisclosed", "is required", schemaRejects},

	// Dates.
	{"malformed date", replace(amendment(openChange), "2026-02-27", "27/02/2026"), "effective", `"27/02/2026" is not a date`, schemaRejects},
	{"month 13", replace(amendment(openChange), "2026-02-27", "2026-13-01"), "effective", "is not a date", schemaRejects},
	{"February 30", replace(amendment(openChange), "2026-02-27", "2026-02-30"), "effective", "is not a date", schemaRejects},
	{"February 29 of 1900", replace(amendment(openChange), "2026-02-27", "1900-02-29"), "effective", "is not a date", schemaRejects},
	{"year 1899", replace(amendment(openChange), "2026-02-27", "1899-12-31"), "effective", "is out of range (1900-01-01 to 9999-12-31)", schemaRejects},
	{"year 10000", replace(amendment(openChange), "2026-02-27", "10000-01-01"), "effective", "is out of range", schemaRejects},
	{"offset +24:00", replace(amendment(openChange), "2026-02-27", "2026-02-27T10:00:00+24:00"), "effective", "is not a date", schemaRejects},
	{"comma before fractional seconds", replace(amendment(openChange), "2026-02-27", "2026-02-27T10:00:00,5Z"), "effective", "is not a date", schemaRejects},
	{"space instead of T", with(amendment(openChange), `"signed":"2026-02-27 10:00:00Z"`), "signed", "is not a date", schemaRejects},
	{"date as a number", replace(amendment(openChange), `"2026-02-27"`, "20260227"), "effective", "must be a string, not a number", schemaRejects},

	// Terms and periods.
	{"term ending before it starts", amendment(openChange, add(with(licenseClause, `"term":{"start":"2027-01-01","end":"2026-06-01"}`))), "changes[1].clause.term.end", "must be after start", schemaAccepts},
	{"term ending when it starts", amendment(openChange, add(with(licenseClause, `"term":{"start":"2027-01-01","end":"2027-01-01T00:00:00Z"}`))), "changes[1].clause.term.end", "must be after start", schemaAccepts},
	{"term ending before the effective date", amendment(openChange, add(with(licenseClause, `"term":{"end":"2026-01-01"}`))), "changes[1].clause.term.end", "defaults to the amendment's effective time (2026-02-27)", schemaAccepts},
	{"period ending before it starts", amendment(replace(reportChange, `"end":"2026-01-01"`, `"end":"2025-07-01"`)), "changes[0].period.end", "must be after start", schemaAccepts},
	{"report of a period starting after the effective date", amendment(replace(reportChange, `{"start":"2025-10-01","end":"2026-01-01"}`, `{"start":"2026-03-01","end":"2026-06-01"}`)), "changes[0].period.start", "cannot cover a period that starts after it is effective", schemaAccepts},

	// Unknown fields, at every level.
	{"unknown envelope field", with(amendment(openChange), `"author":"legal-ops"`), "author", "is not a field of an amendment", schemaRejects},
	{"stored-only field in input", with(amendment(openChange), `"v":1`), "v", "is not a field of an amendment", schemaRejects},
	{"unknown source field", with(amendment(openChange), `"source":{"title":"Press release","author":"Acme"}`), "source.author", "is not a field of a source", schemaRejects},
	{"unknown change field", amendment(`{"op":"close","reason":"merger"}`), "changes[0].reason", "is not a field of a change", schemaRejects},
	{"unknown clause field", amendment(openChange, add(with(licenseClause, `"territory":"de"`))), "changes[1].clause.territory", "is not a field of a clause", schemaRejects},
	{"unknown scope field", amendment(openChange, add(with(licenseClause, `"scope":{"regions":["eu"]}`))), "changes[1].clause.scope.regions", "is not a field of a scope", schemaRejects},
	{"unknown money field", amendment(openChange, add(replace(commitmentClause, `"currency":"USD"`, `"currency":"USD","value":"5"`))), "changes[1].clause.amount.value", "is not a field of a money", schemaRejects},
	{"unknown term field", amendment(openChange, add(with(licenseClause, `"term":{"until":"2030-01-01"}`))), "changes[1].clause.term.until", "is not a field of a term", schemaRejects},
	{"unknown period field", amendment(replace(reportChange, `"end":"2026-01-01"`, `"end":"2026-01-01","from":"2025-10-01"`)), "changes[0].period.from", "is not a field of a period", schemaRejects},
	{"unknown tranche field", amendment(openChange, add(replace(investmentClause, `"id":"initial"`, `"id":"initial","due":"2027-01-01"`))), "changes[1].clause.tranches[0].due", "is not a field of a tranche", schemaRejects},
	{"unknown undisclosed-rate field", amendment(openChange, add(replace(shareClause, `"0.05"`, `{"undisclosed":true,"reason":"confidential"}`))), "changes[1].clause.rate.reason", "is not a field of an undisclosed rate", schemaRejects},
	{"op with the wrong case", amendment(`{"Op":"close"}`), "changes[0].Op", "is not a field of a change", schemaRejects},
	{"kind with the wrong case", amendment(add(replace(licenseClause, `"kind"`, `"Kind"`))), "changes[0].clause.kind", "is required", schemaRejects},

	// Ops and kinds.
	{"unknown op", amendment(`{"op":"suspend","clause":"royalty"}`), "changes[0].op", `"suspend" is not an op (one of: open, add, amend, end, declare, report, fund, retract, close)`, schemaRejects},
	{"op missing", amendment(`{"clause":"royalty"}`), "changes[0].op", "is required", schemaRejects},
	{"unknown kind", amendment(openChange, add(replace(licenseClause, `"license"`, `"warranty"`))), "changes[1].clause.kind", `"warranty" is not a clause kind`, schemaRejects},
	{"field of another kind", amendment(openChange, add(with(licenseClause, `"rate":"0.1"`))), "changes[1].clause.rate", "is not a field of a license clause", schemaRejects},
	{"field of another kind set to null", amendment(openChange, add(with(licenseClause, `"rate":null`))), "changes[1].clause.rate", "is not a field of a license clause", schemaRejects},
	{"field of another op", amendment(`{"op":"close","clause":"royalty"}`), "changes[0].clause", `is not a field of a "close" change (it takes no other fields)`, schemaRejects},
	{"field of another op set to null", amendment(`{"op":"declare","condition":"agi","tranche":null}`), "changes[0].tranche", `is not a field of a "declare" change (it takes condition)`, schemaRejects},

	// Required fields, per op.
	{"open without parties", amendment(`{"op":"open","title":"Supply"}`), "changes[0].parties", "is required", schemaRejects},
	{"open without title", amendment(`{"op":"open","parties":["acme","globex"]}`), "changes[0].title", "is required", schemaRejects},
	{"add without clause", amendment(`{"op":"add"}`), "changes[0].clause", "is required", schemaRejects},
	{"amend without set", amendment(`{"op":"amend","clause":"royalty"}`), "changes[0].set", "is required", schemaRejects},
	{"end without clause", amendment(`{"op":"end"}`), "changes[0].clause", "is required", schemaRejects},
	{"declare without condition", amendment(`{"op":"declare"}`), "changes[0].condition", "is required", schemaRejects},
	{"report without base", amendment(replace(reportChange, `,"base":{"amount":"1200000","currency":"USD"}`, ``)), "changes[0].base", "is required", schemaRejects},
	{"report without period", amendment(replace(reportChange, `"period":{"start":"2025-10-01","end":"2026-01-01"},`, ``)), "changes[0].period", "is required", schemaRejects},
	{"fund without tranche", amendment(`{"op":"fund","clause":"stake"}`), "changes[0].tranche", "is required", schemaRejects},
	{"retract without amendment", amendment(`{"op":"retract"}`), "changes[0].amendment", "is required", schemaRejects},

	// Required fields, per kind.
	{"license without subject", amendment(openChange, add(replace(licenseClause, `,"subject":"Acme rocket patents"`, ``))), "changes[1].clause.subject", "is required", schemaRejects},
	{"exclusivity without holder", amendment(openChange, add(replace(exclusivityClause, `,"holder":"globex"`, ``))), "changes[1].clause.holder", "is required", schemaRejects},
	{"revenue share without rate", amendment(openChange, add(replace(shareClause, `,"rate":"0.05"`, ``))), "changes[1].clause.rate", "is required", schemaRejects},
	{"commitment without amount", amendment(openChange, add(replace(commitmentClause, `"amount":{"amount":"250000","currency":"USD"},`, ``))), "changes[1].clause.amount", "is required", schemaRejects},
	{"investment without tranches", amendment(openChange, add(`{"id":"stake","kind":"investment","investor":"acme","investee":"globex"}`)), "changes[1].clause.tranches", "is required", schemaRejects},
	{"right without right", amendment(openChange, add(replace(rightClause, `,"right":"first-release"`, ``))), "changes[1].clause.right", "is required", schemaRejects},
	{"obligation without what", amendment(openChange, add(replace(obligationClause, `,"what":"second-line support"`, ``))), "changes[1].clause.what", "is required", schemaRejects},
	{"clause without id", amendment(openChange, add(replace(obligationClause, `"id":"support",`, ``))), "changes[1].clause.id", "is required", schemaRejects},
	{"clause without kind", amendment(openChange, add(replace(obligationClause, `"kind":"obligation",`, ``))), "changes[1].clause.kind", "is required", schemaRejects},
	{"amendment without effective", `{"agreement":"acme-globex","changes":[` + openChange + `]}`, "effective", "is required", schemaRejects},
	{"amendment without agreement", `{"effective":"2026-02-27","changes":[` + openChange + `]}`, "agreement", "is required", schemaRejects},
	{"amendment without changes", `{"agreement":"acme-globex","effective":"2026-02-27"}`, "changes", "is required", schemaRejects},

	// Null for required fields.
	{"null agreement", replace(amendment(openChange), `"acme-globex"`, `null`), "agreement", "is required and must not be null", schemaRejects},
	{"null rate", amendment(openChange, add(replace(shareClause, `"0.05"`, `null`))), "changes[1].clause.rate", "is required and must not be null", schemaRejects},
	{"null period start", amendment(replace(reportChange, `"start":"2025-10-01"`, `"start":null`)), "changes[0].period.start", "is required and must not be null", schemaRejects},
	{"null op", amendment(`{"op":null}`), "changes[0].op", "is required", schemaRejects},

	// Slugs.
	{"slug with a dot", replace(amendment(openChange), `"acme-globex"`, `"acme.globex"`), "agreement", `"acme.globex" is not a valid slug`, schemaRejects},
	{"slug that is a wildcard", amendment(replace(openChange, `"globex"`, `"*"`)), "changes[0].parties[1]", "is not a valid slug", schemaRejects},
	{"slug with '>'", amendment(`{"op":"declare","condition":"agi>"}`), "changes[0].condition", "is not a valid slug", schemaRejects},
	{"slug with a space", amendment(openChange, add(replace(licenseClause, `"patent-license"`, `"patent license"`))), "changes[1].clause.id", "is not a valid slug", schemaRejects},
	{"slug in upper case", amendment(openChange, add(replace(exclusivityClause, `"holder":"globex"`, `"holder":"Globex"`))), "changes[1].clause.holder", "lower-case letters, digits and '-'", schemaRejects},
	{"slug with a Cyrillic look-alike", amendment(openChange, add(replace(licenseClause, `"licensor":"acme"`, `"licensor":"аcme"`))), "changes[1].clause.licensor", "is not a valid slug", schemaRejects},
	{"slug of 64 characters", replace(amendment(openChange), `"acme-globex"`, `"`+strings.Repeat("a", 64)+`"`), "agreement", "at most 63 characters", schemaRejects},
	{"slug starting with a hyphen", amendment(openChange, add(with(licenseClause, `"scope":{"channels":["-api"]}`))), "changes[1].clause.scope.channels[0]", "is not a valid slug", schemaRejects},
	{"tranche id in upper case", amendment(openChange, add(replace(investmentClause, `"initial"`, `"Initial"`))), "changes[1].clause.tranches[0].id", "is not a valid slug", schemaRejects},
	{"ends_on not a slug", amendment(openChange, add(with(licenseClause, `"term":{"ends_on":"AGI declared"}`))), "changes[1].clause.term.ends_on", "is not a valid slug", schemaRejects},

	// Lists, scopes and tranches.
	{"empty changes", amendment(), "changes", "must list at least one change", schemaRejects},
	{"open not first", amendment(add(licenseClause), openChange), "changes[1].op", `"open" must be the first change`, schemaRejects},
	{"party listed twice", amendment(replace(openChange, `["acme","globex"]`, `["acme","globex","acme"]`)), "changes[0].parties[2]", `party "acme" is listed twice`, schemaRejects},
	{"one party", amendment(replace(openChange, `["acme","globex"]`, `["acme"]`)), "changes[0].parties", "must list at least two parties", schemaRejects},
	{"no parties", amendment(replace(openChange, `["acme","globex"]`, `[]`)), "changes[0].parties", "must list at least two parties", schemaRejects},
	{"scope value listed twice", amendment(openChange, add(with(licenseClause, `"scope":{"products":["skates","anvils","skates"]}`))), "changes[1].clause.scope.products[2]", `"skates" is listed twice`, schemaRejects},
	{"wildcard mixed with values", amendment(openChange, add(with(licenseClause, `"scope":{"channels":["api","*"]}`))), "changes[1].clause.scope.channels", "cannot be combined with others", schemaRejects},
	{"wildcard listed twice", amendment(openChange, add(with(licenseClause, `"scope":{"channels":["*","*"]}`))), "changes[1].clause.scope.channels[1]", `"*" is listed twice`, schemaRejects},
	{"empty scope dimension", amendment(openChange, add(with(licenseClause, `"scope":{"territories":[]}`))), "changes[1].clause.scope.territories", `must list at least one value, or be ["*"]`, schemaRejects},
	{"scope as an array", amendment(openChange, add(with(licenseClause, `"scope":["api"]`))), "changes[1].clause.scope", "must be a scope object, not an array", schemaRejects},
	{"tranche ids used twice", amendment(openChange, add(replace(investmentClause, `}]}`, `},{"id":"initial","amount":{"amount":"5","currency":"USD"}}]}`))), "changes[1].clause.tranches[1].id", `tranche id "initial" is used twice`, schemaAccepts},
	{"empty tranches", amendment(openChange, add(`{"id":"stake","kind":"investment","investor":"acme","investee":"globex","tranches":[]}`)), "changes[1].clause.tranches", "must list at least one tranche", schemaRejects},
	{"holder is the grantor", amendment(openChange, add(replace(exclusivityClause, `"holder":"globex"`, `"holder":"acme"`))), "changes[1].clause.holder", "must be a different party from the grantor (acme)", schemaAccepts},
	{"licensee is the licensor", amendment(openChange, add(replace(licenseClause, `"licensee":"globex"`, `"licensee":"acme"`))), "changes[1].clause.licensee", "must be a different party from the licensor", schemaAccepts},

	// Amend, end, retract.
	{"amend set with id", amendment(`{"op":"amend","clause":"royalty","set":{"id":"royalty-2"}}`), "changes[0].set.id", "cannot be changed; end the clause and add a new one instead", schemaRejects},
	{"amend set with kind", amendment(`{"op":"amend","clause":"royalty","set":{"kind":"license"}}`), "changes[0].set.kind", "cannot be changed", schemaRejects},
	{"amend set with an unknown field", amendment(`{"op":"amend","clause":"royalty","set":{"percentage":"0.1"}}`), "changes[0].set.percentage", "is not a clause field", schemaRejects},
	{"amend set empty", amendment(`{"op":"amend","clause":"royalty","set":{}}`), "changes[0].set", "must set at least one field", schemaRejects},
	{"amend set with a bad value", amendment(`{"op":"amend","clause":"royalty","set":{"rate":"2"}}`), "changes[0].set.rate", "must be between 0 and 1", schemaRejects},
	{"clause object given to end", amendment(`{"op":"end","clause":` + licenseClause + `}`), "changes[0].clause", `must be the id of the clause to end (a string); only "add" takes a whole clause`, schemaRejects},
	{"clause object given to amend", amendment(`{"op":"amend","clause":` + licenseClause + `,"set":{"exclusive":true}}`), "changes[0].clause", `only "add" takes a whole clause`, schemaRejects},
	{"clause id given to add", amendment(`{"op":"add","clause":"patent-license"}`), "changes[0].clause", "must be a clause object, not a string", schemaRejects},
	{"retract of a non-ULID", amendment(`{"op":"retract","amendment":"last-tuesday"}`), "changes[0].amendment", `"last-tuesday" is not a ULID`, schemaRejects},
	{"retract of a ULID with a U", amendment(`{"op":"retract","amendment":"01KJE6A900JMRNV7E9Z0C1HT0U"}`), "changes[0].amendment", "is not a ULID", schemaRejects},
	{"retract of an overflowing ULID", amendment(`{"op":"retract","amendment":"81KJE6A900JMRNV7E9Z0C1HT0H"}`), "changes[0].amendment", "is not a ULID", schemaRejects},
	{"amendment retracting itself", with(amendment(`{"op":"retract","amendment":"`+aULID+`"}`), `"id":"`+aULID+`"`), "changes[0].amendment", "an amendment cannot retract itself", schemaAccepts},
	{"id not a ULID", with(amendment(openChange), `"id":"amendment-1"`), "id", "is not a ULID", schemaRejects},

	// Text.
	{"control character in summary", with(amendment(openChange), `"summary":"ring the bell \u0007"`), "summary", "must not contain control characters (found U+0007)", schemaRejects},
	{"carriage return in title", amendment(replace(openChange, `supply agreement`, `supply\r\nagreement`)), "changes[0].title", "found U+000D", schemaRejects},
	{"NUL in a note", amendment(openChange, add(with(licenseClause, `"note":"a\u0000b"`))), "changes[1].clause.note", "found U+0000", schemaRejects},
	{"blank title", amendment(replace(openChange, `"Acme–Globex supply agreement"`, `" \t "`)), "changes[0].title", "must not be blank", schemaRejects},
	{"title of no-break spaces", amendment(replace(openChange, `"Acme–Globex supply agreement"`, `"\u00a0\u3000"`)), "changes[0].title", "must not be blank", schemaRejects},
	{"summary too long", with(amendment(openChange), `"summary":"`+strings.Repeat("x", events.MaxText+1)+`"`), "summary", "is too long (4097 bytes; at most 4096)", schemaRejects},
	{"summary too long in bytes, not in characters", with(amendment(openChange), `"summary":"`+strings.Repeat("€", 2000)+`"`), "summary", "is too long (6000 bytes", schemaAccepts},
	{"quote too long", with(amendment(openChange), `"source":{"quote":"`+strings.Repeat("q", events.MaxQuote+1)+`"}`), "source.quote", "is too long", schemaRejects},

	// Duplicate members and wrong types.
	{"member given twice", `{"agreement":"acme-globex","agreement":"globex-acme","effective":"2026-02-27","changes":[` + openChange + `]}`, "agreement", "is given more than once", schemaAccepts},
	{"clause member given twice", amendment(openChange, add(with(exclusivityClause, `"holder":"initech"`))), "changes[1].clause.holder", "is given more than once", schemaAccepts},
	{"changes as an object", `{"agreement":"acme-globex","effective":"2026-02-27","changes":` + openChange + `}`, "changes", "must be an array, not an object", schemaRejects},
	{"change as a string", amendment(`"close"`), "changes[0]", "must be a change object, not a string", schemaRejects},
	{"parties as a string", amendment(replace(openChange, `["acme","globex"]`, `"acme, globex"`)), "changes[0].parties", "must be an array, not a string", schemaRejects},
	{"exclusive as a string", amendment(openChange, add(with(licenseClause, `"exclusive":"yes"`))), "changes[1].clause.exclusive", "must be true or false, not a string", schemaRejects},
	{"tranches as an object", amendment(openChange, add(`{"id":"stake","kind":"investment","investor":"acme","investee":"globex","tranches":{"id":"initial"}}`)), "changes[1].clause.tranches", "must be an array, not an object", schemaRejects},
	{"source as a string", with(amendment(openChange), `"source":"press release"`), "source", "must be a source object, not a string", schemaRejects},
	{"op as a number", amendment(`{"op":1}`), "changes[0].op", "must be a string, not a number", schemaRejects},
}

func TestDecodeRejects(t *testing.T) {
	if len(badInputs) < 45 {
		t.Fatalf("only %d bad inputs", len(badInputs))
	}
	for _, tc := range badInputs {
		t.Run(tc.name, func(t *testing.T) {
			got, err := events.Decode([]byte(tc.input))
			if err == nil {
				t.Fatalf("Decode accepted the input, giving %d amendments", len(got))
			}
			if got != nil {
				t.Errorf("Decode returned amendments with an error")
			}
			var e *events.Error
			if !errors.As(err, &e) {
				t.Fatalf("error is %T, not *events.Error: %v", err, err)
			}
			if e.Kind != events.Invalid || events.KindOf(err) != events.Invalid {
				t.Errorf("kind = %q, want %q", e.Kind, events.Invalid)
			}
			if len(e.Fields) == 0 {
				t.Fatalf("no field errors: %v", err)
			}
			for _, f := range e.Fields {
				if f.Path == tc.path && strings.Contains(f.Message, tc.msg) {
					if !strings.Contains(err.Error(), f.Error()) {
						t.Errorf("Error() %q does not include the field error %q", err, f.Error())
					}
					return
				}
			}
			t.Errorf("no field error at %q containing %q; got:\n%s", tc.path, tc.msg, describe(e.Fields))
		})
	}
}

func describe(fields []events.FieldError) string {
	var b strings.Builder
	for _, f := range fields {
		fmt.Fprintf(&b, "\t%q: %s\n", f.Path, f.Message)
	}
	return b.String()
}

// TestDecodeReportsEveryProblem checks that all problems of an input are
// reported at once, each at its own path, in path order.
func TestDecodeReportsEveryProblem(t *testing.T) {
	tests := []struct {
		name  string
		input string
		paths []string
	}{
		{"three problems in one amendment",
			replace(amendment(replace(openChange, `"globex"`, `"Globex"`), add(replace(shareClause, `"0.05"`, `"1.5"`))), "2026-02-27", "soon"),
			[]string{"changes[0].parties[1]", "changes[1].clause.rate", "effective"}},
		{"problems in the first and third of three amendments",
			"[" + replace(amendment(openChange), `"acme-globex"`, `"Acme"`) + "," + amendment(add(licenseClause)) + "," + replace(amendment(`{"op":"close"}`), "2026-02-27", "2026-02-30") + "]",
			[]string{"[0].agreement", "[2].effective"}},
		{"every missing field of a clause",
			amendment(add(`{"id":"royalty","kind":"revenue_share"}`)),
			[]string{"changes[0].clause.payee", "changes[0].clause.payer", "changes[0].clause.rate"}},
		{"problems in changes 2 and 10 sort numerically",
			amendment(openChange, `{"op":"declare","condition":"A"}`, openChange, openChange, openChange, openChange, openChange, openChange, openChange, openChange, `{"op":"declare","condition":"B"}`),
			[]string{"changes[1].condition", "changes[2].op", "changes[3].op", "changes[4].op", "changes[5].op", "changes[6].op", "changes[7].op", "changes[8].op", "changes[9].op", "changes[10].condition"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := events.Decode([]byte(tc.input))
			var e *events.Error
			if !errors.As(err, &e) || e.Kind != events.Invalid {
				t.Fatalf("want an Invalid *events.Error, got %v", err)
			}
			var paths []string
			for _, f := range e.Fields {
				paths = append(paths, f.Path)
			}
			if strings.Join(paths, " ") != strings.Join(tc.paths, " ") {
				t.Errorf("paths = %q, want %q; errors:\n%s", paths, tc.paths, describe(e.Fields))
			}
			if e.Field() != tc.paths[0] {
				t.Errorf("Field() = %q, want %q", e.Field(), tc.paths[0])
			}
		})
	}
}

// goodInputs are inputs Decode accepts, written in unusual but valid ways,
// with a check of what they decode to.
var goodInputs = []struct {
	name  string
	input string
	check func(t *testing.T, as []*events.Amendment)
}{
	{"one object", amendment(openChange), func(t *testing.T, as []*events.Amendment) {
		wantLen(t, as, 1)
		a := as[0]
		if a.Agreement != "acme-globex" || !a.Effective.Equal(time.Date(2026, 2, 27, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("agreement %q effective %v", a.Agreement, a.Effective)
		}
		c := a.Changes[0]
		if c.Op != events.Open || c.Of().Title != "Acme–Globex supply agreement" || strings.Join(c.Of().Parties, ",") != "acme,globex" {
			t.Errorf("open change = %+v", c)
		}
	}},
	{"array of two", "[" + amendment(openChange) + ",\n" + amendment(`{"op":"close"}`) + "]", func(t *testing.T, as []*events.Amendment) {
		wantLen(t, as, 2)
		if as[1].Changes[0].Op != events.Close {
			t.Errorf("second amendment's op = %q", as[1].Changes[0].Op)
		}
	}},
	{"JSON Lines with blank lines and CRLF", "\r\n" + amendment(openChange) + "\r\n\r\n" + amendment(`{"op":"close"}`) + "\n" + amendment(`{"op":"declare","condition":"agi"}`) + "\n", func(t *testing.T, as []*events.Amendment) {
		wantLen(t, as, 3)
		if as[2].Changes[0].Of().Condition != "agi" {
			t.Errorf("third amendment = %+v", as[2].Changes[0])
		}
	}},
	{"byte order mark", "\ufeff" + amendment(openChange), func(t *testing.T, as []*events.Amendment) {
		wantLen(t, as, 1)
	}},
	{"nulls for optional fields", `{"id":null,"agreement":"acme-globex","effective":"2026-02-27","signed":null,"summary":null,"source":null,"changes":[` +
		add(with(shareClause, `"cap":null,"term":null,"note":null,"base":null`)) + `]}`, func(t *testing.T, as []*events.Amendment) {
		a := as[0]
		c := a.Changes[0].Clause
		if !a.Signed.IsZero() || a.Summary != "" || a.Source != nil || c.Cap != nil || c.Term != nil || c.Note != "" || c.What != "" {
			t.Errorf("nulls were not read as absent: %+v %+v", a, c)
		}
	}},
	{"rate and money written loosely", amendment(add(with(replace(shareClause, `"0.05"`, `"00.200"`), `"cap":{"amount":"0001500.2500","currency":"EUR"}`))), func(t *testing.T, as []*events.Amendment) {
		c := as[0].Changes[0].Clause
		if c.Rate.String() != "0.2" || c.Cap.String() != "1500.25 EUR" {
			t.Errorf("rate %s cap %s", c.Rate, c.Cap)
		}
	}},
	{"rate of exactly one and zero money", amendment(add(replace(shareClause, `"0.05"`, `"1.000"`)), add(replace(commitmentClause, `"250000"`, `"0"`))), func(t *testing.T, as []*events.Amendment) {
		if r := as[0].Changes[0].Clause.Rate; r.String() != "1" {
			t.Errorf("rate %s", r)
		}
		if m := as[0].Changes[1].Clause.Amount; m.String() != "0 USD" {
			t.Errorf("amount %s", m)
		}
	}},
	{"undisclosed amounts and rate", amendment(add(with(replace(shareClause, `"0.05"`, `{"undisclosed":true}`), `"cap":{"undisclosed":true,"currency":"USD"}`)), add(replace(commitmentClause, `{"amount":"250000","currency":"USD"}`, `{"undisclosed":true,"amount":null}`))), func(t *testing.T, as []*events.Amendment) {
		c := as[0].Changes[0].Clause
		if !c.Rate.Undisclosed || !c.Cap.Undisclosed || c.Cap.Currency != "USD" || !c.Cap.Amount.IsZero() {
			t.Errorf("rate %s cap %s", c.Rate, c.Cap)
		}
		if m := as[0].Changes[1].Clause.Amount; !m.Undisclosed || m.Currency != "" {
			t.Errorf("amount %s", m)
		}
	}},
	{"scopes with wildcards", amendment(add(with(licenseClause, `"scope":{"products":["*"],"channels":["\u002a"],"territories":["us","de","fr"],"platforms":null}`))), func(t *testing.T, as []*events.Amendment) {
		s := as[0].Changes[0].Clause.Scope
		if s == nil || s.Products != nil || s.Channels != nil || s.Platforms != nil || strings.Join(s.Territories, ",") != "de,fr,us" {
			t.Errorf("scope = %+v", s)
		}
		// A scope is a set: what is stored (and hashed, and shown) is
		// sorted, not the order given.
		if b, err := as[0].MarshalJSON(); err != nil || !strings.Contains(string(b), `"scope":{"territories":["de","fr","us"]}`) {
			t.Errorf("canonical form %s, %v", b, err)
		}
	}},
	{"scope of only wildcards is everything", amendment(add(with(exclusivityClause, `"scope":{"products":["*"],"channels":["*"]}`))), func(t *testing.T, as []*events.Amendment) {
		if s := as[0].Changes[0].Clause.Scope; s != nil || !s.IsAll() {
			t.Errorf("scope = %+v", s)
		}
	}},
	{"times with offsets and fractions", replace(amendment(add(with(licenseClause, `"term":{"start":"2026-03-01T01:00:00+01:00","end":"2033-01-01","ends_on":"agi"}`))), `"2026-02-27"`, `"2026-02-27T09:30:00.125-08:00"`), func(t *testing.T, as []*events.Amendment) {
		a := as[0]
		if want := time.Date(2026, 2, 27, 17, 30, 0, 125e6, time.UTC); !a.Effective.Equal(want) || a.Effective.Location() != time.UTC {
			t.Errorf("effective = %v, want %v in UTC", a.Effective, want)
		}
		term := a.Changes[0].Clause.Term
		if !term.Start.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)) || !term.End.Equal(time.Date(2033, 1, 1, 0, 0, 0, 0, time.UTC)) || term.EndsOn != "agi" {
			t.Errorf("term = %+v", term)
		}
	}},
	{"leap day and the ends of the range", with(replace(amendment(openChange), "2026-02-27", "2024-02-29"), `"signed":"1900-01-01"`) + "\n" + replace(amendment(`{"op":"close"}`), "2026-02-27", "9999-12-31T23:59:59.999999999Z"), func(t *testing.T, as []*events.Amendment) {
		wantLen(t, as, 2)
		if as[0].Effective.Format(time.DateOnly) != "2024-02-29" || as[0].Signed.Year() != 1900 || as[1].Effective.Year() != 9999 {
			t.Errorf("times %v %v %v", as[0].Effective, as[0].Signed, as[1].Effective)
		}
	}},
	{"lower-case ULIDs", with(amendment(`{"op":"retract","amendment":"01kje6a900jmrnv7e9z0c1ht0h"}`), `"id":"01kksz2g00g7kyhrjxjg7dj13n"`), func(t *testing.T, as []*events.Amendment) {
		a := as[0]
		if a.ID.String() != "01KKSZ2G00G7KYHRJXJG7DJ13N" || a.Changes[0].Of().Target.String() != aULID {
			t.Errorf("id %s target %s", a.ID, a.Changes[0].Of().Target)
		}
	}},
	{"amend that clears optional fields", amendment(`{"op":"amend","clause":"royalty","set":{"cap":null,"note":null,"rate":"0.1"}}`), func(t *testing.T, as []*events.Amendment) {
		set := as[0].Changes[0].Set
		if strings.Join(set.Names, ",") != "cap,note,rate" || set.Values.Cap != nil || set.Values.Rate.String() != "0.1" {
			t.Errorf("set = %+v", set)
		}
	}},
	{"every op", amendment(openChange, add(investmentClause), `{"op":"amend","clause":"stake","set":{"note":"renegotiated"}}`, `{"op":"fund","clause":"stake","tranche":"initial"}`,
		reportChange, `{"op":"declare","condition":"agi"}`, `{"op":"end","clause":"stake"}`, `{"op":"retract","amendment":"`+aULID+`"}`, `{"op":"close"}`), func(t *testing.T, as []*events.Amendment) {
		var ops []string
		for _, c := range as[0].Changes {
			ops = append(ops, string(c.Op))
		}
		if got := strings.Join(ops, " "); got != "open add amend fund report declare end retract close" {
			t.Errorf("ops = %s", got)
		}
		if r := as[0].Changes[4]; r.ClauseID != "royalty" || r.Of().Base.String() != "1200000 USD" || r.Of().Period.End.Format(time.DateOnly) != "2026-01-01" {
			t.Errorf("report = %+v", r)
		}
	}},
	{"text with tabs, newlines and symbols", with(amendment(openChange), `"summary":"Line one\n\tLine two — “quoted” <b>&</b> 💡"`), func(t *testing.T, as []*events.Amendment) {
		if as[0].Summary != "Line one\n\tLine two — “quoted” <b>&</b> 💡" {
			t.Errorf("summary = %q", as[0].Summary)
		}
	}},
	{"text of exactly the maximum length", with(amendment(openChange), `"summary":"`+strings.Repeat("x", events.MaxText)+`"`), func(t *testing.T, as []*events.Amendment) {
		if len(as[0].Summary) != events.MaxText {
			t.Errorf("summary has %d bytes", len(as[0].Summary))
		}
	}},
	{"slug of 63 characters", replace(amendment(openChange), `"acme-globex"`, `"0`+strings.Repeat("-", 62)+`"`), func(t *testing.T, as []*events.Amendment) {
		if len(as[0].Agreement) != 63 {
			t.Errorf("agreement = %q", as[0].Agreement)
		}
	}},
}

func wantLen(t *testing.T, as []*events.Amendment, n int) {
	t.Helper()
	if len(as) != n {
		t.Fatalf("got %d amendments, want %d", len(as), n)
	}
}

func TestDecodeAccepts(t *testing.T) {
	for _, tc := range goodInputs {
		t.Run(tc.name, func(t *testing.T) {
			as, err := events.Decode([]byte(tc.input))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			tc.check(t, as)
		})
	}
}

// TestDecodeFor: input sent to one agreement may leave out "agreement"; one
// that names another is read as written (the caller refuses it), and a null
// agreement is not leaving it out.
func TestDecodeFor(t *testing.T) {
	as, err := events.DecodeFor([]byte(`{"effective":"2026-01-01","changes":[{"op":"declare","condition":"agi"}]}
{"agreement":"other","effective":"2026-01-01","changes":[{"op":"declare","condition":"agi"}]}`), "deal")
	if err != nil || len(as) != 2 || as[0].Agreement != "deal" || as[1].Agreement != "other" {
		t.Fatalf("DecodeFor: %v %v", as, err)
	}
	_, err = events.DecodeFor([]byte(`{"agreement":null,"effective":"2026-01-01","changes":[{"op":"declare","condition":"agi"}]}`), "deal")
	if e, ok := err.(*events.Error); !ok || e.Field() != "agreement" {
		t.Errorf("null agreement: %v", err)
	}
	_, err = events.Decode([]byte(`{"effective":"2026-01-01","changes":[{"op":"declare","condition":"agi"}]}`))
	if e, ok := err.(*events.Error); !ok || e.Field() != "agreement" || !strings.Contains(err.Error(), "required") {
		t.Errorf("Decode without agreement: %v", err)
	}
}
