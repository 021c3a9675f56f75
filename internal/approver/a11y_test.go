package approver_test

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	controlTag = regexp.MustCompile(`<(input|select|textarea)\b[^>]*>`)
	attrOf     = func(name string) *regexp.Regexp { return regexp.MustCompile(`\b` + name + `="([^"]*)"`) }
	idAttr     = attrOf("id")
	typeAttr   = attrOf("type")
	buttonTag  = regexp.MustCompile(`(?s)<button\b[^>]*>(.*?)</button>`)
	handler    = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	cardsTable = regexp.MustCompile(`(?s)<table [^>]*class="cards"[^>]*>.*?</table>`)
	cellTag    = regexp.MustCompile(`<td\b[^>]*>`)
)

// Every page of the console is usable without a mouse and on a phone, as
// far as its HTML decides: each form control has a label, each button a
// text, no inline event handler (the only script listens to clicks, which
// the keyboard fires too), a viewport meta, a skip link to the main
// content, and every cell of a table that becomes cards on a phone names
// its column.
func TestConsolePagesAccessible(t *testing.T) {
	c := newConsole(t)
	_ = c.ask.Approve(t.Context(), subject(id(60), "wallet-a", "250000"))
	cookie, _ := c.signIn(t, "alice", time.Now())
	for _, page := range []string{"/queue", "/queue?status=all", "/tx/" + id(60), "/history", "/signin", "/enrol", "/tx/nope"} {
		b := c.do("GET", page, cookie, "", nil).Body.String()
		if !strings.Contains(b, `<meta name="viewport" content="width=device-width, initial-scale=1">`) {
			t.Errorf("%s: no viewport meta", page)
		}
		if !strings.Contains(b, `<a class="skip" href="#main">`) || !strings.Contains(b, `<main id="main">`) {
			t.Errorf("%s: no skip link to the main content", page)
		}
		if m := handler.FindString(b); m != "" {
			t.Errorf("%s: inline event handler %s", page, m)
		}
		for _, tag := range controlTag.FindAllString(b, -1) {
			if ty := typeAttr.FindStringSubmatch(tag); ty != nil && ty[1] == "hidden" {
				continue
			}
			id := idAttr.FindStringSubmatch(tag)
			if strings.Contains(tag, "aria-label=") || (id != nil && strings.Contains(b, `<label for="`+id[1]+`"`)) {
				continue
			}
			t.Errorf("%s: control without a label: %s", page, tag)
		}
		for _, m := range buttonTag.FindAllStringSubmatch(b, -1) {
			if strings.TrimSpace(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(m[1], "")) == "" && !strings.Contains(m[0], "aria-label=") {
				t.Errorf("%s: button without a name: %s", page, m[0])
			}
		}
		for _, table := range cardsTable.FindAllString(b, -1) {
			for _, td := range cellTag.FindAllString(table, -1) {
				if !strings.Contains(td, "data-label=") && !strings.Contains(td, "colspan=") {
					t.Errorf("%s: a cell that does not name its column on a phone: %s", page, td)
				}
			}
		}
	}
}
