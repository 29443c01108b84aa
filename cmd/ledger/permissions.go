package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/agreement-ledger/ledger/ledger"
	"github.com/spf13/cobra"
)

// passwordVar is the variable the printed NATS configuration reads the
// ledger user's password from, so that the snippet holds no secret;
// clientPasswordVar the service client's (--client).
const (
	passwordVar       = "LEDGER_NATS_PASSWORD"
	clientPasswordVar = "LEDGER_CLIENT_NATS_PASSWORD"
)

func (a *app) permissionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "permissions [--user NAME] [--client]",
		Short: "Print the NATS permissions a deployment should grant the ledger's user",
		Long: `permissions prints what the ledger's NATS user must be allowed, and must be
denied, for the stream the global options name (--stream): it may append to
and read the stream, and keep its snapshot bucket, but not delete, purge or
reconfigure the stream. Nothing is opened or changed.

The text form is a nats-server configuration block: merge it into the
server's configuration. It reads the user's password from the environment
variable ` + passwordVar + ` (or a variable of that name defined in the
configuration) when the server starts, so the file holds no secret; the
ledger then connects with --nats-user NAME --nats-password ….
With -o json it prints the same permissions as a JSON document in the shape
of nats-server's configuration ({"publish": {"allow", "deny"}, "subscribe":
{"allow"}, "allow_responses"}). The ledger's user also answers the NATS
service's requests (ledger.v1.>, and $SRV.> discovery) when it serves.

With --client it prints the profile of a user who may only ask the ledger's
NATS service: requests to ledger.v1.> and $SRV.> discovery, replies on its
inboxes, and nothing of the stream or of JetStream. Its password is read
from ` + clientPasswordVar + `; it runs "ledger --service --nats-user NAME …" or any
NATS client ("nats req ledger.v1.state …").`,
		Args: args(0, 0),
	}
	var user string
	var client bool
	cmd.Flags().StringVar(&user, "user", "ledger", `the NATS user name the configuration is for (default "ledger-client" with --client)`)
	cmd.Flags().BoolVar(&client, "client", false, "the profile of a user who may only send requests to the ledger's NATS service")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if client && !cmd.Flags().Changed("user") {
			user = "ledger-client"
		}
		if user == "" || strings.ContainsAny(user, "\"\\\n\r\t ") {
			return invalid("--user %q: give a user name without spaces, quotes or backslashes", user)
		}
		cfg := a.config()
		p := ledger.ClientPermissions(cfg)
		if client {
			p = ledger.ServiceClientPermissions(cfg)
		}
		// The first subject the user may publish to is the agreements' (the
		// service's, for a client).
		doc := permissionsDoc{Stream: cfg.Stream, Subject: p.PublishAllow[0], User: user, client: client}
		doc.Permissions.Publish.Allow = p.PublishAllow
		doc.Permissions.Publish.Deny = p.PublishDeny
		doc.Permissions.Subscribe.Allow = p.SubscribeAllow
		doc.Permissions.AllowResponses = p.AllowResponses
		if a.output == "json" {
			// Subjects hold '>': written as is, not as \u003e.
			enc := json.NewEncoder(a.stdout)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}
		return writeNATSConfig(a.stdout, doc)
	}
	return cmd
}

// permissionsDoc is the JSON form of permissions; "permissions" has the
// shape of nats-server's user permissions.
type permissionsDoc struct {
	Stream      string `json:"stream"`
	Subject     string `json:"subject"`
	User        string `json:"user"`
	client      bool
	Permissions struct {
		Publish struct {
			Allow []string `json:"allow"`
			Deny  []string `json:"deny"`
		} `json:"publish"`
		Subscribe struct {
			Allow []string `json:"allow"`
		} `json:"subscribe"`
		AllowResponses bool `json:"allow_responses,omitempty"`
	} `json:"permissions"`
}

// writeNATSConfig writes the permissions as a nats-server configuration
// block.
func writeNATSConfig(w io.Writer, d permissionsDoc) error {
	var b strings.Builder
	list := func(indent string, items []string) {
		b.WriteString("[\n")
		for i, s := range items {
			sep := ","
			if i == len(items)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, "%s  %q%s\n", indent, s, sep)
		}
		b.WriteString(indent + "]\n")
	}
	pwVar := passwordVar
	if d.client {
		pwVar = clientPasswordVar
		fmt.Fprintf(&b, "# NATS permissions for a client of the agreement ledger's NATS service, user %q:\n", d.User)
		b.WriteString("# it may send requests to the service (ledger.v1.>) and discover it ($SRV.>), and\n")
		fmt.Fprintf(&b, "# nothing else: not publish to the stream %s, not call JetStream. Merge this into\n", d.Stream)
	} else {
		fmt.Fprintf(&b, "# NATS permissions for the agreement ledger's user %q: stream %s, subjects %s.\n", d.User, d.Stream, d.Subject)
		b.WriteString("# It may append and read, and keep the snapshot bucket; it may not delete, purge or\n")
		b.WriteString("# reconfigure the stream. Serving, it answers the NATS service's requests. Merge this into\n")
	}
	fmt.Fprintf(&b, "# the nats-server configuration; the password is read from $%s when the server starts.\n", pwVar)
	b.WriteString("authorization {\n  users: [\n    {\n")
	fmt.Fprintf(&b, "      user: %q\n", d.User)
	fmt.Fprintf(&b, "      password: $%s\n", pwVar)
	b.WriteString("      permissions: {\n        publish: {\n          allow: ")
	list("          ", d.Permissions.Publish.Allow)
	b.WriteString("          deny: ")
	list("          ", d.Permissions.Publish.Deny)
	b.WriteString("        }\n        subscribe: {\n          allow: ")
	list("          ", d.Permissions.Subscribe.Allow)
	b.WriteString("        }\n")
	if d.Permissions.AllowResponses {
		b.WriteString("        allow_responses: true\n")
	}
	b.WriteString("      }\n    }\n  ]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
