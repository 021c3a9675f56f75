//go:build linux

package deploy

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/custoskms/custos/internal/release"
)

// The image builds from the release archive, and the binary taken out of it
// (without running a container, which not every machine permits) is the
// release build's and reports the same version.
func TestImageCarriesTheReleaseBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release and an image")
	}
	podman := need(t, "podman")
	need(t, "git")
	ctx := context.Background()
	dist := t.TempDir()
	host := release.Target{OS: "linux", Arch: runtime.GOARCH}
	res, err := release.Build(ctx, release.Options{Dir: "..", Out: dist, Version: "v0.0.0-image", Targets: []release.Target{host}})
	if err != nil {
		t.Fatal(err)
	}
	base := "custos-" + res.Version + "-linux-" + runtime.GOARCH
	want := untarFile(t, filepath.Join(dist, base+".tar.gz"), base+"/custos")

	suffix := make([]byte, 6)
	rand.Read(suffix)
	tag := "localhost/custos-test:" + hex.EncodeToString(suffix)
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.CommandContext(ctx, podman, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("podman %v: %v\n%s", args, err, out)
		}
		return string(bytes.TrimSpace(out))
	}
	run("build", "--quiet", "--build-arg", "VERSION="+res.Version, "--build-context", "certs="+caDir(t),
		"--build-context", "volume=container/data", "-f", "container/Containerfile", "-t", tag, dist)
	t.Cleanup(func() { exec.Command(podman, "rmi", "--force", tag).Run() })
	ctr := run("create", tag)
	t.Cleanup(func() { exec.Command(podman, "rm", "--force", ctr).Run() })
	got := filepath.Join(t.TempDir(), "custos")
	run("cp", ctr+":/usr/local/bin/custos", got)
	run("cp", ctr+":/etc/ssl/certs/ca-certificates.crt", t.TempDir())
	// /data is a volume, which podman cp does not see through before the
	// container runs: the image's own /data is read from its mounted layers.
	root := run("image", "mount", tag)
	t.Cleanup(func() { exec.Command(podman, "image", "unmount", tag).Run() })
	if fi, err := os.Stat(filepath.Join(root, "data")); err != nil {
		t.Fatal(err)
	} else if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 65532 || st.Gid != 65532 || !fi.IsDir() {
		t.Fatalf("/data in the image: %v %+v", fi.Mode(), fi.Sys())
	}
	if user := run("image", "inspect", "--format", "{{.Config.User}}", tag); user != "65532:65532" {
		t.Fatalf("image user %q", user)
	}

	b, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, want) {
		t.Fatal("the image's binary is not the release build's")
	}
	ref := filepath.Join(t.TempDir(), "custos-release")
	if err := os.WriteFile(ref, want, 0o755); err != nil {
		t.Fatal(err)
	}
	vImage, err := exec.Command(got, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	vRelease, err := exec.Command(ref, "version", "--json").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(vImage, vRelease) || !bytes.Contains(vImage, []byte(res.Commit)) {
		t.Fatalf("version of the image's binary %s, of the release %s", vImage, vRelease)
	}
}

// caDir is the host's CA bundle directory the image copies ca-certificates.crt from.
func caDir(t *testing.T) string {
	const dir = "/etc/ssl/certs"
	if _, err := os.Stat(filepath.Join(dir, "ca-certificates.crt")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no CA bundle: %v (Debian package ca-certificates)", err)
		}
		t.Skip("no CA bundle in " + dir)
	}
	return dir
}

func untarFile(t *testing.T, archive, name string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in %s: %v", name, archive, err)
		}
		if h.Name == name {
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
}
