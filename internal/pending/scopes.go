package pending

import (
	"fmt"
	"strings"
)

// Scopes is the set of rights an API key grants, so that the application
// that queues transactions and the signer that fetches and completes them
// can hold different keys. The API decides which scope each route needs.
type Scopes uint8

// The scopes. A key holds any non-empty subset; keys made before scopes
// existed, and keys made without naming any, hold AllScopes.
const (
	// ScopeQueue queues, reads and deletes transactions (the application).
	ScopeQueue Scopes = 1 << iota
	// ScopeSign fetches pending transactions, broadcasts, completes and
	// reports errors (the signer).
	ScopeSign
	// ScopeAdmin reads what concerns the server as a whole (metrics).
	ScopeAdmin

	AllScopes = ScopeQueue | ScopeSign | ScopeAdmin
)

// scopeNames are the scopes' names, in the order they are written.
var scopeNames = [...]struct {
	s    Scopes
	name string
}{{ScopeQueue, "queue"}, {ScopeSign, "sign"}, {ScopeAdmin, "admin"}}

// Has reports whether every scope of want is in s.
func (s Scopes) Has(want Scopes) bool { return s&want == want }

// Names lists the scopes of s in their canonical order.
func (s Scopes) Names() []string {
	out := []string{}
	for _, n := range scopeNames {
		if s.Has(n.s) {
			out = append(out, n.name)
		}
	}
	return out
}

// String is the comma-separated form stores keep and the CLI reads.
func (s Scopes) String() string { return strings.Join(s.Names(), ",") }

// ParseScopes reads a comma-separated scope list ("queue,sign"); spaces
// around names are ignored. An empty list or an unknown name is an error.
func ParseScopes(list string) (Scopes, error) {
	var s Scopes
	for _, part := range strings.Split(list, ",") {
		part = strings.TrimSpace(part)
		found := false
		for _, n := range scopeNames {
			if part == n.name {
				s |= n.s
				found = true
			}
		}
		if !found {
			return 0, fmt.Errorf("%w: %q (want a comma-separated list of %s)", ErrScope, part, AllScopes)
		}
	}
	return s, nil
}
