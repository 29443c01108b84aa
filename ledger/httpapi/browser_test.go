package httpapi_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium finds a Chromium to drive: $CHROMIUM, /usr/bin/chromium, or one
// on the PATH.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// artifacts is where the browser test saves its screenshots
// (testdata/artifacts, ignored by git), or $LEDGER_ARTIFACTS.
func artifacts(t *testing.T) string {
	dir := os.Getenv("LEDGER_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// browser is a headless Chromium a test drives: do runs actions, text,
// class and count read the page, shot saves a screenshot in artifacts.
// Script errors, failed loads and CSP violations are collected for
// checkScripts.
type browser struct {
	t    *testing.T
	ctx  context.Context
	dir  string
	mu   sync.Mutex
	errs []string
}

// newBrowser starts Chromium for the test, for a minute at most. Without
// one the test fails in CI and is skipped elsewhere.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromium()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("Chromium is required in CI for the browser test: apt-get install -y chromium")
		}
		t.Skip("\n\n*** SKIPPING THE BROWSER TEST: no Chromium found (apt-get install -y chromium, or set CHROMIUM). In CI it runs. ***\n")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", false),
		chromedp.WindowSize(1280, 800),
	)
	// Chromium now and then exits while starting on a loaded machine
	// ("chrome failed to start"): that is the machine, not the page, so a
	// start is tried three times.
	var ctx context.Context
	for attempt := 1; ; attempt++ {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelCtx := chromedp.NewContext(allocCtx)
		bctx, cancel := context.WithTimeout(bctx, 60*time.Second)
		err := chromedp.Do(bctx) // starts the browser
		if err == nil {
			t.Cleanup(cancelAlloc)
			t.Cleanup(cancelCtx)
			t.Cleanup(cancel)
			ctx = bctx
			break
		}
		cancel()
		cancelCtx()
		cancelAlloc()
		if attempt == 3 {
			t.Fatalf("starting Chromium: %v", err)
		}
		t.Logf("starting Chromium (attempt %d): %v", attempt, err)
	}
	b := &browser{t: t, ctx: ctx, dir: artifacts(t)}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.errs = append(b.errs, fmt.Sprintf("%s:%d %s", m.URL, m.Line+1, m.Text))
				b.mu.Unlock()
			}
		}
	}()
	return b
}

func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) class(sel string) string {
	b.t.Helper()
	a, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(sel), "class"))
	if err != nil {
		b.t.Fatalf("class of %s: %v", sel, err)
	}
	return a.Value
}

func (b *browser) count(sel string) int {
	b.t.Helper()
	n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
	if err != nil {
		b.t.Fatalf("count of %s: %v", sel, err)
	}
	return n
}

// eval returns the value of a script.
func eval[T any](b *browser, script string) (T, error) {
	return chromedp.Run(b.ctx, chromedp.Evaluate[T](script))
}

func (b *browser) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(b.dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot (1280×800): %s", path)
}

// checkScripts fails the test if the page reported script errors.
func (b *browser) checkScripts() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) > 0 {
		b.t.Errorf("script errors: %v", b.errs)
	}
}

