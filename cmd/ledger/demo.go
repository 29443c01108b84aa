package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/agreement-ledger/ledger/ledger/demo"
	"github.com/spf13/cobra"
)

func (a *app) demoCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Record the built-in Microsoft–OpenAI–Amazon history and show what the ledger answers",
		Long: `demo records the built-in history of DESIGN §7 — the Microsoft–OpenAI
partnership, the Amazon deal and the renegotiation — into a fresh temporary
store (or the one --data, --nats or the environment names) and asks the
ledger the questions a deal desk would ask of it.`,
		Args: args(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			temporary := !f.Changed("data") && !f.Changed("nats") && os.Getenv(envData) == "" && os.Getenv(envNATS) == ""
			if temporary {
				dir, err := os.MkdirTemp("", "ledger-demo-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				a.data = dir
			}
			return answer(a, cmd, nil, func(ctx context.Context, l *ledger.Ledger, _ time.Time) (*demo.Story, error) {
				return demo.Run(ctx, l)
			}, func(w io.Writer, st *demo.Story) error {
				err := st.Write(w)
				try := "ledger --data " + a.data
				if a.url != "" {
					try = "ledger --nats " + a.url
				}
				if temporary {
					_, err = fmt.Fprintln(w, "\nThe store was temporary. To keep one and explore it: ledger --data ./demo-data demo")
					try = "ledger --data ./demo-data"
				}
				if err == nil {
					_, err = fmt.Fprintf(w, "Try: %s state %s --at 2027-01-01\n     %s timeline %s\n", try, st.Agreement, try, st.Agreement)
				}
				return err
			})
		},
	}
}
