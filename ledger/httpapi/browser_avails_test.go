package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserAvails loads the page in headless Chromium with the seed
// history, asks the avails form when each party may serve Frontier by API
// around March 2026, and reads the bands: Amazon is kept out by Azure's API
// exclusivity until the renegotiation and may serve from then on; hovering
// the band names the deciding clause; the calendar beside it lists the
// renegotiation's ends. The known-at control applies: as known yesterday
// nothing had been recorded, so no party is kept out.
func TestBrowserAvails(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required in CI for the browser test: apt-get install -y chromium")
		}
		t.Skip("\n\n*** SKIPPING THE BROWSER TEST: no Chromium found (apt-get install -y chromium, or set CHROMIUM). In CI it runs. ***\n")
	}
	s := newServer(t, true)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Flag("headless", true), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.Flag("disable-background-networking", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.WindowSize(1280, 800))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	var mu sync.Mutex
	var jsErrors []string
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				mu.Lock()
				jsErrors = append(jsErrors, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m.Text))
				mu.Unlock()
			}
		}
	}()
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	count := func(sel string) int {
		t.Helper()
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
		if err != nil {
			t.Fatalf("count of %s: %v", sel, err)
		}
		return n
	}
	dir := artifacts(t)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot (1280×800): %s", path)
	}

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
	hash, err2 := chromedp.Run(ctx, chromedp.Evaluate[string](`location.hash`))
	if err2 != nil || !strings.Contains(hash, "view=avails") || !strings.Contains(hash, "product=frontier") {
		t.Errorf("the address does not keep the view: %q %v", hash, err2)
	}
	parties, err := chromedp.Run(ctx, chromedp.Evaluate[string](`Array.from(document.querySelectorAll('svg.avails text.party')).map(e => e.textContent).join(' ')`))
	if err != nil {
		t.Fatal(err)
	}
	amazonDenied := count(`g.band.denied[data-party="amazon"][data-from="2021-03-15"][data-until="2026-04-27"]`)
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
	if amazonDenied != 1 || amazonAllowed != 1 || microsoftDenied != 1 {
		t.Errorf("bands: amazon denied %d, allowed %d; microsoft denied from the Amazon deal %d; want one each", amazonDenied, amazonAllowed, microsoftDenied)
	}
	for _, want := range []string{"amazon: kept out", "2021-03-15 → 2026-04-27", "azure-api-exclusivity", "microsoft-openai", "exclusivity from openai to microsoft"} {
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
	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Errorf("script errors: %v", jsErrors)
	}
}
