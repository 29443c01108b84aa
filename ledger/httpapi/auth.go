package httpapi

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
)

// Role is what a bearer token may do.
type Role string

// Roles. Write includes read.
const (
	Read  Role = "read"  // every GET under /v1 and the page's data
	Write Role = "write" // also POST amendments
)

// allows reports whether a token of role r may do what need requires.
func (r Role) allows(need Role) bool {
	switch need {
	case "":
		return true
	case Read:
		return r == Read || r == Write
	case Write:
		return r == Write
	}
	return false
}

// Tokens maps bearer tokens to their roles. An empty Tokens turns
// authentication off: then the server must listen on loopback only (see
// CheckBind).
type Tokens map[string]Role

// TokensEnv is the environment variable LoadTokens reads:
// "tok1:write,tok2:read".
const TokensEnv = "LEDGER_TOKENS"

// LoadTokens reads tokens from the file at path (when path is not empty) and
// from the environment variable LEDGER_TOKENS (when set), merged. The file
// has one "token role" per line; blank lines and lines starting with # are
// ignored. A token given twice with different roles is an error.
func LoadTokens(path string) (Tokens, error) {
	out := Tokens{}
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading tokens: %w", err)
		}
		ts, err := ParseTokenFile(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if err := merge(out, ts); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if env := os.Getenv(TokensEnv); strings.TrimSpace(env) != "" {
		ts, err := ParseTokens(env)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", TokensEnv, err)
		}
		if err := merge(out, ts); err != nil {
			return nil, fmt.Errorf("%s: %w", TokensEnv, err)
		}
	}
	return out, nil
}

func merge(dst, src Tokens) error {
	for tok, role := range src {
		if old, ok := dst[tok]; ok && old != role {
			return fmt.Errorf("a token is given twice, as %s and as %s", old, role)
		}
		dst[tok] = role
	}
	return nil
}

// ParseTokens reads the LEDGER_TOKENS form: "tok1:write,tok2:read".
func ParseTokens(s string) (Tokens, error) {
	out := Tokens{}
	for i, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		tok, role, ok := strings.Cut(item, ":")
		if !ok {
			return nil, fmt.Errorf("item %d: expected token:role (role read or write)", i+1)
		}
		if err := add(out, strings.TrimSpace(tok), strings.TrimSpace(role)); err != nil {
			return nil, fmt.Errorf("item %d: %w", i+1, err)
		}
	}
	return out, nil
}

// ParseTokenFile reads the token file form: one "token role" per line.
func ParseTokenFile(data []byte) (Tokens, error) {
	out := Tokens{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: expected \"token role\" (role read or write)", n)
		}
		if err := add(out, f[0], f[1]); err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
	}
	return out, sc.Err()
}

func add(ts Tokens, tok, role string) error {
	if tok == "" {
		return fmt.Errorf("empty token")
	}
	for _, r := range tok {
		if r <= ' ' || r == 0x7f {
			return fmt.Errorf("a token must not contain spaces or control characters")
		}
	}
	r := Role(strings.ToLower(role))
	if r != Read && r != Write {
		return fmt.Errorf("role %q is not read or write", role)
	}
	if old, ok := ts[tok]; ok && old != r {
		return fmt.Errorf("a token is given twice, as %s and as %s", old, r)
	}
	ts[tok] = r
	return nil
}

// hashed keys tokens by their SHA-256, so that looking one up does not
// compare secrets byte by byte.
func (ts Tokens) hashed() map[[32]byte]Role {
	out := make(map[[32]byte]Role, len(ts))
	for tok, role := range ts {
		out[sha256.Sum256([]byte(tok))] = role
	}
	return out
}

// CheckBind enforces the bind policy: without tokens the API has no
// authentication, so it may listen only on a loopback address (127.0.0.0/8,
// ::1 or localhost) unless insecure is set. An address without a host
// (":8080") listens on every interface.
func CheckBind(addr string, haveTokens, insecure bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w (expected host:port, e.g. 127.0.0.1:8080)", addr, err)
	}
	if haveTokens || insecure || IsLoopback(host) {
		return nil
	}
	where := host
	if where == "" {
		where = "every interface"
	}
	return fmt.Errorf("refusing to serve on %s (%s) without API tokens: anyone who can reach it could append amendments; "+
		"configure tokens (a token file, or %s=\"token:write,token2:read\"), listen on 127.0.0.1, or allow it explicitly with --insecure", addr, where, TokensEnv)
}

// IsLoopback reports whether host (a name or an IP, as in a listen address)
// is a loopback address.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// bearer returns the token of an Authorization: Bearer header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}
