// Command mdlint checks what the project says about itself, for `make lint`.
// It is a development tool: nothing in the charm imports it.
//
//	mdlint tables FILE...  every Markdown table is well formed
//	mdlint cites [FILE...] no file cites the notes the project was started
//	                       from, and every docs/*.md a file names exists;
//	                       without files, every file of the tree but .git
//	                       and build/
//
// Tables are checked because GitHub renders a broken one as raw pipes
// without complaint: a table split by a blank line, a row with a cell too
// many, a header without its separator row.
package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) < 1 {
		fmt.Fprintln(stderr, "usage: mdlint tables FILE... | mdlint cites [FILE...]")
		return 2
	}
	var check func(name string, src []byte) []Problem
	switch args[0] {
	case "tables":
		check = CheckTables
	case "cites":
		check = func(name string, src []byte) []Problem { return CheckCites(name, src, exists) }
	default:
		fmt.Fprintf(stderr, "mdlint: unknown check %q (want tables or cites)\n", args[0])
		return 2
	}
	names := args[1:]
	if len(names) == 0 && args[0] == "cites" {
		var err error
		if names, err = walk("."); err != nil {
			fmt.Fprintln(stderr, "mdlint:", err)
			return 1
		}
	}
	bad := 0
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(stderr, "mdlint:", err)
			return 1
		}
		for _, p := range check(name, src) {
			fmt.Fprintln(stdout, p)
			bad++
		}
	}
	if bad > 0 {
		fmt.Fprintf(stderr, "mdlint %s: %d problem(s)\n", args[0], bad)
		return 1
	}
	return 0
}

// walk lists the files under root that a reader of the project sees:
// everything but Git's own store and the build outputs.
func walk(root string) ([]string, error) {
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && (d.Name() == ".git" || path == filepath.Join(root, "build")) {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			names = append(names, path)
		}
		return nil
	})
	return names, err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Problem is one finding, printed as file:line: message so editors jump to it.
type Problem struct {
	File string
	Line int
	Msg  string
}

func (p Problem) String() string { return fmt.Sprintf("%s:%d: %s", p.File, p.Line, p.Msg) }

// CheckTables finds every table in a Markdown file (a run of lines whose
// first non-blank character is a pipe, outside fenced code) and checks
// that it has a header row, a separator row with as many cells, and rows
// that all have that many cells. A run that does not start with a header
// and a separator is an orphan: usually the tail of a table that a blank
// line cut off, which GitHub shows as raw text.
func CheckTables(name string, src []byte) []Problem {
	var probs []Problem
	lines := strings.Split(strings.ReplaceAll(string(src), "\r\n", "\n"), "\n")
	fence := ""
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if f := fenceOf(line); f != "" {
			switch {
			case fence == "":
				fence = f
			case strings.HasPrefix(f, fence[:1]) && len(f) >= len(fence) && strings.TrimSpace(line) == f:
				fence = ""
			}
			continue
		}
		if fence != "" || !isRow(line) {
			continue
		}
		start := i
		for i < len(lines) && isRow(lines[i]) {
			i++
		}
		probs = append(probs, checkTable(name, start, lines[start:i])...)
	}
	return probs
}

// checkTable checks one run of rows; first is its 0-based line index.
func checkTable(name string, first int, rows []string) []Problem {
	at := func(i int, format string, a ...any) Problem {
		return Problem{File: name, Line: first + i + 1, Msg: fmt.Sprintf(format, a...)}
	}
	if len(rows) < 2 || !isSeparator(cells(rows[1])) {
		what := "orphan table rows: no separator row (|---|) under the first row"
		if first > 0 {
			what += "; a blank line may have split a table"
		}
		return []Problem{at(0, "%s", what)}
	}
	header := cells(rows[0])
	var probs []Problem
	if n := len(cells(rows[1])); n != len(header) {
		probs = append(probs, at(1, "separator row has %d cells, header has %d", n, len(header)))
	}
	for j, r := range rows[2:] {
		c := cells(r)
		if isSeparator(c) {
			probs = append(probs, at(j+2, "a second separator row"))
			continue
		}
		if len(c) != len(header) {
			probs = append(probs, at(j+2, "row has %d cells, header has %d", len(c), len(header)))
		}
	}
	return probs
}

