// Command process measures Custos as an operator runs it: whole processes,
// start-up included. It builds custos and the node double (bench/nodedouble),
// starts `custos serve` on a SQLite file and the node double as separate
// processes, creates the managed ETH keys with generatemanagedprivatekeybatch,
// queues the pending transfers over HTTP, then times one
// `custos daemon --run-once` from exec until every transaction is completed
// (has its txId); with -approver the daemon asks `custos approver serve`
// first (approver.go). It prints the throughput, the CPU each process spent per
// transaction during that window, the page faults each took in it (on a VM a
// fresh page costs microseconds), and each process's peak RSS.
//
//	go run ./bench/process -runs 3
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// chainID is the dev chain id the node double, the server and the daemon agree on.
const chainID = 1337

type options struct {
	keys, pending, runs, clients int
	custos, workDir, profileDir  string
	keep                         bool
	approver                     bool // see approver.go
}

func main() {
	var o options
	flag.IntVar(&o.keys, "keys", 10_000, "managed ETH keys in the wallet store")
	flag.IntVar(&o.pending, "pending", 3_000, "pending transfers, one per sender, senders spread over the keys")
	flag.IntVar(&o.runs, "runs", 1, "runs, each on fresh stores")
	flag.IntVar(&o.clients, "clients", 32, "concurrent clients queueing the transfers")
	flag.StringVar(&o.custos, "custos", "", "custos binary to measure (unset: built from this module)")
	flag.StringVar(&o.workDir, "dir", "", "working directory (unset: a temporary one, removed unless -keep)")
	flag.StringVar(&o.profileDir, "profile", "", "write serve.cpu.pprof and daemon.cpu.pprof (--cpuprofile) of the last run here")
	flag.BoolVar(&o.keep, "keep", false, "keep the working directory")
	flag.BoolVar(&o.approver, "approver", false, "the daemon asks `custos approver serve` (auto-approve rule) before signing each transaction")
	flag.Parse()
	if o.pending > o.keys || o.pending < 1 {
		fail(errors.New("-pending must be 1 to -keys"))
	}
	if err := run(context.Background(), o); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "bench/process:", err)
	os.Exit(1)
}

func run(ctx context.Context, o options) (err error) {
	dir := o.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "custos-bench-")
		if err != nil {
			return err
		}
		dir = d
		// A failed run keeps its directory: the processes' logs in it are
		// what says why.
		defer func() {
			if err == nil && !o.keep {
				os.RemoveAll(dir)
			}
		}()
	}
	bin := filepath.Join(dir, "bin")
	nodeBin := filepath.Join(bin, "nodedouble")
	if err := build(ctx, nodeBin, "./bench/nodedouble"); err != nil {
		return err
	}
	built := o.custos
	if built == "" {
		built = filepath.Join(bin, "custos-built")
		if err := build(ctx, built, "./cmd/custos"); err != nil {
			return err
		}
	}
	custos := filepath.Join(bin, "custos")
	if err := install(built, custos); err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs, %s; keys %d, pending %d\n", cpus(), cpuModel(), o.keys, o.pending)
	var results []result
	for i := range o.runs {
		runDir := filepath.Join(dir, fmt.Sprintf("run%d", i+1))
		profile := ""
		if o.profileDir != "" && i == o.runs-1 {
			profile = o.profileDir
		}
		r, err := oneRun(ctx, o, custos, nodeBin, runDir, profile)
		if err != nil {
			return fmt.Errorf("run %d: %w (files in %s)", i+1, err, runDir)
		}
		r.print(i+1, o.pending)
		results = append(results, r)
	}
	if len(results) > 1 {
		lo, hi := results[0].rate(o.pending), results[0].rate(o.pending)
		for _, r := range results[1:] {
			lo, hi = min(lo, r.rate(o.pending)), max(hi, r.rate(o.pending))
		}
		fmt.Printf("range: %.0f–%.0f tx/s over %d runs\n", lo, hi, len(results))
	}
	return nil
}

// install copies the binary to measure as a package manager, `install` or an
// image layer does: written with write(2). The linker writes its output
// through a shared mapping, and the page cache of this machine's kernel then
// holds it in large folios, each of which a page fault maps whole: the same
// daemon peaked at 87–121 MB run from linker-written files and at 86.5–91 MB
// from copies of them (BENCHMARKS.md, "Page faults"). Operators run copies.
func install(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	// Plain writes: hidden behind the struct, dst's ReadFrom (copy_file_range)
	// is not used.
	if _, err := io.Copy(struct{ io.Writer }{dst}, src); err != nil {
		dst.Close()
		return fmt.Errorf("install %s: %w", to, err)
	}
	return dst.Close()
}

