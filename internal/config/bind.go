package config

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Setting declares one setting once: where it is read from, its default, its
// help and its check. The flag's help is generated from it, default and
// variables included, so it cannot drift from what the command does.
type Setting[T any] struct {
	// Flag is the canonical kebab-case flag name; "" for a setting read only
	// from the environment (a secret, which never comes from a flag).
	Flag string
	// Aliases are other spellings of the flag that keep working (Tatum KMS's
	// camelCase names); they are hidden from help.
	Aliases []string
	// Env are the variables, in precedence order: the CUSTOS_ name, then
	// Tatum's.
	Env     []string
	Default T
	Help    string
	// Check, when set, validates the resolved value; its error is prefixed
	// with the flag and variable names.
	Check func(T) error
	// Secret settings are never shown: checkconfig says only that they are set.
	Secret bool
}

// Variable is an environment variable a setting reads, for diagnostics.
type Variable struct {
	Name   string
	Secret bool
}

// Binder holds the settings of one flag set and resolves them with one rule:
// flag > environment (CUSTOS_ name > Tatum alias) > env file > default.
type Binder struct {
	fs       *pflag.FlagSet
	settings []*binding
}

type binding struct {
	flags  []string // canonical first
	env    []string
	secret bool
	value  pflag.Value
	check  func() error
}

// NewBinder declares settings as flags of fs.
func NewBinder(fs *pflag.FlagSet) *Binder { return &Binder{fs: fs} }

// value is a pflag.Value of any type whose errors name the setting.
type value[T any] struct {
	p      *T
	kind   string
	name   string
	parse  func(string) (T, error)
	format func(T) string
}

func (v *value[T]) Set(s string) error {
	x, err := v.parse(s)
	if err != nil {
		return fmt.Errorf("%s: %w", v.name, err)
	}
	*v.p = x
	return nil
}

func (v *value[T]) String() string { return v.format(*v.p) }
func (v *value[T]) Type() string   { return v.kind }

// name is how errors call a setting: every flag spelling users see in help
// and every variable, e.g. "--period / CUSTOS_PERIOD".
func name(flag string, env []string) string {
	var parts []string
	if flag != "" {
		parts = append(parts, "--"+flag)
	}
	return strings.Join(append(parts, env...), " / ")
}

func bind[T any](b *Binder, p *T, s Setting[T], kind string, parse func(string) (T, error), format func(T) string) *pflag.Flag {
	*p = s.Default
	v := &value[T]{p: p, kind: kind, name: name(s.Flag, s.Env), parse: parse, format: format}
	bd := &binding{env: s.Env, secret: s.Secret, value: v}
	if s.Check != nil {
		bd.check = func() error {
			if err := s.Check(*p); err != nil {
				return fmt.Errorf("%s: %w", v.name, err)
			}
			return nil
		}
	}
	b.settings = append(b.settings, bd)
	if s.Flag == "" {
		return nil
	}
	help := s.Help
	if len(s.Env) > 0 {
		help += " (env " + strings.Join(s.Env, ", ") + ")"
	}
	f := b.fs.VarPF(v, s.Flag, "", help)
	bd.flags = append(bd.flags, s.Flag)
	for _, a := range s.Aliases {
		af := b.fs.VarPF(v, a, "", help)
		af.Hidden = true
		bd.flags = append(bd.flags, a)
	}
	return f
}

// Resolve fills every setting whose flag was not given from src, then runs
// the checks. It reports every bad setting at once.
func (b *Binder) Resolve(src Source) error {
	var errs []error
	for _, s := range b.settings {
		if !b.changed(s) {
			if v, ok := src.Get(s.env...); ok {
				if err := s.value.Set(v); err != nil {
					errs = append(errs, err)
					continue
				}
			}
		}
		if s.check != nil {
			if err := s.check(); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// Variables lists the environment variables of the binder's settings, in
// declaration order.
func (b *Binder) Variables() []Variable {
	var out []Variable
	for _, s := range b.settings {
		for _, e := range s.env {
			out = append(out, Variable{Name: e, Secret: s.secret})
		}
	}
	return out
}

func (b *Binder) changed(s *binding) bool {
	for _, n := range s.flags {
		if f := b.fs.Lookup(n); f != nil && f.Changed {
			return true
		}
	}
	return false
}

// String declares a string setting.
func String(b *Binder, p *string, s Setting[string]) {
	bind(b, p, s, "string", func(v string) (string, error) { return v, nil }, func(v string) string { return v })
}

// Bool declares a boolean setting; the flag alone means true.
func Bool(b *Binder, p *bool, s Setting[bool]) {
	if f := bind(b, p, s, "bool", strconv.ParseBool, strconv.FormatBool); f != nil {
		f.NoOptDefVal = "true"
		for _, a := range s.Aliases {
			b.fs.Lookup(a).NoOptDefVal = "true"
		}
	}
}

// Int declares an integer setting.
func Int(b *Binder, p *int, s Setting[int]) {
	bind(b, p, s, "int", func(v string) (int, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	}, strconv.Itoa)
}

// Int64 declares a 64-bit integer setting.
func Int64(b *Binder, p *int64, s Setting[int64]) {
	bind(b, p, s, "int64", func(v string) (int64, error) {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", v)
		}
		return n, nil
	}, func(n int64) string { return strconv.FormatInt(n, 10) })
}

// Duration declares a duration setting. A plain integer is seconds, as Tatum
// KMS's --period is and Custos's --lease was, so old command lines keep their
// meaning.
func Duration(b *Binder, p *time.Duration, s Setting[time.Duration]) {
	bind(b, p, s, "duration", ParseDuration, time.Duration.String)
}

// ParseDuration reads a Go duration (5s, 1m30s) or a number of seconds (5).
func ParseDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("%d seconds is out of range", n)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration: want seconds (5) or a Go duration (5s, 1m30s)", v)
	}
	return d, nil
}

// StringArray declares a repeatable flag; each use adds one value. It has no
// variable: a list of CHAIN=URL pairs does not fit one.
func StringArray(b *Binder, p *[]string, s Setting[[]string]) {
	s.Env = nil
	bind(b, p, s, "stringArray", func(v string) ([]string, error) { return append(*p, v), nil },
		func(v []string) string {
			if len(v) == 0 {
				return "" // help shows no default for an empty list
			}
			return "[" + strings.Join(v, ",") + "]"
		})
}
