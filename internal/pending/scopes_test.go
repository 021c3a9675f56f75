package pending

import (
	"errors"
	"testing"
)

func TestParseScopes(t *testing.T) {
	for in, want := range map[string]Scopes{
		"queue": ScopeQueue, "sign, queue": ScopeQueue | ScopeSign, "admin,admin": ScopeAdmin, "queue,sign,admin": AllScopes,
	} {
		if got, err := ParseScopes(in); err != nil || got != want {
			t.Errorf("ParseScopes(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "queue,", "Queue", "read", "queue sign"} {
		if got, err := ParseScopes(in); !errors.Is(err, ErrScope) {
			t.Errorf("ParseScopes(%q) = %v, %v; want ErrScope", in, got, err)
		}
	}
	if got := (ScopeAdmin | ScopeQueue).String(); got != "queue,admin" {
		t.Errorf("String = %q", got)
	}
}
