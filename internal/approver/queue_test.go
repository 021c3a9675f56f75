package approver_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
)

var (
	queueRowID = regexp.MustCompile(`<a href="/tx/([0-9a-f]+)">`)
	olderLink  = regexp.MustCompile(`<a href="([^"]+)" rel="next">Older</a>`)
)

// The queue shows how many requests the filter selects and pages through
// all of them, 50 a page, newest activity first, keeping the filter.
func TestConsoleQueuePages(t *testing.T) {
	c := newConsole(t)
	now := time.Now()
	const n = 120
	for i := range n {
		chain := "ETH"
		if i%4 == 0 {
			chain = "BTC"
		}
		body := fmt.Sprint(`{"n":`, i, `}`)
		req := approval.Request{Version: approval.Version, ID: fmt.Sprintf("65f1c0de%016d", i), Chain: chain, Network: "mainnet",
			SignatureIDs: []string{"w"}, Indexes: []uint32{}, SerializedTransaction: body, Digest: approval.Digest(body), Timestamp: now.Unix()}
		// Ten requests share each instant: the pages must not lose or repeat one.
		if _, err := c.store.Record(t.Context(), req, approver.Need{Rule: "r", Approvals: 1}, nil, now.Add(time.Duration(i/10)*time.Second)); err != nil {
			t.Fatal(err)
		}
	}
	cookie, _ := c.signIn(t, "alice", time.Now())
	walk := func(start string) (ids []string, pages int) {
		seen := map[string]bool{}
		for target := start; target != ""; pages++ {
			r := c.do("GET", target, cookie, "", nil)
			if r.Code != http.StatusOK || pages > 10 {
				t.Fatalf("%s: %d", target, r.Code)
			}
			b := r.Body.String()
			rows := queueRowID.FindAllStringSubmatch(b, -1)
			if len(rows) > 50 {
				t.Fatalf("%s: %d rows on a page", target, len(rows))
			}
			for _, m := range rows {
				if seen[m[1]] {
					t.Fatalf("%s: %s again", target, m[1])
				}
				seen[m[1]] = true
				ids = append(ids, m[1])
			}
			target = ""
			if m := olderLink.FindStringSubmatch(b); m != nil {
				target = html.UnescapeString(m[1])
			}
		}
		return ids, pages
	}
	first := c.do("GET", "/queue", cookie, "", nil).Body.String()
	if !strings.Contains(first, `<p id="queue-count" role="status">120 transactions waiting</p>`) {
		t.Fatalf("queue page without its count:\n%s", first)
	}
	ids, pages := walk("/queue")
	if len(ids) != n || pages != 3 || ids[0] != fmt.Sprintf("65f1c0de%016d", n-1) {
		t.Fatalf("%d requests on %d pages (first %v), want %d on 3, newest first", len(ids), pages, ids[:1], n)
	}
	ids, pages = walk("/queue?chain=btc&status=all")
	if len(ids) != n/4 || pages != 1 {
		t.Fatalf("BTC: %d requests on %d pages, want %d on 1", len(ids), pages, n/4)
	}
	if b := c.do("GET", "/queue?chain=eth", cookie, "", nil).Body.String(); !strings.Contains(b, "90 transactions waiting on ETH") ||
		!strings.Contains(b, `chain=ETH`) {
		t.Fatalf("ETH page's count or links:\n%s", b)
	}
	for _, bad := range []string{"x", "1.", ".5", "1.0", "1.-2"} {
		if r := c.do("GET", "/queue?before="+bad, cookie, "", nil); r.Code != http.StatusBadRequest {
			t.Errorf("cursor %q: %d, want 400", bad, r.Code)
		}
	}
}