func build(ctx context.Context, out, pkg string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w", pkg, err)
	}
	return nil
}

// result is one run's figures.
type result struct {
	wall                  time.Duration // daemon exec until the last transaction completed
	daemonExit            time.Duration // the daemon's exit after exec
	daemon                procUse       // the daemon's, exec to exit
	serve, node           procUse       // in the same window
	daemonRSS, serveRSS   int64         // peak, bytes
	nodeRSS               int64
	daemonAnon            int64 // the daemon's largest sampled RssAnon: its own memory, not the binary's pages
	loadBefore, loadAfter string
	approver              *approverFigures // with -approver
}

func (r result) rate(n int) float64 { return float64(n) / r.wall.Seconds() }

func (r result) print(i, n int) {
	per := func(d time.Duration) float64 { return d.Seconds() * 1e3 / float64(n) }
	fmt.Printf("run %d: %.0f tx/s (%d in %.3f s, daemon exited at %.3f s); CPU ms/tx: daemon %.3f, serve %.3f, node %.3f (daemon %.2f s, serve %.2f s, node %.2f s); page faults: daemon %d, serve %d, node %d; peak RSS: daemon %.1f MB (anonymous ≈ %.1f MB), serve %.1f MB, node %.1f MB; load %s → %s\n",
		i, r.rate(n), n, r.wall.Seconds(), r.daemonExit.Seconds(),
		per(r.daemon.cpu), per(r.serve.cpu), per(r.node.cpu), r.daemon.cpu.Seconds(), r.serve.cpu.Seconds(), r.node.cpu.Seconds(),
		r.daemon.faults, r.serve.faults, r.node.faults,
		mb(r.daemonRSS), mb(r.daemonAnon), mb(r.serveRSS), mb(r.nodeRSS), r.loadBefore, r.loadAfter)
	r.approver.print()
}

func mb(b int64) float64 { return float64(b) / 1e6 }

