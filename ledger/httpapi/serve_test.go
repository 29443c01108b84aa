package httpapi_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/agreement-ledger/ledger/ledger/ledgertest"
	"github.com/prometheus/client_golang/prometheus"
)

// TestServeGracefulShutdown: cancelling Serve's context lets a request in
// flight finish, ends event streams, and returns nil promptly.
func TestServeGracefulShutdown(t *testing.T) {
	l := ledgertest.New(t)
	h := httpapi.New(l.Ledger, httpapi.Options{Logger: slog.New(slog.DiscardHandler), Registry: prometheus.NewRegistry()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- httpapi.ServeListener(ctx, ln, h) }()

	waitFor(t, 5*time.Second, "the server", func() bool {
		res, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	// An open event stream.
	res, err := http.Get(base + "/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rd := bufio.NewReader(res.Body)
	if _, err := rd.ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	streamEnded := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, rd)
		close(streamEnded)
	}()

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after a graceful shutdown", err)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	select {
	case <-streamEnded:
	case <-time.After(2 * time.Second):
		t.Fatal("the event stream did not end")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Error("still serving after shutdown")
	}
}

func TestServeListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	err = httpapi.Serve(context.Background(), ln.Addr().String(), http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("Serve on a taken port: %v", err)
	}
}

// TestCloseStreams: a caller running its own http.Server ends the event
// streams with CloseStreams (registered with RegisterOnShutdown).
func TestCloseStreams(t *testing.T) {
	s := newServer(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	evs := s.subscribe(ctx, "/v1/events", "", "")
	s.H.CloseStreams()
	select {
	case _, ok := <-evs:
		if ok {
			t.Fatal("an event after CloseStreams")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream did not end")
	}
	s.H.CloseStreams() // twice is fine
}
