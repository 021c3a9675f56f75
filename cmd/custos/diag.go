package main

import (
	"errors"
	"os"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/custoskms/custos/internal/config"
	"github.com/custoskms/custos/internal/walletstore"
)

// diagVars are the variables checkconfig shows; secret ones only as "set".
var diagVars = []struct {
	name   string
	secret bool
}{
	{"CUSTOS_PASSWORD", true}, {"TATUM_KMS_PASSWORD", true},
	{"CUSTOS_API_KEY", true}, {"TATUM_API_KEY", true},
	{"CUSTOS_API_URL", false}, {"TATUM_API_URL", false},
	{"CUSTOS_PATH", false}, {"TATUM_KMS_PATH", false},
	{"TATUM_KMS_VGS_ALIAS", true}, {"TATUM_KMS_VGS_USERNAME", true}, {"TATUM_KMS_VGS_PASSWORD", true},
	{"TATUM_KMS_AZURE_SECRETVERSION", false}, {"TATUM_KMS_AZURE_SECRETNAME", false}, {"TATUM_KMS_AZURE_VAULTURL", false},
	{"CUSTOS_AZURE_TOKEN", true}, {"AZURE_TENANT_ID", false}, {"AZURE_CLIENT_ID", false}, {"AZURE_CLIENT_SECRET", true},
	{"TATUM_KMS_AWS_REGION", false}, {"TATUM_KMS_AWS_ACCESS_KEY_ID", true}, {"TATUM_KMS_AWS_SECRET_ACCESS_KEY", true},
	{"TATUM_KMS_AWS_SECRET_NAME", false}, {"TATUM_KMS_AWS_SECRET_KEY", false}, {"CUSTOS_AWS_SESSION_TOKEN", true},
	{"VAULT_ADDR", false}, {"VAULT_TOKEN", true}, {"CUSTOS_VAULT_MOUNT", false}, {"CUSTOS_VAULT_PATH", false},
}

// maskedEnv reports each known variable of env (the environment, then the
// env file): its value, or "set (hidden)" for secrets. No part of a secret is
// shown.
func maskedEnv(env config.Source) map[string]string {
	out := map[string]string{}
	for _, v := range diagVars {
		val, ok := env.Lookup(v.name)
		if !ok {
			continue
		}
		switch {
		case val == "":
			out[v.name] = "(empty)"
		case v.secret:
			out[v.name] = "set (hidden)"
		default:
			out[v.name] = val
		}
	}
	return out
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "devel"
}

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
			o, err := pf.options(a.env, nil)
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
				"environment":     maskedEnv(a.env),
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
	Error       string `json:"error,omitempty"`
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
				"environment": maskedEnv(a.env),
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
				st, err := newSession(a, &pf).openStore(cmd.Context())
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
