package secret

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"
)

// Prompter reads secrets the way every Custos command does: from the terminal
// without echo, or, when stdin is not a terminal, one line at a time from stdin
// (so scripts can pipe the password and then a mnemonic, one per line).
type Prompter struct {
	in      io.Reader
	prompts io.Writer
	br      *bufio.Reader
	fd      int
	term    bool
}

// NewPrompter reads from in and writes prompts (terminal only) to prompts.
func NewPrompter(in io.Reader, prompts io.Writer) *Prompter {
	p := &Prompter{in: in, prompts: prompts}
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.term, p.fd = true, int(f.Fd())
	}
	return p
}

// Terminal reports whether secrets are typed at a terminal.
func (p *Prompter) Terminal() bool { return p.term }

// Read returns one secret. what names it in prompts and errors ("password",
// "mnemonic"); the value itself never appears in an error.
func (p *Prompter) Read(what string) ([]byte, error) {
	var b []byte
	if p.term {
		fmt.Fprintf(p.prompts, "Enter %s: ", what)
		var err error
		b, err = term.ReadPassword(p.fd)
		fmt.Fprintln(p.prompts)
		if err != nil {
			return nil, fmt.Errorf("read %s from terminal: %w", what, err)
		}
	} else {
		if p.br == nil {
			p.br = bufio.NewReader(p.in)
		}
		line, err := p.br.ReadBytes('\n')
		if err != nil && !(errors.Is(err, io.EOF) && len(line) > 0) {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%w: expected the %s as a line on stdin", ErrNoInput, what)
			}
			return nil, fmt.Errorf("read %s from stdin: %w", what, err)
		}
		b = bytes.TrimRight(line, "\r\n")
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrEmpty, what)
	}
	return b, nil
}

// ReadNew asks for a new secret; at a terminal it asks twice and compares.
func (p *Prompter) ReadNew(what string) ([]byte, error) {
	b, err := p.Read(what)
	if err != nil || !p.term {
		return b, err
	}
	again, err := p.Read(what + " again")
	if err != nil {
		return nil, err
	}
	defer Zero(again)
	if !bytes.Equal(b, again) {
		Zero(b)
		return nil, fmt.Errorf("the two %ss differ", what)
	}
	return b, nil
}

// Zero overwrites a secret once it is no longer needed.
func Zero(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
