package approver

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"
)

// historyPageSize is how many entries one history page shows.
const historyPageSize = 50

// csvBatch is how many entries the export reads at a time: the export
// streams, so its memory does not grow with the history.
const csvBatch = 1000

func (c *Console) historyPage(w http.ResponseWriter, r *http.Request) {
	before, err := cursor(r)
	if err != nil {
		c.fail(w, r, http.StatusBadRequest, "Unknown history page.")
		return
	}
	es, err := c.svc.cfg.Store.History(r.Context(), HistoryPage{Before: before, Limit: historyPageSize + 1})
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The history cannot be read.")
		return
	}
	// One entry more than shown tells whether an older page exists.
	var older int64
	if len(es) > historyPageSize {
		es = es[:historyPageSize]
		older = es[len(es)-1].Seq
	}
	c.render(w, r, http.StatusOK, "history", "History", map[string]any{"Entries": es, "Older": older, "Paged": before > 0})
}

// cursor reads ?before=SEQ (absent: the newest page).
func cursor(r *http.Request) (int64, error) {
	v := r.URL.Query().Get("before")
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// historyCSV exports the whole history, newest first, as CSV for a
// spreadsheet.
func (c *Console) historyCSV(w http.ResponseWriter, r *http.Request) {
	// Read the first batch before the header goes out, so that a store
	// failure still gets an error page rather than a truncated file.
	es, err := c.svc.cfg.Store.History(r.Context(), HistoryPage{Limit: csvBatch})
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The history cannot be read.")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="custos-approver-history-`+c.svc.cfg.Now().UTC().Format("20060102-150405")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"seq", "time", "kind", "operator", "transaction", "chain", "decision", "outcome", "reason", "remote"})
	for len(es) > 0 {
		for _, e := range es {
			_ = cw.Write(csvRow(e))
		}
		if len(es) < csvBatch {
			break
		}
		if es, err = c.svc.cfg.Store.History(r.Context(), HistoryPage{Before: es[len(es)-1].Seq, Limit: csvBatch}); err != nil {
			// The status is sent: the file ends short, and the log says why.
			c.svc.cfg.Log.Error("history export", "error", err)
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		c.svc.cfg.Log.Warn("history export", "error", err)
	}
}

func csvRow(e HistoryEntry) []string {
	row := []string{strconv.FormatInt(e.Seq, 10), e.At.UTC().Format(time.RFC3339Nano), e.Kind, e.Operator, e.ID, e.Chain,
		string(e.Decision), string(e.Outcome), e.Reason, e.Remote}
	for i, v := range row {
		row[i] = CSVCell(v)
	}
	return row
}

// CSVCell makes a value safe to open in a spreadsheet: a cell starting with
// = + - @ (or a tab or carriage return, which some spreadsheets skip before
// reading a formula) would run as a formula, so it is prefixed with a quote
// and shown as text. The reason and operator names are typed by people; an
// exported reason must not become a formula on a compliance officer's
// machine. Quoting of commas, quotes and newlines is encoding/csv's.
func CSVCell(v string) string {
	if v != "" && (v[0] == '=' || v[0] == '+' || v[0] == '-' || v[0] == '@' || v[0] == '\t' || v[0] == '\r') {
		return "'" + v
	}
	return v
}
