package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/httpapi"
	"github.com/agreement-ledger/ledger/ledger/service"
	"github.com/spf13/cobra"
)

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve [--listen ADDR] [--http ADDR]",
		Short: "Run the ledger: share its store over NATS, serve it as a NATS service and over HTTP",
		Long: `serve keeps the ledger open until SIGINT or SIGTERM, then closes it cleanly.

It registers the NATS service "ledger" (nats micro info ledger): requests to
ledger.v1.state, .conflicts, .append … are answered with the documents of
the HTTP API, and several serve processes on one NATS system share them.
` + "`ledger --service …`" + ` asks through it.

With --listen the embedded NATS server accepts connections on ADDR, so other
processes share the store: "ledger --data DIR …" finds the listener on its
own, and "ledger --nats nats://ADDR …" reaches it from anywhere. With
--http it serves the HTTP API and web page on ADDR. With --nats it uses an
external server or cluster instead of the embedded one.`,
		Args: args(0, 0),
	}
	var listen, httpAddr, tokenFile string
	var insecure bool
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "", "open a NATS listener for other processes on ADDR (host:port) of the embedded server")
	f.StringVar(&listen, "nats-listen", "", "alias of --listen")
	f.StringVar(&httpAddr, "http", "", "serve the HTTP API and web page on ADDR (host:port)")
	f.StringVar(&tokenFile, "tokens", "", `file of HTTP API bearer tokens, one "TOKEN ROLE" (read or write) per line; also $`+httpapi.TokensEnv)
	f.BoolVar(&insecure, "insecure", false, "allow serving HTTP on a non-loopback address without tokens")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if listen != "" && a.url != "" {
			return invalid("--listen opens the embedded server to other processes; with --nats they connect to the NATS servers directly")
		}
		if listen != "" {
			if _, _, err := net.SplitHostPort(listen); err != nil {
				return invalid("--listen %q: %v (use host:port, e.g. 127.0.0.1:4222)", listen, err)
			}
		}
		var tokens httpapi.Tokens
		if httpAddr != "" {
			var err error
			if tokens, err = httpapi.LoadTokens(tokenFile); err != nil {
				return invalid("--tokens: %v", err)
			}
			if err := httpapi.CheckBind(httpAddr, len(tokens) > 0, insecure); err != nil {
				return invalid("--http: %v", err)
			}
		}
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		// A server logs: warnings, and one line per HTTP request, on stderr.
		logger := slog.New(slog.NewTextHandler(a.stderr, nil))
		slog.SetDefault(logger)
		cfg := a.config()
		cfg.Listen = listen
		cfg.Logger = logger
		l, err := ledger.Open(ctx, cfg)
		if err != nil {
			return err
		}
		defer l.Close()
		if listen != "" && l.ClientURL() == "" {
			return fmt.Errorf("the data directory %s is held by another ledger process: stop it first, or use it through that process", a.data)
		}
		// The HTTP API's /metrics serves the NATS service's counts too.
		reg := httpapi.NewRegistry()
		svc, err := service.Start(l.Conn(), l, service.Options{Version: version(), Logger: logger, Registry: reg})
		if err != nil {
			return err
		}
		// Stopped before the ledger closes, so that it answers what it took.
		defer svc.Stop()
		httpErr := make(chan error, 1)
		if httpAddr != "" {
			ln, err := net.Listen("tcp", httpAddr)
			if err != nil {
				return fmt.Errorf("--http %s: %w", httpAddr, err)
			}
			httpAddr = ln.Addr().String()
			h := httpapi.New(l, httpapi.Options{Tokens: tokens, Logger: logger, Registry: reg})
			go func() { httpErr <- httpapi.ServeListener(ctx, ln, h) }()
		}
		if err := a.announce(l, svc, httpAddr, len(tokens) > 0); err != nil {
			return err
		}
		<-ctx.Done()
		if httpAddr != "" {
			if err := <-httpErr; err != nil {
				return err
			}
		}
		if a.output == "text" {
			fmt.Fprintln(a.stdout, "ledger: stopped")
		}
		return nil
	}
	return cmd
}

// announce says where the ledger serves: one line each for people, one
// JSON object for programs.
func (a *app) announce(l *ledger.Ledger, svc *service.Service, httpAddr string, auth bool) error {
	cfg := l.Config()
	info := svc.Info()
	doc := map[string]string{"stream": cfg.Stream, "service": info.Name, "service_subjects": info.Metadata["subjects"], "service_version": info.Version}
	switch {
	case cfg.URL != "":
		doc["nats"] = cfg.URL
	case l.ClientURL() != "":
		doc["data"], doc["nats_listen"] = cfg.DataDir, l.ClientURL()
	default:
		doc["data"] = cfg.DataDir
	}
	if httpAddr != "" {
		doc["http"] = "http://" + httpAddr
	}
	return a.emit(doc, func(w io.Writer) error {
		var err error
		p := func(format string, args ...any) {
			if err == nil {
				_, err = fmt.Fprintf(w, format, args...)
			}
		}
		switch {
		case cfg.URL != "":
			p("ledger: serving stream %s on NATS %s\n", cfg.Stream, cfg.URL)
		default:
			p("ledger: serving stream %s from %s\n", cfg.Stream, cfg.DataDir)
		}
		if u := l.ClientURL(); u != "" {
			p("ledger: NATS listening on %s (other processes: ledger --data %s … or ledger --nats %s …)\n", u, cfg.DataDir, u)
		}
		p("ledger: NATS service %s %s on %s (nats micro info %s)\n", info.Name, info.Version, info.Metadata["subjects"], info.Name)
		if httpAddr != "" {
			p("ledger: HTTP API and web page on http://%s\n", httpAddr)
			if !auth {
				p("ledger: no API tokens configured: anyone who can reach the address can append (loopback only unless --insecure)\n")
			}
		}
		p("ledger: ready; stop with Ctrl-C or SIGTERM\n")
		return err
	})
}
