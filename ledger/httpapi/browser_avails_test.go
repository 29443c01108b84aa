package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAvails loads the page in headless Chromium with the seed
// history, asks the avails form when each party may serve Frontier by API
// around March 2026, and reads the bands: Amazon is kept out by Azure's API
// exclusivity until the renegotiation (holding its own from the Amazon
// deal) and may serve from then on; hovering the band names the deciding
// clause; the calendar beside it lists the
// renegotiation's ends. The known-at control applies: as known yesterday
// nothing had been recorded, so no party is kept out.
func TestBrowserAvails(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, true)
	do, text, count, shot := b.do, b.text, b.count, b.shot

	// The form, on the page as of March 2026 with the axis at ± 5 years.
	do("loading the page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.URL+"/#at=2026-03-15&range=5"),
		chromedp.WaitVisible(chromedp.CSS(`#agreements button.agreement[data-agreement="microsoft-openai"]`)),
		chromedp.SendKeys(chromedp.CSS(`#av-product`), "frontier"),
		chromedp.SendKeys(chromedp.CSS(`#av-channel`), "api"),
		chromedp.Click(chromedp.CSS(`#av-show`)),
		chromedp.WaitVisible(chromedp.CSS(`.avails-view[data-product="frontier"][data-at="2026-03-15"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	hash, err2 := eval[string](b, `location.hash`)
	if err2 != nil || !strings.Contains(hash, "view=avails") || !strings.Contains(hash, "product=frontier") {
		t.Errorf("the address does not keep the view: %q %v", hash, err2)
	}
	parties, err := eval[string](b, `Array.from(document.querySelectorAll('svg.avails text.party')).map(e => e.textContent).join(' ')`)
	if err != nil {
		t.Fatal(err)
	}
	amazonDenied := count(`g.band.denied[data-party="amazon"][data-from="2021-03-15"][data-until="2026-02-27"]`)
	amazonDeniedWithBasis := count(`g.band.denied[data-party="amazon"][data-from="2026-02-27"][data-until="2026-04-27"]`)
	amazonAllowed := count(`g.band.allowed[data-party="amazon"][data-from="2026-04-27"][data-until="2031-03-15"]`)
	microsoftDenied := count(`g.band.denied[data-party="microsoft"][data-from="2026-02-27"]`)
	calendar := text(`.calendar-col`)
	do("hovering amazon's red band",
		chromedp.Click(chromedp.CSS(`g.band.denied[data-party="amazon"] rect`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail h4`)))
	detail := text(`#detail`)
	shot("avails-frontier-api-2026-03-15.png")

	// Known at yesterday: nothing was recorded yet.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	do("setting known at", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector('#known-at'); el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); })()`, yesterday)),
		chromedp.WaitVisible(chromedp.CSS(`#agreements .agreement.unknown`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	bandsThen := count(`g.band`)
	known := text(`.avails-view .meta`)
	shot("avails-known-at-yesterday.png")

	for _, p := range []string{"amazon", "microsoft", "openai"} {
		if !strings.Contains(parties, p) {
			t.Errorf("no row for %s: %q", p, parties)
		}
	}
	if amazonDenied != 1 || amazonDeniedWithBasis != 1 || amazonAllowed != 1 || microsoftDenied != 1 {
		t.Errorf("bands: amazon denied %d, then with a basis %d, allowed %d; microsoft denied from the Amazon deal %d; want one each", amazonDenied, amazonDeniedWithBasis, amazonAllowed, microsoftDenied)
	}
	for _, want := range []string{"amazon: kept out", "2021-03-15 → 2026-02-27", "azure-api-exclusivity", "microsoft-openai", "exclusivity from openai to microsoft", "Nothing in force gives amazon the right"} {
		if !strings.Contains(detail, want) {
			t.Errorf("the band's details lack %q: %q", want, detail)
		}
	}
	for _, want := range []string{"2026-04-27", "azure-api-exclusivity", "the exclusivity is ended by an amendment", "2031-01-01", "Standing risks", "tranche conditional"} {
		if !strings.Contains(calendar, want) {
			t.Errorf("the calendar lacks %q: %q", want, calendar)
		}
	}
	if bandsThen != 0 || !strings.Contains(known, "as known at "+yesterday) {
		t.Errorf("as known yesterday: %d bands, %q", bandsThen, known)
	}
	b.checkScripts()
}
