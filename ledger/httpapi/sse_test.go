package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// event is one Server-Sent Event.
type event struct {
	id, name, data string
}

// subscribe opens the event stream at path (through the checking client)
// and sends its events on the returned channel until ctx ends or the stream
// does; then it closes the channel. lastID, when set, is sent as
// Last-Event-ID. It returns once the stream's first line has arrived, so an
// amendment appended afterwards is one the client is connected for.
func (s *server) subscribe(ctx context.Context, path, token, lastID string) <-chan event {
	s.t.Helper()
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	if lastID != "" {
		hr.Header.Set("Last-Event-ID", lastID)
	}
	hr.Header.Set("Accept", "text/event-stream")
	res, err := s.api.client().Do(hr)
	if err != nil {
		s.t.Fatalf("subscribe: %v", err)
	}
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		res.Body.Close()
		s.t.Fatalf("subscribe: status %d, content type %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	if !sc.Scan() {
		s.t.Fatalf("subscribe: the stream sent nothing")
	}
	ch := make(chan event, 64)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		var ev event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					select {
					case ch <- ev:
					case <-ctx.Done():
						return
					}
				}
				ev = event{}
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan event) event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the event stream ended")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return event{}
}

func TestEventsStreamAndResume(t *testing.T) {
	s := newServer(t, true, withAuth)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Connected before the append: it gets the new amendment, and only it.
	evs := s.subscribe(ctx, "/v1/events", readToken, "")
	res := s.do(req{method: "POST", path: "/v1/agreements/acme-globex/amendments", body: newAgreement, token: writeToken})
	if res.Status != http.StatusCreated {
		t.Fatalf("append: %d %s", res.Status, res.Body)
	}
	ev := next(t, evs)
	if ev.id != "4" || ev.name != "amendment" {
		t.Fatalf("event id %q name %q, want id 4 (the seed has 3) and name amendment", ev.id, ev.name)
	}
	var data map[string]any
	if err := json.Unmarshal([]byte(ev.data), &data); err != nil {
		t.Fatalf("data is not JSON: %v: %s", err, ev.data)
	}
	if data["agreement"] != "acme-globex" || data["id"] != "01JQ4Z6N8S9C2E7W3Y5T1V0B6D" || data["version"] != 1.0 || data["seq"] != 4.0 {
		t.Errorf("data = %s", ev.data)
	}
	s.api.checkSchema("event data", "AmendmentEvent", []byte(ev.data))
	// The same JSON as the history entry shows (plus the agreement).
	hist := s.do(req{path: "/v1/agreements/acme-globex/history", token: readToken}).JSON(t)
	entry := hist["amendments"].([]any)[0].(map[string]any)
	entry["agreement"] = "acme-globex"
	want, _ := json.Marshal(entry)
	var got map[string]any
	_ = json.Unmarshal([]byte(ev.data), &got)
	gotJSON, _ := json.Marshal(got)
	if string(want) != string(gotJSON) {
		t.Errorf("event data differs from the history entry:\n got %s\nwant %s", gotJSON, want)
	}
	cancel()

	// While disconnected, another amendment is recorded; reconnecting with
	// Last-Event-ID 4 gets it, and nothing before it.
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: secondAmendment, token: writeToken}); res.Status != http.StatusCreated {
		t.Fatalf("append: %d %s", res.Status, res.Body)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	evs = s.subscribe(ctx2, "/v1/events", readToken, ev.id)
	ev = next(t, evs)
	if ev.id != "5" || !strings.Contains(ev.data, "01JQ4Z6N8S9C2E7W3Y5T1V0B6E") {
		t.Fatalf("after resuming: event %q %s, want 5 (the one recorded while away)", ev.id, ev.data)
	}
	// And it stays live.
	if res := s.do(req{method: "POST", path: "/v1/amendments", body: conflicting, token: writeToken}); res.Status != http.StatusCreated {
		t.Fatalf("append: %d %s", res.Status, res.Body)
	}
	if ev = next(t, evs); ev.id != "6" || !strings.Contains(ev.data, `"agreement":"openai-google"`) {
		t.Fatalf("live after resume: %q %s", ev.id, ev.data)
	}
}

func TestEventsReplayAndFilter(t *testing.T) {
	s := newServer(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := s.subscribe(ctx, "/v1/events?after=0&agreement=microsoft-openai", "", "")
	for _, want := range []string{"1", "3"} { // seq 2 is openai-amazon
		if ev := next(t, evs); ev.id != want || !strings.Contains(ev.data, `"agreement":"microsoft-openai"`) {
			t.Fatalf("event %q %s, want %s of microsoft-openai", ev.id, ev.data, want)
		}
	}
	for _, c := range []struct{ path, lastID, field string }{
		{"/v1/events", "four", "Last-Event-ID"},
		{"/v1/events?after=-1", "", "after"},
		{"/v1/events?agreement=No", "", "agreement"},
	} {
		r := req{path: c.path}
		if c.lastID != "" {
			r.header = map[string]string{"Last-Event-ID": c.lastID}
		}
		res := s.do(r)
		if _, field, _ := res.errorDoc(t); res.Status != http.StatusBadRequest || field != c.field {
			t.Errorf("%s (Last-Event-ID %q): %d field %q, want 400 naming %s", c.path, c.lastID, res.Status, field, c.field)
		}
	}
}
