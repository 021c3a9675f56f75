package secret

import "github.com/custoskms/custos/internal/config"

// backendSettings are the settings the password sources read with
// env.setting (as CUSTOS_<name> or Tatum's TATUM_KMS_<name>), and whether a
// value is a secret that diagnostics must not show. A test checks that every
// name the sources read is listed here.
var backendSettings = []struct {
	name   string
	secret bool
}{
	{"PASSWORD", true},
	{"AWS_REGION", false}, {"AWS_ACCESS_KEY_ID", true}, {"AWS_SECRET_ACCESS_KEY", true},
	{"AWS_SECRET_NAME", false}, {"AWS_SECRET_KEY", false}, {"AWS_SESSION_TOKEN", true}, {"AWS_ENDPOINT", false},
	{"AZURE_VAULTURL", false}, {"AZURE_SECRETNAME", false}, {"AZURE_SECRETVERSION", false},
	{"AZURE_TOKEN", true}, {"AZURE_IMDS_ENDPOINT", false},
	{"VGS_USERNAME", true}, {"VGS_PASSWORD", true}, {"VGS_ALIAS", true}, {"VGS_URL", false},
	{"VAULT_PATH", false}, {"VAULT_MOUNT", false}, {"VAULT_FIELD", false},
}

// serviceVariables are the variables the services define themselves, read
// with env.get.
var serviceVariables = []struct {
	name   string
	secret bool
}{
	{"AZURE_TENANT_ID", false}, {"AZURE_CLIENT_ID", false}, {"AZURE_CLIENT_SECRET", true}, {"AZURE_AUTHORITY_HOST", false},
	{"VAULT_ADDR", false}, {"VAULT_TOKEN", true}, {"VAULT_NAMESPACE", false},
}

// Variables lists every environment variable the password sources read, for
// diagnostics (checkconfig, report).
func Variables() []config.Variable {
	var out []config.Variable
	for _, s := range backendSettings {
		out = append(out, config.Variable{Name: "CUSTOS_" + s.name, Secret: s.secret},
			config.Variable{Name: "TATUM_KMS_" + s.name, Secret: s.secret})
	}
	for _, s := range serviceVariables {
		out = append(out, config.Variable{Name: s.name, Secret: s.secret})
	}
	return out
}
