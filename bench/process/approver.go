package main

// The -approver mode: the daemon asks `custos approver serve` (protocol v2)
// before it signs each transaction, as an operator with four eyes runs it.
// The approver is one more process on the same machine, with its own SQLite
// file and audit log in its data dir and a rules file that approves every
// transaction at once (an auto-approval: recorded, audited, settled,
// answered), so that what is measured is the approver's cost per decision,
// not people's.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// approveAll is the rules file: no condition, no approval needed.
const approveAll = `{"rules": [{"name": "bench", "approvals": 0}]}`

// approverRun is a started `custos approver serve`; nil when -approver is
// off, and every method is then a no-op.
type approverRun struct {
	proc    *proc
	url     string // the daemon's --external-url
	secret  string // CUSTOS_APPROVAL_SECRET, the daemon's and the approver's
	dataDir string
	use0    procUse
	// anon is the largest RssAnon sampled in the window (the approver's own
	// memory: its peak RSS also counts the binary's pages it touched, more
	// of them when the binary is fresh in the page cache).
	anon     int64
	stopAnon func()
}

// approverFigures are the approver's share of a run.
type approverFigures struct {
	use       procUse
	rss, anon int64
	decisions int // approver.decision entries in its audit log
}

// startApprover starts the approver for a run in dir when o asks for it.
func startApprover(ctx context.Context, o options, custos, dir, profileDir string) (*approverRun, error) {
	if !o.approver {
		return nil, nil
	}
	rules := filepath.Join(dir, "approver-rules.json")
	if err := os.WriteFile(rules, []byte(approveAll), 0o600); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	a := &approverRun{url: "http://" + addr + "/approval", secret: randomHex(32), dataDir: filepath.Join(dir, "approver")}
	env := append(os.Environ(), "CUSTOS_APPROVAL_SECRET="+a.secret, "CUSTOS_APPROVER_DATA_DIR="+a.dataDir)
	args := []string{"approver", "serve", "--listen", addr, "--rules", rules}
	if profileDir != "" {
		args = append(args, "--cpuprofile", filepath.Join(profileDir, "approver.cpu.pprof"))
	}
	if a.proc, err = startLogged(ctx, custos, env, filepath.Join(dir, "approver.log"), args...); err != nil {
		return nil, err
	}
	if err := waitListening(ctx, addr, a.proc, 30*time.Second); err != nil {
		a.proc.stop()
		return nil, fmt.Errorf("approver: %w (see approver.log)", err)
	}
	return a, nil
}

// waitListening waits until addr accepts connections or p exits.
func waitListening(ctx context.Context, addr string, p *proc, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("exited: %v", p.cmd.ProcessState)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s after %s: %w", addr, limit, err)
		}
	}
}

func (a *approverRun) stop() {
	if a != nil {
		a.endSampling()
		a.proc.stop()
	}
}

func (a *approverRun) endSampling() {
	if a.stopAnon != nil {
		a.stopAnon()
		a.stopAnon = nil
	}
}

// daemonArgs and daemonEnv point the daemon at the approver.
func (a *approverRun) daemonArgs() []string {
	if a == nil {
		return nil
	}
	return []string{"--external-url", a.url}
}

func (a *approverRun) daemonEnv() []string {
	if a == nil {
		return nil
	}
	return []string{"CUSTOS_APPROVAL_SECRET=" + a.secret}
}

// mark starts the CPU window, with the daemon's exec.
func (a *approverRun) mark() {
	if a != nil {
		a.use0 = procStat(a.proc.cmd.Process.Pid)
		a.stopAnon = sampleAnon(a.proc.cmd.Process.Pid, &a.anon)
	}
}

// figures ends the CPU window and checks that every transaction was
// decided once. The approver is idle once the daemon has exited, so its
// window may close a little after the others'.
func (a *approverRun) figures(pending int) (*approverFigures, error) {
	if a == nil {
		return nil, nil
	}
	a.endSampling()
	f := &approverFigures{use: procStat(a.proc.cmd.Process.Pid).minus(a.use0), rss: peakRSS(a.proc.cmd.Process.Pid), anon: a.anon}
	log, err := os.ReadFile(filepath.Join(a.dataDir, "audit.log"))
	if err != nil {
		return nil, fmt.Errorf("approver audit log: %w", err)
	}
	f.decisions = bytes.Count(log, []byte(`"approver.decision"`))
	if f.decisions != pending {
		return nil, fmt.Errorf("approver audited %d decisions, want one for each of the %d transactions", f.decisions, pending)
	}
	return f, nil
}

// print adds the approver's line under a run's.
func (f *approverFigures) print() {
	if f == nil {
		return
	}
	fmt.Printf("  approver: %d decisions; CPU ms/decision %.3f (%.2f s); page faults %d; peak RSS %.1f MB (anonymous ≈ %.1f MB)\n",
		f.decisions, f.use.cpu.Seconds()*1e3/float64(f.decisions), f.use.cpu.Seconds(), f.use.faults, mb(f.rss), mb(f.anon))
}
