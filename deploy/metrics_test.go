package deploy

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/custoskms/custos/internal/api"
	"github.com/custoskms/custos/internal/daemon"
	"github.com/custoskms/custos/internal/pending/sqlite"
	"github.com/custoskms/custos/internal/policy"
	"github.com/custoskms/custos/internal/tracker"
	"github.com/custoskms/custos/internal/webhook"
)

// exported returns the names of every metric `custos serve` and
// `custos daemon` export, read from the descriptors of their registries:
// a scrape of /metrics would leave out the series with no sample yet.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	// The collectors serve and the daemon add to the registries they make
	// for themselves.
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "pending.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	api.New(api.Config{Store: store, Registry: reg})
	// serve's webhook worker and outcome tracker, on the server's registry.
	webhook.New(webhook.Config{Store: store, Registry: reg})
	tracker.New(tracker.Config{Store: store, Registry: reg})

	// With a policy, so that its refusals counter is registered too.
	pol, err := policy.Parse(strings.NewReader(`{"version":1,"rules":[{"name":"all","action":"allow"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	client, err := daemon.NewClient("http://127.0.0.1:1", "unused")
	if err != nil {
		t.Fatal(err)
	}
	d, err := daemon.New(daemon.Config{Chains: []string{"ETH"}, LedgerPath: filepath.Join(t.TempDir(), "ledger.db"),
		Policy: pol, Registry: reg}, client, noKeys{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	descs := make(chan *prometheus.Desc)
	go func() { reg.Describe(descs); close(descs) }()
	fqName := regexp.MustCompile(`fqName: "([^"]+)"`)
	names := map[string]bool{}
	for d := range descs {
		if m := fqName.FindStringSubmatch(d.String()); m != nil {
			names[m[1]] = true
		}
	}
	if !names["custos_http_requests_total"] || !names["custos_daemon_signed_total"] ||
		!names["custos_webhook_deliveries_total"] || !names["custos_tracker_oldest_broadcast_seconds"] {
		t.Fatalf("the registry misses the API's, the daemon's, the webhook worker's or the tracker's metrics: %v", names)
	}
	return names
}

// noKeys is a wallet store without wallets: the daemon is built, never run.
type noKeys struct{}

func (noKeys) List(context.Context) ([]daemon.WalletRef, error) { return nil, nil }
func (noKeys) Wallet(context.Context, string) (daemon.Wallet, error) {
	return daemon.Wallet{}, daemon.ErrUnknownWallet
}

// metricRef finds metric names in PromQL: the names of the families the code
// exports (custos_, process_, go_). Label names and values never start so.
var metricRef = regexp.MustCompile(`\b(?:custos|process|go)_[a-zA-Z0-9_]+`)

// Every metric the alert rules and the dashboard name exists, so that they
// cannot drift from the code. Histogram series (_bucket, _sum, _count)
// count as their family's.
func TestAlertsAndDashboardNameExportedMetrics(t *testing.T) {
	names := exported(t)
	files := []string{filepath.Join("prometheus", "custos-alerts.yml"), filepath.Join("grafana", "custos-dashboard.json")}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		refs := metricRef.FindAllString(string(b), -1)
		if len(refs) == 0 {
			t.Fatalf("%s names no metric", f)
		}
		for _, r := range refs {
			base := r
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if s, ok := strings.CutSuffix(r, suffix); ok && names[s] {
					base = s
				}
			}
			if !names[base] {
				t.Errorf("%s names %s, which the code does not export (it exports %s)", f, r, strings.Join(sorted(names), ", "))
			}
		}
	}
}

func sorted(m map[string]bool) []string {
	var s []string
	for k := range m {
		if strings.HasPrefix(k, "custos_") {
			s = append(s, k)
		}
	}
	sort.Strings(s)
	return s
}
