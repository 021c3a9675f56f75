package release

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// moduleRoot is the checkout the tests build from.
func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is missing")
	}
	return root
}

// Two release builds of one commit give the same SHA256SUMS, and the
// binary for this platform reports the version, commit and date it was
// stamped with.
func TestReleaseIsReproducibleAndStamped(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every platform twice")
	}
	root := moduleRoot(t)
	ctx := context.Background()
	host := Target{runtime.GOOS, runtime.GOARCH}
	var sums [2][]byte
	var res *Result
	for i := range sums {
		out := t.TempDir()
		var err error
		if res, err = Build(ctx, Options{Dir: root, Out: out, Version: "v0.0.0-test"}); err != nil {
			t.Fatal(err)
		}
		if sums[i], err = os.ReadFile(filepath.Join(out, "SHA256SUMS")); err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			checkStamp(t, out, host, res)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		t.Fatalf("two builds differ:\n%s\n%s", sums[0], sums[1])
	}
	if n := strings.Count(string(sums[0]), "\n"); n != 2*len(Targets) {
		t.Fatalf("SHA256SUMS lists %d files, want an archive and an SBOM for each of %d platforms:\n%s", n, len(Targets), sums[0])
	}
	head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	if res.Commit != strings.TrimSpace(string(head)) {
		t.Fatalf("release of commit %q, HEAD is %s", res.Commit, head)
	}
}

// checkStamp runs the host platform's binary from its archive.
func checkStamp(t *testing.T, out string, host Target, res *Result) {
	t.Helper()
	if host.OS == "windows" {
		t.Log("the archive of this platform is a zip: not run")
		return
	}
	bin := filepath.Join(t.TempDir(), "custos")
	base := "custos-" + res.Version + "-" + host.OS + "-" + host.Arch
	entries := readTarGz(t, filepath.Join(out, base+".tar.gz"))
	if err := os.WriteFile(bin, entries[base+"/custos"], 0o755); err != nil {
		t.Fatal(err)
	}
	bom, err := os.ReadFile(filepath.Join(out, base+".cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(bom, []byte(`"purl": "pkg:golang/github.com/spf13/cobra@v`)) {
		t.Errorf("the SBOM does not name cobra, which the binary links:\n%s", bom)
	}
	got, err := exec.Command(bin, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]string
	if err := json.Unmarshal(got, &v); err != nil {
		t.Fatalf("%v: %s", err, got)
	}
	want := map[string]string{"version": res.Version, "commit": res.Commit, "date": res.Epoch.Format(time.RFC3339),
		"go": runtime.Version(), "platform": host.String()}
	for k, w := range want {
		if v[k] != w {
			t.Errorf("version --json %s = %q, want %q (%s)", k, v[k], w, got)
		}
	}
}

// readTarGz returns the archive's files by name, checking that each entry
// has the fixed owner and that entries are sorted.
func readTarGz(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	files := map[string][]byte{}
	prev := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" || h.Name <= prev {
			t.Fatalf("entry %s: owner %d:%d %q:%q after %q", h.Name, h.Uid, h.Gid, h.Uname, h.Gname, prev)
		}
		prev = h.Name
		if files[h.Name], err = io.ReadAll(tr); err != nil {
			t.Fatal(err)
		}
	}
}

// An archive's bytes depend on its files' contents and the given time
// alone: not on the order files are given in, nor on their times on disk.
func TestArchivesAreDeterministic(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(bin, []byte("binary"), 0o700); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0)
	files := []file{{name: "d/z", mode: 0o755, path: bin}, {name: "d/a", mode: 0o644, data: []byte("readme")}}
	for _, write := range []func(string, []file, time.Time) error{writeTarGz, writeZip} {
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		if err := write(a, files, mtime); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(bin, time.Now(), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := write(b, []file{files[1], files[0]}, mtime); err != nil {
			t.Fatal(err)
		}
		ab, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if !bytes.Equal(ab, bb) {
			t.Fatal("the same files made two different archives")
		}
		if err := write(b, files, mtime.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if bb, _ = os.ReadFile(b); bytes.Equal(ab, bb) {
			t.Fatal("the archive does not carry the given time")
		}
	}
}

// The SBOM of a Go binary lists the modules linked into it, the standard
// library, and the binary as the application.
func TestSBOMListsLinkedModules(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := sbom(exe, "v1.2.3", time.Unix(1700000000, 0), Target{"linux", "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	var b bom
	if err := json.Unmarshal(out, &b); err != nil {
		t.Fatal(err)
	}
	if b.BOMFormat != "CycloneDX" || b.SpecVersion != "1.5" || b.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Fatalf("header %+v", b)
	}
	if b.Metadata.Component.Name != "github.com/custoskms/custos" || b.Metadata.Component.Version != "v1.2.3" {
		t.Fatalf("application %+v", b.Metadata.Component)
	}
	have := map[string]bool{}
	for _, c := range b.Components {
		have[c.Name] = true
		if c.PURL != "pkg:golang/"+c.Name+"@"+c.Version {
			t.Fatalf("component %+v", c)
		}
	}
	// This test binary links the standard library alone; the release test
	// checks a module dependency in the binary's SBOM.
	if !have["stdlib"] {
		t.Fatalf("no stdlib component in %s", out)
	}
	if len(b.Dependencies) != len(b.Components)+1 || len(b.Dependencies[0].DependsOn) != len(b.Components) {
		t.Fatalf("dependencies %+v", b.Dependencies)
	}
}
