package approver_test

import (
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/custoskms/custos/approval"
	"github.com/custoskms/custos/internal/approver"
)

// The history lists decisions (an operator's and a rule's) and sign-ins,
// newest first, and pages; the CSV export holds the same entries, quoted as
// CSV and safe from formula injection, read back here with encoding/csv.
func TestHistoryPageAndCSV(t *testing.T) {
	c := newConsole(t)
	// A rule's decision: an ETH transfer below 1000 is auto-approved.
	if err := c.ask.Approve(t.Context(), subject(id(20), "wallet-a", "500")); err != nil {
		t.Fatal(err)
	}
	_ = c.ask.Approve(t.Context(), subject(id(21), "wallet-a", "5000"))
	cookie, csrf := c.signIn(t, "alice", time.Now())
	// A reason a spreadsheet would run, with a comma, a quote and a newline.
	evil := "=HYPERLINK(\"https://evil.test\",\"x\"), see\nnotes"
	if r := c.do("POST", "/tx/"+id(21)+"/decide", cookie, origin, decideForm(csrf, "refuse", evil)); r.Code != http.StatusSeeOther {
		t.Fatalf("rejection: %d %s", r.Code, r.Body)
	}

	if r := c.do("GET", "/history", "", "", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("history signed out: %d", r.Code)
	}
	if r := c.do("GET", "/history.csv", "", "", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("CSV signed out: %d", r.Code)
	}
	p := c.do("GET", "/history", cookie, "", nil)
	body := p.Body.String()
	iRefusal, iSignin, iAuto := strings.Index(body, id(21)), strings.Index(body, "Sign-in"), strings.Index(body, id(20))
	if p.Code != 200 || iRefusal < 0 || iSignin < 0 || iAuto < 0 || !(iRefusal < iSignin && iSignin < iAuto) {
		t.Fatalf("history page %d, want refusal, sign-in, auto-approval newest first:\n%s", p.Code, body)
	}

	r := c.do("GET", "/history.csv", cookie, "", nil)
	if r.Code != 200 || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(r.Header().Get("Content-Disposition"), "attachment;") {
		t.Fatalf("CSV %d %v", r.Code, r.Header())
	}
	rows, err := csv.NewReader(strings.NewReader(r.Body.String())).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, r.Body)
	}
	if len(rows) != 4 || rows[0][0] != "seq" || len(rows[0]) != 10 {
		t.Fatalf("CSV rows %q", rows)
	}
	refusal, signin, auto := rows[1], rows[2], rows[3]
	if refusal[2] != "decision" || refusal[3] != "alice" || refusal[4] != id(21) || refusal[5] != "ETH" ||
		refusal[6] != string(approval.Refuse) || refusal[7] != string(approver.StatusRefused) || refusal[8] != "'"+evil {
		t.Errorf("refusal row %q", refusal)
	}
	if signin[2] != "signin" || signin[3] != "alice" || signin[4] != "" {
		t.Errorf("sign-in row %q", signin)
	}
	if auto[2] != "decision" || auto[3] != "" || auto[4] != id(20) || auto[6] != "approve" || auto[7] != "approved" || auto[8] != "rule small" {
		t.Errorf("auto-approval row %q", auto)
	}
	if _, err := time.Parse(time.RFC3339Nano, refusal[1]); err != nil {
		t.Errorf("time %q: %v", refusal[1], err)
	}
}

func TestCSVCellDefusesFormulas(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+1": "'+1", "-1": "'-1", "@SUM(A1)": "'@SUM(A1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
		"alice": "alice", "": "", "1-2": "1-2", "a=b": "a=b",
	} {
		if got := approver.CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// The history pages by its cursor: 50 entries a page, an "Older" link to the
// rest, nothing lost or repeated between pages.
func TestHistoryPaging(t *testing.T) {
	c := newConsole(t)
	for i := range 60 {
		if err := c.store.CreateSession(t.Context(), approver.Session{Hash: []byte{byte(i)}, Operator: "bob", CSRF: "x",
			CreatedAt: time.Now(), LastSeen: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	cookie, _ := c.signIn(t, "alice", time.Now())
	first := c.do("GET", "/history", cookie, "", nil).Body.String()
	if n := strings.Count(first, "Sign-in"); n != 50 {
		t.Fatalf("first page has %d entries, want 50", n)
	}
	i := strings.Index(first, `/history?before=`)
	if i < 0 {
		t.Fatalf("no link to older entries:\n%s", first)
	}
	link := first[i : i+strings.IndexByte(first[i:], '"')]
	second := c.do("GET", link, cookie, "", nil)
	if second.Code != 200 || strings.Count(second.Body.String(), "Sign-in") != 11 || strings.Contains(second.Body.String(), "before=") {
		t.Fatalf("second page %d (%d entries):\n%s", second.Code, strings.Count(second.Body.String(), "Sign-in"), second.Body)
	}
	if r := c.do("GET", "/history?before=x", cookie, "", nil); r.Code != http.StatusBadRequest {
		t.Fatalf("bad cursor: %d", r.Code)
	}
}
