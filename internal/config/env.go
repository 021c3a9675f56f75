// Package config owns how Custos reads its settings from the environment: the
// CUSTOS_* variables, the TATUM_* names accepted as aliases so Tatum KMS users can
// switch without rewriting their deployment, and --envFile files.
package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// aliases maps a CUSTOS_* variable to the Tatum KMS names read when it is unset.
var aliases = map[string][]string{
	"CUSTOS_PASSWORD": {"TATUM_KMS_PASSWORD"},
	"CUSTOS_API_KEY":  {"TATUM_API_KEY"},
	"CUSTOS_API_URL":  {"TATUM_API_URL"},
	"CUSTOS_PATH":     {"TATUM_KMS_PATH"},
}

// Getenv returns the value of name (a CUSTOS_* variable) or of the first of its
// Tatum aliases that is set, and whether any was set.
func Getenv(name string) (string, bool) {
	if v, ok := os.LookupEnv(name); ok {
		return v, true
	}
	for _, a := range aliases[name] {
		if v, ok := os.LookupEnv(a); ok {
			return v, true
		}
	}
	return "", false
}

// LoadEnvFile reads KEY=VALUE lines from path into the process environment.
// Variables already set win, as with dotenv: the file supplies defaults.
func LoadEnvFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	vars, err := ParseEnv(f)
	if err != nil {
		return fmt.Errorf("env file %s: %w", path, err)
	}
	for k, v := range vars {
		if _, set := os.LookupEnv(k); !set {
			if err := os.Setenv(k, v); err != nil {
				return fmt.Errorf("env file %s: %w", path, err)
			}
		}
	}
	return nil
}

// ParseEnv parses dotenv-style content: blank lines and # comments are skipped,
// an optional "export " prefix is allowed, and values may be single- or
// double-quoted. The error names the line, never its value, which may be a secret.
func ParseEnv(r io.Reader) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("line %d: expected KEY=VALUE", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}
