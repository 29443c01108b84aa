package httpapi_test

import (
	"strings"
	"testing"

	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/chromedp/chromedp"
)

// umbrella is an agreement whose rate rose in 2025 (v2), then was
// corrected retroactively (v3, recorded later, effective when v2 is).
var umbrella = []string{
	`[{"agreement":"acme-umbrella","effective":"2024-01-01","summary":"the licence and its royalty",
	  "changes":[{"op":"open","title":"Acme–Umbrella","parties":["acme","umbrella"]},
	   {"op":"add","clause":{"id":"royalty","kind":"revenue_share","payer":"umbrella","payee":"acme","rate":"0.10","base":"net sales"}}]},
	 {"agreement":"acme-umbrella","effective":"2025-01-01","summary":"the rate rises",
	  "changes":[{"op":"amend","clause":"royalty","set":{"rate":"0.15"}}]}]`,
	`{"agreement":"acme-umbrella","effective":"2025-01-01","summary":"correction: the rate rose to 0.12",
	  "changes":[{"op":"amend","clause":"royalty","set":{"rate":"0.12"}}]}`,
}

// TestUISameEffective: the view of an agreement with two amendments
// effective at the same instant marks them once, labelled with both
// versions, and details each.
func TestUISameEffective(t *testing.T) {
	l := ledgertest.New(t)
	l.Given(umbrella[0])
	l.Given(umbrella[1])
	s := newServerOn(t, l)
	view := string(s.do(req{path: "/ui/view/acme-umbrella?at=2025-06-01&width=900"}).Body)
	wellFormed(t, "view", view)
	if n := strings.Count(view, `class="marker stack"`); n != 1 || !strings.Contains(view, `data-versions="v2 v3"`) {
		t.Errorf("%d stacks of markers, want one of v2 and v3", n)
	}
	for _, v := range []string{">v2</tspan>", ">v3</tspan>", "<h4>Amendment v2</h4>", "<h4>Amendment v3</h4>"} {
		if !strings.Contains(view, v) {
			t.Errorf("the view lacks %q", v)
		}
	}
}

// TestBrowserSameEffective: on the page, the marker of two amendments
// effective at the same instant names both; pointing at a version shows
// its details, at the marker both of theirs.
func TestBrowserSameEffective(t *testing.T) {
	b := newBrowser(t)
	l := ledgertest.New(t)
	l.Given(umbrella[0])
	l.Given(umbrella[1])
	s := newServerOn(t, l)
	do, text, shot := b.do, b.text, b.shot

	do("loading the page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.URL+"/#at=2025-06-01"),
		chromedp.WaitVisible(chromedp.CSS(`#agreements button.agreement[data-agreement="acme-umbrella"]`)),
		chromedp.Click(chromedp.CSS(`#agreements button.agreement[data-agreement="acme-umbrella"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.view[data-agreement="acme-umbrella"][data-at="2025-06-01"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	label, err := eval[string](b, `document.querySelector('g.marker.stack text').textContent`)
	if err != nil {
		t.Fatal(err)
	}
	do("clicking v3", chromedp.Click(chromedp.CSS(`g.marker.stack tspan:last-of-type`)), chromedp.WaitVisible(chromedp.CSS(`#detail h4`)))
	v3 := text(`#detail`)
	shot("same-effective-v3.png")
	do("clicking the marker", chromedp.Click(chromedp.CSS(`g.marker.stack path`)), chromedp.WaitVisible(chromedp.CSS(`#detail h4`)))
	both := text(`#detail`)
	shot("same-effective-both.png")

	if label != "v2, v3" {
		t.Errorf("the marker is labelled %q, want v2, v3", label)
	}
	if !strings.Contains(v3, "Amendment v3") || !strings.Contains(v3, "correction") || strings.Contains(v3, "Amendment v2") {
		t.Errorf("the details of v3: %q", v3)
	}
	if !strings.Contains(both, "Amendment v2") || !strings.Contains(both, "the rate rises") || !strings.Contains(both, "Amendment v3") {
		t.Errorf("the details of the marker of v2 and v3: %q", both)
	}
	b.checkScripts()
}