// TestBrowser loads the page in headless Chromium with the seed history,
// picks microsoft-openai, and moves the date from March 2026 to 2027: the
// Azure API exclusivity is in force and in conflict with Amazon's Frontier
// exclusivity in March 2026, ended and without conflict in 2027.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)
	s := newServer(t, true)
	do, text, class, count, shot := b.do, b.text, b.class, b.count, b.shot

	// ready waits until the view shows microsoft-openai at the date.
	ready := func(date string) {
		t.Helper()
		do("waiting for the view of "+date,
			chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`.view[data-agreement="microsoft-openai"][data-at="%s"]`, date))),
			chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	}
	setDate := func(date string) {
		t.Helper()
		do("setting the date", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector('#as-of'); el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); })()`, date)))
	}

	do("loading the page",
		chromedp.EmulateViewport(1280, 800),
		chromedp.Navigate(s.URL+"/#at=2026-03-15"),
		chromedp.WaitVisible(chromedp.CSS(`#agreements button.agreement[data-agreement="microsoft-openai"]`)),
		chromedp.Click(chromedp.CSS(`#agreements button.agreement[data-agreement="microsoft-openai"]`)))
	ready("2026-03-15")
	conflictsMarch := text(`#conflicts`)
	barMarch := class(`g.bar[data-clause="azure-api-exclusivity"]`)
	windowsMarch := count(`.conflict-window`)
	agreements := text(`#agreements`)
	stateTable := text(`table.state`)
	shot("timeline-2026-03-15.png")

	// Clicking a bar shows its fields and the amendments behind it.
	do("clicking the bar",
		chromedp.Click(chromedp.CSS(`g.bar[data-clause="azure-api-exclusivity"] rect`)),
		chromedp.WaitVisible(chromedp.CSS(`#detail h4`)))
	detail := text(`#detail`)
	shot("timeline-2026-03-15-detail.png")

	setDate("2027-01-01")
	ready("2027-01-01")
	conflicts2027 := text(`#conflicts`)
	bar2027 := class(`g.bar[data-clause="azure-api-exclusivity"]`)
	windows2027 := count(`.conflict-window`)
	endedLabels := count(`.ended-label`)
	shot("timeline-2027-01-01.png")

	// A narrower axis, and the other agreement.
	do("narrowing the axis", chromedp.Evaluate[chromedp.Void](`(() => { const el = document.querySelector('#range'); el.value = '2'; el.dispatchEvent(new Event('change', {bubbles: true})); })()`))
	ready("2027-01-01")
	do("waiting for the narrow axis", chromedp.WaitVisible(chromedp.CSS(`svg.timeline[data-t0]`)))
	shot("timeline-2027-01-01-narrow.png")
	setDate("2026-03-15")
	ready("2026-03-15")
	do("choosing openai-amazon",
		chromedp.Click(chromedp.CSS(`#agreements button.agreement[data-agreement="openai-amazon"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.view[data-agreement="openai-amazon"][data-at="2026-03-15"]`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	amazon := text(`table.state`)
	for _, want := range []string{"USD 15,000,000,000", "USD 35,000,000,000", "not funded"} {
		if !strings.Contains(amazon, want) {
			t.Errorf("openai-amazon's state lacks %q: %q", want, amazon)
		}
	}
	shot("timeline-openai-amazon-2026-03-15.png")

	// Known at yesterday: nothing of the seed had been recorded yet.
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format("2006-01-02")
	do("setting known at", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const el = document.querySelector('#known-at'); el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); })()`, yesterday)),
		chromedp.WaitVisible(chromedp.CSS(`#agreements .agreement.unknown`)),
		chromedp.WaitVisible(chromedp.CSS(`body[data-state="ready"]`)))
	if v := text(`#view`); !strings.Contains(v, "not been recorded yet") {
		t.Errorf("the view as known yesterday: %q", v)
	}
	shot("known-at-yesterday.png")
	do("everything recorded again", chromedp.Click(chromedp.CSS(`#known-all`)),
		chromedp.WaitVisible(chromedp.CSS(`.view[data-agreement="openai-amazon"]`)))

	// March 2026: the conflict, naming both clauses and both agreements.
	for _, want := range []string{"conflict", "azure-api-exclusivity", "microsoft-openai", "frontier-exclusivity", "openai-amazon", "2026-02-27", "until 2026-04-27"} {
		if !strings.Contains(conflictsMarch, want) {
			t.Errorf("conflicts in March 2026 lack %q: %q", want, conflictsMarch)
		}
	}
	if !strings.Contains(barMarch, "current") || !strings.Contains(barMarch, "conflict") || windowsMarch == 0 {
		t.Errorf("in March 2026 the azure-api-exclusivity bar is %q with %d conflict windows; want current, in conflict", barMarch, windowsMarch)
	}
	if !strings.Contains(agreements, "Microsoft–OpenAI partnership") || !strings.Contains(agreements, "amazon") || !strings.Contains(agreements, "open") {
		t.Errorf("agreements list: %q", agreements)
	}
	for _, want := range []string{"azure-api-exclusivity", "undisclosed", "exclusive"} {
		if !strings.Contains(stateTable, want) {
			t.Errorf("state table in March 2026 lacks %q: %q", want, stateTable)
		}
	}
	for _, want := range []string{"azure-api-exclusivity", "Amendments behind it", "v1", "v2", "2026-04-27"} {
		if !strings.Contains(detail, want) {
			t.Errorf("detail of the bar lacks %q: %q", want, detail)
		}
	}
	// 2027: no conflict, the exclusivity ended.
	if !strings.Contains(conflicts2027, "No conflicts") || strings.Contains(conflicts2027, "azure-api-exclusivity") {
		t.Errorf("conflicts in 2027: %q", conflicts2027)
	}
	if strings.Contains(bar2027, "current") || strings.Contains(bar2027, "conflict") || windows2027 != 0 {
		t.Errorf("in 2027 the azure-api-exclusivity bar is %q with %d conflict windows; want neither current nor in conflict", bar2027, windows2027)
	}
	if endedLabels == 0 {
		t.Errorf("no clause is drawn as ended")
	}
	b.checkScripts()
}