func oneRun(ctx context.Context, o options, custos, nodeBin, dir, profileDir string) (result, error) {
	var r result
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	password := randomHex(16)
	env := append(os.Environ(),
		"CUSTOS_PATH="+filepath.Join(dir, "wallet.dat"),
		"CUSTOS_PASSWORD="+password,
		"CUSTOS_DATA_DIR="+filepath.Join(dir, "data"))

	node, nodeURL, err := startNode(ctx, nodeBin, dir)
	if err != nil {
		return r, err
	}
	defer node.stop()

	keys, err := generateKeys(ctx, custos, env, o.keys)
	if err != nil {
		return r, err
	}
	apiKey, err := createAPIKey(ctx, custos, env)
	if err != nil {
		return r, err
	}
	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	serveArgs := []string{"--testnet", "serve", "--listen", addr, "--node", "ETH:testnet=" + nodeURL,
		"--chain-id", "ETH:testnet=" + strconv.Itoa(chainID), "--rate-limit", "0"}
	if profileDir != "" {
		serveArgs = append(serveArgs, "--cpuprofile", filepath.Join(profileDir, "serve.cpu.pprof"))
	}
	serve, err := startLogged(ctx, custos, env, filepath.Join(dir, "serve.log"), serveArgs...)
	if err != nil {
		return r, err
	}
	defer serve.stop()
	api := &apiClient{base: "http://" + addr, key: apiKey, http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.clients}}}
	if err := api.waitReady(ctx, 30*time.Second); err != nil {
		return r, fmt.Errorf("serve: %w (see serve.log)", err)
	}
	ids, err := api.queueAll(ctx, keys, o.pending, o.clients)
	if err != nil {
		return r, err
	}

	daemonArgs := []string{"--testnet", "daemon", "--run-once", "--chain", "ETH", "--api-url", api.base,
		"--chain-id", "ETH:testnet=" + strconv.Itoa(chainID), "--ledger", filepath.Join(dir, "ledger.db")}
	if profileDir != "" {
		daemonArgs = append(daemonArgs, "--cpuprofile", filepath.Join(profileDir, "daemon.cpu.pprof"))
	}
	denv := append(env, "CUSTOS_API_KEY="+apiKey)
	ap, err := startApprover(ctx, o, custos, dir, profileDir)
	if err != nil {
		return r, err
	}
	defer ap.stop()
	daemonArgs, denv = append(daemonArgs, ap.daemonArgs()...), append(denv, ap.daemonEnv()...)
	ap.mark()
	serve0, node0 := procStat(serve.cmd.Process.Pid), procStat(node.cmd.Process.Pid)
	r.loadBefore = loadavg()
	var out, errOut bytes.Buffer
	d := exec.CommandContext(ctx, custos, daemonArgs...)
	d.Env, d.Stdout, d.Stderr = denv, &out, &errOut
	start := time.Now()
	if err := d.Start(); err != nil {
		return r, fmt.Errorf("daemon: %w", err)
	}
	stopSampling := sampleAnon(d.Process.Pid, &r.daemonAnon)
	err = d.Wait()
	stopSampling()
	if err != nil {
		os.WriteFile(filepath.Join(dir, "daemon.log"), errOut.Bytes(), 0o600)
		return r, fmt.Errorf("daemon: %w: %s", err, lastLine(errOut.String()))
	}
	r.daemonExit = time.Since(start)
	r.serve, r.node = procStat(serve.cmd.Process.Pid).minus(serve0), procStat(node.cmd.Process.Pid).minus(node0)
	r.loadAfter = loadavg()
	// A transaction counts once the API shows its txId. The API completes a
	// transaction before it answers the daemon's broadcast, so the daemon's
	// exit is normally the end; were any still without a txId, the time until
	// the last has one counts (the checking requests' CPU is then counted too).
	late, err := api.waitCompleted(ctx, ids, o.clients, time.Minute)
	if err != nil {
		return r, err
	}
	r.wall = r.daemonExit
	if late {
		r.wall = time.Since(start)
		r.serve, r.node = procStat(serve.cmd.Process.Pid).minus(serve0), procStat(node.cmd.Process.Pid).minus(node0)
	}
	os.WriteFile(filepath.Join(dir, "daemon.log"), errOut.Bytes(), 0o600)
	var sum struct{ Signed, Submitted, Failed int }
	if err := json.Unmarshal(out.Bytes(), &sum); err != nil || sum.Submitted != o.pending || sum.Failed != 0 {
		return r, fmt.Errorf("daemon summary %q: %v", out.String(), err)
	}
	if n, err := admitted(ctx, nodeURL); err != nil || n != o.pending {
		return r, fmt.Errorf("node admitted %d of %d: %v", n, o.pending, err)
	}
	r.daemon.cpu = d.ProcessState.UserTime() + d.ProcessState.SystemTime()
	if ru, ok := d.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.daemonRSS = ru.Maxrss * 1024 // Linux reports kilobytes
		r.daemon.faults = ru.Minflt
	}
	r.serveRSS, r.nodeRSS = peakRSS(serve.cmd.Process.Pid), peakRSS(node.cmd.Process.Pid)
	r.approver, err = ap.figures(o.pending)
	return r, err
}

// managedKey is one line of generatemanagedprivatekeybatch.
type managedKey struct {
	SignatureID string `json:"signatureId"`
	Address     string `json:"address"`
}

func generateKeys(ctx context.Context, custos string, env []string, n int) ([]managedKey, error) {
	cmd := exec.CommandContext(ctx, custos, "--testnet", "generatemanagedprivatekeybatch", "ETH", strconv.Itoa(n))
	cmd.Env = env
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("generatemanagedprivatekeybatch: %w: %s", err, lastLine(errOut.String()))
	}
	var keys []managedKey
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var k managedKey
		if err := json.Unmarshal(sc.Bytes(), &k); err != nil || k.SignatureID == "" {
			return nil, fmt.Errorf("generatemanagedprivatekeybatch line %q: %v", sc.Text(), err)
		}
		keys = append(keys, k)
	}
	if len(keys) != n {
		return nil, fmt.Errorf("generatemanagedprivatekeybatch gave %d keys, want %d", len(keys), n)
	}
	return keys, nil
}

func createAPIKey(ctx context.Context, custos string, env []string) (string, error) {
	cmd := exec.CommandContext(ctx, custos, "--testnet", "apikey", "create", "--name", "bench")
	cmd.Env = env
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("apikey create: %w: %s", err, lastLine(errOut.String()))
	}
	var k struct{ APIKey string }
	if err := json.Unmarshal(out, &k); err != nil || k.APIKey == "" {
		return "", fmt.Errorf("apikey create %q: %v", out, err)
	}
	return k.APIKey, nil
}

