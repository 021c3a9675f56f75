package main

import (
	"errors"
	"os"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/secret"
	"github.com/custoskms/custos/internal/walletstore"
)

// knownVariables are the variables checkconfig and report show: those every
// command's settings read, and those of the password sources. A variable that
// is secret anywhere is shown only as set.
func (a *app) knownVariables() []config.Variable {
	var out []config.Variable
	seen := map[string]int{}
	add := func(v config.Variable) {
		if i, ok := seen[v.Name]; ok {
			out[i].Secret = out[i].Secret || v.Secret
			return
		}
		seen[v.Name] = len(out)
		out = append(out, v)
	}
	for _, bf := range a.binders {
		for _, v := range bf.b.Variables() {
			add(v)
		}
	}
	for _, v := range secret.Variables() {
		add(v)
	}
	return out
}

// maskedEnv reports each known variable of env (the environment, then the
// env file): its value, or "set (hidden)" for secrets. No part of a secret is
// shown.
func maskedEnv(a *app) map[string]string {
	out := map[string]string{}
	for _, v := range a.knownVariables() {
		val, ok := a.env.Lookup(v.Name)
		if !ok {
			continue
		}
		switch {
		case val == "":
			out[v.Name] = "(empty)"
		case v.Secret:
			out[v.Name] = "set (hidden)"
		default:
			out[v.Name] = val
		}
	}
	return out
}

func version() string { return readBuildInfo().Version }

type storeDiag struct {
	Path   string            `json:"path"`
	Exists bool              `json:"exists"`
	Info   *walletstore.Info `json:"info,omitempty"`
	Error  string            `json:"error,omitempty"`
}

func diagnoseStore(cmd *cobra.Command, path string) storeDiag {
	d := storeDiag{Path: path}
	if _, err := os.Stat(path); err == nil {
		d.Exists = true
	}
	info, err := walletstore.Inspect(cmd.Context(), path)
	if err != nil {
		if !errors.Is(err, walletstore.ErrNoStore) {
			d.Error = err.Error()
		}
	} else {
		d.Info = info
	}
	return d
}

func newCheckConfigCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "checkconfig",
		Short: "Show the configuration (wallet file, password source, environment) with secrets hidden",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := pf.options(a, nil)
			if err != nil {
				return err
			}
			envFile := a.envFile
			if envFile == "" {
				envFile = "N/A"
			}
			return printJSON(a.stdout, map[string]any{
				"version":         version(),
				"wallet":          diagnoseStore(cmd, a.walletPath),
				"walletStoreType": o.Kind(),
				"envFile":         envFile,
				"environment":     maskedEnv(a),
			})
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}

// reportedWallet describes a wallet without its secrets.
type reportedWallet struct {
	SignatureID string `json:"signatureId"`
	Chain       string `json:"chain,omitempty"`
	Testnet     bool   `json:"testnet"`
	Type        string `json:"type,omitempty"`
	XPub        string `json:"xpub,omitempty"`
	Address     string `json:"address,omitempty"`
	Mnemonic    string `json:"mnemonic,omitempty"`
	PrivateKey  string `json:"privateKey,omitempty"`
	Secret      string `json:"secret,omitempty"`
	// KeyID names a key held outside Custos (not a secret).
	KeyID string `json:"keyId,omitempty"`
	Error string `json:"error,omitempty"`
}

const hidden = "***"

func newReportCmd(a *app) *cobra.Command {
	var pf passwordFlags
	cmd := &cobra.Command{
		Use:   "report [SIGNATURE_ID,…]",
		Short: "Print a support report: system, store and the named wallets, secrets masked",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rep := map[string]any{
				"version":     version(),
				"go":          runtime.Version(),
				"os":          runtime.GOOS,
				"arch":        runtime.GOARCH,
				"cpus":        runtime.NumCPU(),
				"wallet":      diagnoseStore(cmd, a.walletPath),
				"environment": maskedEnv(a),
			}
			var ids []string
			if len(args) == 1 {
				for _, id := range strings.Split(args[0], ",") {
					if id = strings.TrimSpace(id); id != "" {
						ids = append(ids, id)
					}
				}
			}
			if len(ids) > 0 {
				st, err := newSession(a, &pf).openStore(cmd.Context(), cmd)
				if err != nil {
					return err
				}
				defer st.Close()
				ws := []reportedWallet{}
				for _, id := range ids {
					r := reportedWallet{SignatureID: id}
					w, err := st.Get(cmd.Context(), id)
					if err != nil {
						r.Error = err.Error()
						ws = append(ws, r)
						continue
					}
					r.Chain, r.Testnet, r.XPub, r.Address = w.Chain, w.Testnet, w.XPub, w.Address
					switch {
					case w.Mnemonic != "":
						r.Type, r.Mnemonic = "mnemonic", hidden
					case w.PrivateKey != "":
						r.Type, r.PrivateKey = "privateKey", hidden
					case w.Remote != nil:
						r.Type, r.KeyID = w.Remote.Backend, w.Remote.KeyID
					default:
						r.Type, r.Secret = "secret", hidden
					}
					ws = append(ws, r)
				}
				rep["wallets"] = ws
			}
			return printJSON(a.stdout, rep)
		},
	}
	pf.add(a.flags(cmd))
	return cmd
}