// isRow: a table line starts with a pipe, indented at most three spaces
// (four would make it an indented code block).
func isRow(line string) bool {
	t := strings.TrimLeft(line, " ")
	return len(line)-len(t) <= 3 && strings.HasPrefix(t, "|")
}

var separatorCell = regexp.MustCompile(`^:?-+:?$`)

func isSeparator(cs []string) bool {
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if !separatorCell.MatchString(c) {
			return false
		}
	}
	return true
}

// cells splits a row at its unescaped pipes outside code spans, without
// the outer pipes, each cell trimmed. `\|` and a pipe between backticks
// are the cell's text, as the project's tables write them.
func cells(row string) []string {
	s := strings.TrimSpace(row)
	var out []string
	var cur strings.Builder
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			cur.WriteString(s[i : i+2])
			i += 2
		case c == '`':
			n := runOf(s[i:], '`')
			if end := closingTicks(s[i+n:], n); end >= 0 {
				cur.WriteString(s[i : i+n+end+n])
				i += n + end + n
			} else {
				// No closing run: the backticks are literal text.
				cur.WriteString(s[i : i+n])
				i += n
			}
		case c == '|':
			out = append(out, strings.TrimSpace(cur.String()))
			cur.Reset()
			i++
		default:
			cur.WriteByte(c)
			i++
		}
	}
	out = append(out, strings.TrimSpace(cur.String()))
	// The leading pipe opens the first cell; a trailing one closes the
	// last, leaving an empty field after it that is no cell.
	out = out[1:]
	if len(out) > 0 && out[len(out)-1] == "" && strings.HasSuffix(s, "|") && !strings.HasSuffix(s, `\|`) {
		out = out[:len(out)-1]
	}
	return out
}

// runOf counts the leading bytes of s equal to c.
func runOf(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// closingTicks finds, in s, a run of exactly n backticks: the end of a
// code span opened by n of them. It returns the offset of that run, or -1.
func closingTicks(s string, n int) int {
	for i := 0; i < len(s); {
		if s[i] != '`' {
			i++
			continue
		}
		m := runOf(s[i:], '`')
		if m == n {
			return i
		}
		i += m
	}
	return -1
}

// fenceOf returns the fence (``` or ~~~, three or more) that opens or
// closes a fenced code block on this line, or "".
func fenceOf(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 || len(t) < 3 {
		return ""
	}
	if c := t[0]; c == '`' || c == '~' {
		if n := runOf(t, c); n >= 3 {
			return t[:n]
		}
	}
	return ""
}

// notes are the files the project was started from, which live outside
// the repository: a citation of them points at nothing a reader has. The
// names are split so that this file does not cite them itself.
var notes = []string{"PROTO" + "COL.md", "DES" + "IGN.md"}

var docsRef = regexp.MustCompile(`\bdocs/[A-Za-z0-9_.-]+\.md\b`)

// CheckCites reports every mention of the outside notes, and every
// docs/<name>.md (relative to the repository root, where make runs) for
// which exists is false.
func CheckCites(name string, src []byte, exists func(string) bool) []Problem {
	if bytes.IndexByte(src, 0) >= 0 {
		return nil // binary: says nothing to a reader
	}
	var probs []Problem
	for i, line := range strings.Split(string(src), "\n") {
		for _, n := range notes {
			if strings.Contains(line, n) {
				probs = append(probs, Problem{File: name, Line: i + 1, Msg: fmt.Sprintf("cites %s, which is not in the repository: cite the docs/ file that holds the fact", n)})
			}
		}
		for _, ref := range docsRef.FindAllString(line, -1) {
			if !exists(filepath.FromSlash(ref)) {
				probs = append(probs, Problem{File: name, Line: i + 1, Msg: fmt.Sprintf("cites %s, which does not exist", ref)})
			}
		}
	}
	return probs
}
