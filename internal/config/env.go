// Package config owns how Custos reads its settings: flags, the CUSTOS_*
// variables, the TATUM_* names accepted as aliases so Tatum KMS users can
// switch without rewriting their deployment, and --env-file files. One rule
// holds for every setting: a flag beats the environment, which beats the env
// file, which beats the default; among variables the CUSTOS_ name beats
// Tatum's.
package config

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// Source is where settings come from after their flags: the process
// environment, then the variables of an env file. Loading a file never changes
// the process environment, so two commands in one process (tests, `dev`) see
// only their own file.
type Source struct {
	env  func(string) (string, bool)
	file map[string]string
}

// OSEnv is the process environment with no env file.
func OSEnv() Source { return Source{env: os.LookupEnv} }

// NewSource reads variables with lookup (os.LookupEnv in the binary) and
// falls back to file's.
func NewSource(lookup func(string) (string, bool), file map[string]string) Source {
	return Source{env: lookup, file: file}
}

// WithFile returns s with the KEY=VALUE lines of path as its lowest layer.
func (s Source) WithFile(path string) (Source, error) {
	f, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("env file: %w", err)
	}
	defer f.Close()
	vars, err := ParseEnv(f)
	if err != nil {
		return s, fmt.Errorf("env file %s: %w", path, err)
	}
	s.file = vars
	return s, nil
}

// Lookup returns the variable name as the environment, else the env file,
// holds it, empty or not.
func (s Source) Lookup(name string) (string, bool) {
	if s.env != nil {
		if v, ok := s.env(name); ok {
			return v, true
		}
	}
	v, ok := s.file[name]
	return v, ok
}

// Get returns the first non-empty value of names, given in precedence order
// (the CUSTOS_ name, then Tatum's), from the environment, and only then from
// the env file: a Tatum name in the environment beats a CUSTOS_ name in the
// file. An empty variable counts as unset, as it always has for Custos.
func (s Source) Get(names ...string) (string, bool) {
	if s.env != nil {
		for _, n := range names {
			if v, ok := s.env(n); ok && v != "" {
				return v, true
			}
		}
	}
	for _, n := range names {
		if v, ok := s.file[n]; ok && v != "" {
			return v, true
		}
	}
	return "", false
}

// Environ is environ (os.Environ's form) with the env file's variables that
// it does not set appended, for readers of variable families such as
// CUSTOS_NODE_<CHAIN>.
func (s Source) Environ(environ []string) []string {
	out := slices.Clone(environ)
	set := map[string]bool{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		set[k] = true
	}
	keys := make([]string, 0, len(s.file))
	for k := range s.file {
		if !set[k] {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		out = append(out, k+"="+s.file[k])
	}
	return out
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