// proc is a started child process.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// stop ends the process with SIGTERM (so that a CPU profile is written) and
// waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func startLogged(ctx context.Context, bin string, env []string, logPath string, args ...string) (*proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env, cmd.Stdout, cmd.Stderr = env, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// startNode starts the node double and reads the URL it prints.
func startNode(ctx context.Context, bin, dir string) (*proc, string, error) {
	cmd := exec.CommandContext(ctx, bin, "-chain-id", strconv.Itoa(chainID))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	f, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		return nil, "", err
	}
	cmd.Stderr = f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, "", err
	}
	p := &proc{cmd: cmd, done: make(chan struct{})}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, stdout); _ = cmd.Wait(); f.Close(); close(p.done) }()
	if err != nil {
		p.stop()
		return nil, "", fmt.Errorf("node double: %w", err)
	}
	return p, strings.TrimSpace(line), nil
}

func admitted(ctx context.Context, nodeURL string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, nodeURL+"/stats", nil)
	if err != nil {
		return 0, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var s struct{ Admitted int }
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s.Admitted, err
}

// apiClient speaks to the started `custos serve`.
type apiClient struct {
	base, key string
	http      *http.Client
}

func (a *apiClient) do(ctx context.Context, method, path string, body any, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("X-API-Key", a.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return resp.StatusCode, json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

func (a *apiClient) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/readyz", nil)
		if err != nil {
			return err
		}
		resp, err := a.http.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %s: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// queueAll queues one legacy transfer of 1 wei from each of n senders spread
// over keys, with every field given, and returns the ids in order.
func (a *apiClient) queueAll(ctx context.Context, keys []managedKey, n, clients int) ([]string, error) {
	payee := "0x8e2a1ab44092f1cd399665c160e61d44d145a61f"
	ids := make([]string, n)
	err := parallel(n, clients, func(i int) error {
		k := keys[i*len(keys)/n]
		tx, _ := json.Marshal(map[string]any{"to": payee, "value": "1", "nonce": 0, "gasLimit": 21000,
			"gasPrice": "20000000000", "chainId": chainID})
		var out struct{ ID string }
		if _, err := a.do(ctx, http.MethodPost, "/v3/kms", map[string]any{"chain": "ETH",
			"serializedTransaction": string(tx), "hashes": []string{k.SignatureID}}, &out); err != nil {
			return err
		}
		ids[i] = out.ID
		return nil
	})
	return ids, err
}

// waitCompleted returns once every id has its txId; late tells whether some
// had none at the first look.
func (a *apiClient) waitCompleted(ctx context.Context, ids []string, clients int, limit time.Duration) (late bool, _ error) {
	deadline := time.Now().Add(limit)
	left := ids
	for first := true; len(left) > 0; first = false {
		var mu sync.Mutex
		var still []string
		err := parallel(len(left), clients, func(i int) error {
			var tx struct{ TxID string }
			if _, err := a.do(ctx, http.MethodGet, "/v3/kms/"+left[i], nil, &tx); err != nil {
				return err
			}
			if tx.TxID == "" {
				mu.Lock()
				still = append(still, left[i])
				mu.Unlock()
			}
			return nil
		})
		if err != nil {
			return late, err
		}
		left = still
		if len(left) > 0 {
			late = late || first
			if time.Now().After(deadline) {
				return late, fmt.Errorf("%d transactions not completed after %s", len(left), limit)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return late, nil
}

// parallel runs f(0..n-1) on clients goroutines; the first error wins.
func parallel(n, clients int, f func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := f(i); err != nil {
					errs <- err
					next.Store(int64(n)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// procUse is what a live process has used so far.
type procUse struct {
	cpu    time.Duration // user+system
	faults int64         // minor page faults
}

func (u procUse) minus(v procUse) procUse { return procUse{u.cpu - v.cpu, u.faults - v.faults} }

// procStat reads a live process's use from /proc/PID/stat.
func procStat(pid int) procUse {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procUse{}
	}
	// The fields after the command name, which is in parentheses and may hold spaces.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return procUse{}
	}
	minflt, _ := strconv.ParseInt(f[7], 10, 64)
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ on Linux
	return procUse{cpu: time.Duration(utime+stime) * time.Second / ticks, faults: minflt}
}

// peakRSS is a live process's VmHWM in bytes.
func peakRSS(pid int) int64 { return procStatus(pid, "VmHWM:") }

// procStatus is a kB field of a live process's /proc/PID/status, in bytes.
func procStatus(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// sampleAnon records into *peak the largest RssAnon of pid, read every 2 ms
// until stop is called. The kernel keeps no peak of the anonymous part alone
// (VmHWM counts the binary's mapped pages too), so it is sampled; a peak
// shorter than the interval can be missed.
func sampleAnon(pid int, peak *int64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			*peak = max(*peak, procStatus(pid, "RssAnon:"))
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func cpus() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return "?"
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
