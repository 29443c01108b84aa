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
// ledger user's password from, so that the snippet holds no secret.
const passwordVar = "LEDGER_NATS_PASSWORD"

func (a *app) permissionsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "permissions [--user NAME]",
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
nats-server uses ({"publish": {"allow", "deny"}, "subscribe": {"allow"}}).`,
		Args: args(0, 0),
	}
	var user string
	cmd.Flags().StringVar(&user, "user", "ledger", "the NATS user name the configuration is for")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if user == "" || strings.ContainsAny(user, "\"\\\n\r\t ") {
			return invalid("--user %q: give a user name without spaces, quotes or backslashes", user)
		}
		cfg := a.config()
		p := ledger.ClientPermissions(cfg)
		// The first subject the user may publish to is the agreements'.
		doc := permissionsDoc{Stream: cfg.Stream, Subject: p.PublishAllow[0], User: user}
		doc.Permissions.Publish.Allow = p.PublishAllow
		doc.Permissions.Publish.Deny = p.PublishDeny
		doc.Permissions.Subscribe.Allow = p.SubscribeAllow
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
	Permissions struct {
		Publish struct {
			Allow []string `json:"allow"`
			Deny  []string `json:"deny"`
		} `json:"publish"`
		Subscribe struct {
			Allow []string `json:"allow"`
		} `json:"subscribe"`
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
	fmt.Fprintf(&b, "# NATS permissions for the agreement ledger's user %q: stream %s, subjects %s.\n", d.User, d.Stream, d.Subject)
	b.WriteString("# It may append and read, and keep the snapshot bucket; it may not delete, purge or\n")
	b.WriteString("# reconfigure the stream. Merge this into the nats-server configuration; the password\n")
	fmt.Fprintf(&b, "# is read from $%s when the server starts.\n", passwordVar)
	b.WriteString("authorization {\n  users: [\n    {\n")
	fmt.Fprintf(&b, "      user: %q\n", d.User)
	fmt.Fprintf(&b, "      password: $%s\n", passwordVar)
	b.WriteString("      permissions: {\n        publish: {\n          allow: ")
	list("          ", d.Permissions.Publish.Allow)
	b.WriteString("          deny: ")
	list("          ", d.Permissions.Publish.Deny)
	b.WriteString("        }\n        subscribe: {\n          allow: ")
	list("          ", d.Permissions.Subscribe.Allow)
	b.WriteString("        }\n      }\n    }\n  ]\n}\n")
	_, err := io.WriteString(w, b.String())
	return err
}
