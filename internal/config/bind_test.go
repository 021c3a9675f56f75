package config

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

type testConfig struct {
	url     string
	period  time.Duration
	runOnce bool
	n       int
}

func newTestBinder() (*pflag.FlagSet, *Binder, *testConfig) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	b := NewBinder(fs)
	var c testConfig
	String(b, &c.url, Setting[string]{Flag: "external-url", Aliases: []string{"externalUrl"},
		Env: []string{"CUSTOS_URL", "TATUM_URL"}, Default: "http://default", Help: "the url"})
	Duration(b, &c.period, Setting[time.Duration]{Flag: "period", Env: []string{"CUSTOS_PERIOD"}, Default: 5 * time.Second,
		Help: "time between runs", Check: func(d time.Duration) error {
			if d <= 0 {
				return errors.New("must be positive")
			}
			return nil
		}})
	Bool(b, &c.runOnce, Setting[bool]{Flag: "run-once", Aliases: []string{"runOnce"}, Help: "once"})
	Int(b, &c.n, Setting[int]{Flag: "concurrency", Default: 64, Help: "in flight"})
	return fs, b, &c
}

func resolve(t *testing.T, args []string, env, file map[string]string) (*testConfig, error) {
	t.Helper()
	fs, b, c := newTestBinder()
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	return c, b.Resolve(NewSource(mapEnv(env), file))
}

func TestBinderPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name      string
		args      []string
		env, file map[string]string
		want      string
	}{
		{"default", nil, nil, nil, "http://default"},
		{"env file beats default", nil, nil, map[string]string{"CUSTOS_URL": "file"}, "file"},
		{"environment beats env file", nil, map[string]string{"TATUM_URL": "env-tatum"}, map[string]string{"CUSTOS_URL": "file"}, "env-tatum"},
		{"CUSTOS_ beats Tatum alias", nil, map[string]string{"TATUM_URL": "env-tatum", "CUSTOS_URL": "env-custos"}, nil, "env-custos"},
		{"flag beats environment", []string{"--external-url", "flag"}, map[string]string{"CUSTOS_URL": "env-custos"}, map[string]string{"CUSTOS_URL": "file"}, "flag"},
		{"alias flag beats environment", []string{"--externalUrl", "alias"}, map[string]string{"CUSTOS_URL": "env-custos"}, nil, "alias"},
	} {
		c, err := resolve(t, tc.args, tc.env, tc.file)
		if err != nil || c.url != tc.want {
			t.Errorf("%s: %q, %v; want %q", tc.name, c.url, err, tc.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"5": 5 * time.Second, "0": 0, " 60 ": time.Minute, "1m": time.Minute, "200ms": 200 * time.Millisecond, "1m30s": 90 * time.Second} {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("%q: %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "x", "1.5", "5 s", "99999999999999999"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestBinderDurationsAndErrors(t *testing.T) {
	if c, err := resolve(t, []string{"--period", "7"}, nil, nil); err != nil || c.period != 7*time.Second {
		t.Fatalf("--period 7: %v %v", c.period, err)
	}
	if c, err := resolve(t, nil, map[string]string{"CUSTOS_PERIOD": "250ms"}, nil); err != nil || c.period != 250*time.Millisecond {
		t.Fatalf("CUSTOS_PERIOD=250ms: %v %v", c.period, err)
	}
	for name, tc := range map[string]struct {
		args []string
		env  map[string]string
	}{
		"bad flag":        {[]string{"--period", "soon"}, nil},
		"bad variable":    {nil, map[string]string{"CUSTOS_PERIOD": "soon"}},
		"check of a flag": {[]string{"--period", "0"}, nil},
		"check of an env": {nil, map[string]string{"CUSTOS_PERIOD": "-1"}},
	} {
		_, err := resolve(t, tc.args, tc.env, nil)
		if err == nil || !strings.Contains(err.Error(), "--period / CUSTOS_PERIOD: ") {
			t.Errorf("%s: err = %v, want it to name --period and CUSTOS_PERIOD", name, err)
		}
	}
}

func TestBinderAliasesAndHelp(t *testing.T) {
	c, err := resolve(t, []string{"--runOnce", "--externalUrl=http://a"}, nil, nil)
	if err != nil || !c.runOnce || c.url != "http://a" {
		t.Fatalf("aliases: %+v %v", c, err)
	}
	if c, err := resolve(t, []string{"--run-once=false"}, nil, nil); err != nil || c.runOnce {
		t.Fatalf("--run-once=false: %+v %v", c, err)
	}
	fs, _, _ := newTestBinder()
	help := fs.FlagUsages()
	for _, want := range []string{"(default 5s)", "(default 64)", "(default \"http://default\")", "(env CUSTOS_URL, TATUM_URL)", "(env CUSTOS_PERIOD)", "--period duration"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %q:\n%s", want, help)
		}
	}
	if strings.Contains(help, "externalUrl") || strings.Contains(help, "runOnce") {
		t.Errorf("aliases shown in help:\n%s", help)
	}
}
