// Package release builds Custos's release artifacts: one archive per
// platform with the binary stamped with its version, commit and build date,
// a CycloneDX SBOM per platform and a SHA256SUMS file. Builds are
// reproducible: the build date is the commit's time (or SOURCE_DATE_EPOCH),
// paths are trimmed, and archives have sorted entries with fixed times,
// owners and modes, so two builds of one commit give the same checksums.
package release

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Target is a platform Custos ships on.
type Target struct{ OS, Arch string }

func (t Target) String() string { return t.OS + "/" + t.Arch }

// Targets are the platforms of a release (the ones scripts/test cross-compiles).
var Targets = []Target{{"linux", "amd64"}, {"linux", "arm64"}, {"darwin", "arm64"}, {"windows", "amd64"}}

// Options configure a release build.
type Options struct {
	// Dir is the module's root, a git checkout.
	Dir string
	// Out receives the artifacts; it is created, and must not hold a
	// previous release's files with other names (they would not be in
	// SHA256SUMS but would sit beside it).
	Out string
	// Version is stamped into the binary and names the archives; "" means
	// `git describe --tags --always --dirty`.
	Version string
	// Epoch is the build date; zero means SOURCE_DATE_EPOCH when set in Env,
	// else the commit's time.
	Epoch time.Time
	// Targets default to Targets.
	Targets []Target
	// Env is the environment of the go and git commands; nil means the process's.
	Env []string
}

// Artifact is one file of a release.
type Artifact struct {
	Name   string
	SHA256 string
}

// Result describes a finished release.
type Result struct {
	Version string
	Commit  string
	Epoch   time.Time
	// Artifacts are in SHA256SUMS order (by name).
	Artifacts []Artifact
}

// Build builds the release into o.Out.
func Build(ctx context.Context, o Options) (*Result, error) {
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if len(o.Targets) == 0 {
		o.Targets = Targets
	}
	commit, err := o.git(ctx, "rev-parse", "HEAD")
	if err != nil {
		return nil, err
	}
	if o.Version == "" {
		if o.Version, err = o.git(ctx, "describe", "--tags", "--always", "--dirty"); err != nil {
			return nil, err
		}
	}
	if strings.ContainsAny(o.Version, "/\\ \t\n'\"") {
		return nil, fmt.Errorf("release: version %q cannot name a file", o.Version)
	}
	if o.Epoch.IsZero() {
		if o.Epoch, err = o.epoch(ctx); err != nil {
			return nil, err
		}
	}
	o.Epoch = o.Epoch.UTC()
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp(o.Out, ".build-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)

	readme, err := os.ReadFile(filepath.Join(o.Dir, "README.md"))
	if err != nil {
		return nil, err
	}
	res := &Result{Version: o.Version, Commit: commit, Epoch: o.Epoch}
	var names []string
	for _, t := range o.Targets {
		bin, err := o.build(ctx, work, commit, t)
		if err != nil {
			return nil, err
		}
		base := "custos-" + o.Version + "-" + t.OS + "-" + t.Arch
		exe := "custos"
		if t.OS == "windows" {
			exe += ".exe"
		}
		files := []file{
			{name: base + "/" + exe, mode: 0o755, path: bin},
			{name: base + "/README.md", mode: 0o644, data: readme},
		}
		archive := base + ".tar.gz"
		write := writeTarGz
		if t.OS == "windows" {
			archive, write = base+".zip", writeZip
		}
		if err := write(filepath.Join(o.Out, archive), files, o.Epoch); err != nil {
			return nil, err
		}
		bom, err := sbom(bin, o.Version, o.Epoch, t)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(o.Out, base+".cdx.json"), bom, 0o644); err != nil {
			return nil, err
		}
		names = append(names, archive, base+".cdx.json")
	}
	sort.Strings(names)
	var sums bytes.Buffer
	for _, n := range names {
		sum, err := fileSHA256(filepath.Join(o.Out, n))
		if err != nil {
			return nil, err
		}
		res.Artifacts = append(res.Artifacts, Artifact{Name: n, SHA256: sum})
		fmt.Fprintf(&sums, "%s  %s\n", sum, n)
	}
	if err := os.WriteFile(filepath.Join(o.Out, "SHA256SUMS"), sums.Bytes(), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}

// build compiles the binary for t into work and returns its path. The
// linker flags stamp the version, commit and date (cmd/custos/version.go).
// The toolchain's own VCS stamp is off: it is missing in a git worktree
// (whose .git is a file) and present in a clone, so a binary built from
// one commit would differ between the two.
func (o Options) build(ctx context.Context, work, commit string, t Target) (string, error) {
	out := filepath.Join(work, t.OS+"-"+t.Arch, "custos")
	ldflags := "-s -w -buildid= -X main.stampedVersion=" + o.Version + " -X main.stampedCommit=" + commit +
		" -X main.stampedDate=" + o.Epoch.Format(time.RFC3339)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, "./cmd/custos")
	cmd.Dir = o.Dir
	cmd.Env = append(append([]string{}, o.Env...), "CGO_ENABLED=0", "GOOS="+t.OS, "GOARCH="+t.Arch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("release: go build for %s: %w\n%s", t, err, msg)
	}
	return out, nil
}

func (o Options) git(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-C", o.Dir}, args...)...)
	cmd.Env = o.Env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("release: git %s: %w: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return strings.TrimSpace(string(out)), nil
}

// epoch is SOURCE_DATE_EPOCH (the reproducible-builds convention) when set,
// else the commit time, so that rebuilding a commit later gives the same date.
func (o Options) epoch(ctx context.Context) (time.Time, error) {
	s := ""
	for _, kv := range o.Env {
		if v, ok := strings.CutPrefix(kv, "SOURCE_DATE_EPOCH="); ok {
			s = v
		}
	}
	if s == "" {
		var err error
		if s, err = o.git(ctx, "log", "-1", "--format=%ct"); err != nil {
			return time.Time{}, err
		}
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, errors.New("release: SOURCE_DATE_EPOCH is not a count of seconds: " + s)
	}
	return time.Unix(sec, 0), nil
}

func fileSHA256(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
