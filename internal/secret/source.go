// Package secret owns how Custos obtains the wallet-store password and the
// secrets a command reads: the terminal without echo, a line of stdin, the
// CUSTOS_PASSWORD / TATUM_KMS_PASSWORD variable, a password file, or a secret
// manager (AWS Secrets Manager, Azure Key Vault, VGS, HashiCorp Vault KV v2)
// reached through its documented REST API with the variables Tatum KMS uses.
package secret

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/harden"
	"github.com/custoskms/custos/internal/httpguard"
)

// Backend names where the password comes from.
type Backend string

// The password backends. Local is the environment or a prompt.
const (
	Local Backend = "LOCAL"
	File  Backend = "FILE"
	AWS   Backend = "AWS"
	Azure Backend = "AZURE"
	VGS   Backend = "VGS"
	Vault Backend = "VAULT"
)

// Options select and configure the password source.
type Options struct {
	// Backend is the secret manager to ask; "" means File when PasswordFile is
	// set, else Local.
	Backend      Backend
	PasswordFile string
	Prompter     *Prompter
	// Client is used for secret managers; nil means a client with a 30 s
	// timeout. Whichever it is, redirects are not followed (a token header
	// must not go to another host) and answers are read up to maxAnswer.
	Client *http.Client
	// Logger receives a warning when a secret manager is reached over plain
	// http:// on another host; nil discards it.
	Logger *slog.Logger
	// Env is where the password variable and the secret managers' settings
	// are read, the command's --env-file included; nil means the process
	// environment alone.
	Env *config.Source
}

// Kind is the backend these options resolve to.
func (o Options) Kind() Backend {
	switch {
	case o.Backend != "" && o.Backend != Local:
		return o.Backend
	case o.PasswordFile != "":
		return File
	}
	return Local
}

func (o Options) env() env {
	if o.Env != nil {
		return env{*o.Env}
	}
	return env{config.OSEnv()}
}

// client is the secret managers' client for one Password call.
func (o Options) client() *http.Client {
	c := http.Client{Timeout: 30 * time.Second}
	if o.Client != nil {
		c = *o.Client
	}
	c.CheckRedirect = httpguard.NoRedirects
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &warnTransport{base: base, log: log}
	return &c
}

// warnTransport warns, once per Password call, that a secret manager is
// reached in clear over a network: its token and the password can be read
// on the way.
type warnTransport struct {
	base http.RoundTripper
	log  *slog.Logger
	once sync.Once
}

func (t *warnTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if httpguard.Plaintext(req.URL) {
		t.once.Do(func() {
			t.log.Warn("a secret manager is reached over http:// on another host: its token and the password cross the network in clear",
				"host", req.URL.Host)
		})
	}
	return t.base.RoundTrip(req)
}

// maxAnswer caps what is read of a secret manager's answer: a secret and its
// envelope take a few KiB; more is not an answer to trust.
const maxAnswer = 1 << 20

// Password returns the wallet-store password. newStore asks for it twice at a
// terminal (it will create the store).
func (o Options) Password(ctx context.Context, newStore bool) ([]byte, error) {
	var (
		b   []byte
		err error
	)
	e := o.env()
	switch o.Kind() {
	case File:
		b, err = readPasswordFile(o.PasswordFile)
	case AWS:
		b, err = awsPassword(ctx, o.client(), e)
	case Azure:
		b, err = azurePassword(ctx, o.client(), e)
	case VGS:
		b, err = vgsPassword(ctx, o.client(), e)
	case Vault:
		b, err = vaultPassword(ctx, o.client(), e)
	case Local:
		if v, ok := e.src.Get(PasswordEnv()...); ok {
			return []byte(v), nil
		}
		if o.Prompter == nil {
			return nil, fmt.Errorf("%w: no password source", ErrMissingSetting)
		}
		if newStore {
			return o.Prompter.ReadNew("wallet store password")
		}
		return o.Prompter.Read("wallet store password")
	default:
		return nil, fmt.Errorf("unknown password backend %q", o.Backend)
	}
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: password from %s", ErrEmpty, o.Kind())
	}
	return b, nil
}

func readPasswordFile(path string) ([]byte, error) {
	// Checked before reading: a file others can read is refused even when
	// its content is right, so the mistake is fixed before it matters.
	if err := harden.CheckSecretFile(path); err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("password file: %w", err)
	}
	// One trailing newline is the editor's, not the password's.
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	return b, nil
}

// PasswordEnv returns the variables of the wallet-store password, Custos's first.
func PasswordEnv() []string { return []string{"CUSTOS_PASSWORD", "TATUM_KMS_PASSWORD"} }

// env reads the settings of the password sources.
type env struct{ src config.Source }

// setting reads CUSTOS_<name>, or Tatum KMS's TATUM_KMS_<name>.
func (e env) setting(name string) (string, bool) {
	return e.src.Get("CUSTOS_"+name, "TATUM_KMS_"+name)
}

// get reads a variable the service itself defines (VAULT_ADDR, AZURE_TENANT_ID).
func (e env) get(name string) string {
	v, _ := e.src.Get(name)
	return v
}

// settings reads required settings, naming every missing one at once.
func (e env) settings(names ...string) ([]string, error) {
	vals := make([]string, len(names))
	var missing []string
	for i, n := range names {
		v, ok := e.setting(n)
		if !ok {
			missing = append(missing, "CUSTOS_"+n+" (or TATUM_KMS_"+n+")")
		}
		vals[i] = v
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrMissingSetting, strings.Join(missing, ", "))
	}
	return vals, nil
}

// doJSON sends req and returns the body of a 2xx answer. The error of any
// other answer carries the status and, for documented error shapes, the
// service's error code; never the body, which could hold a secret.
func doJSON(c *http.Client, req *http.Request, service string) ([]byte, error) {
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBackend, service, err)
	}
	defer resp.Body.Close()
	body, err := httpguard.ReadAll(resp.Body, maxAnswer)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBackend, service, err)
	}
	if resp.StatusCode/100 != 2 {
		Zero(body)
		return nil, fmt.Errorf("%w: %s answered %s", ErrBackend, service, resp.Status)
	}
	return body, nil
}
