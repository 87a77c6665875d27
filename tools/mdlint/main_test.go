package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckTables(t *testing.T) {
	for _, tc := range []struct {
		name string
		md   string
		want []string // "line: message prefix", in order; none for a good file
	}{
		{name: "good", md: "intro\n\n| a | b |\n|---|:---:|\n| 1 | 2 |\n| 3 | 4 |\n"},
		{name: "no outer trailing pipe", md: "| a | b\n|---|---\n| 1 | 2\n"},
		{name: "escaped pipe is text", md: "| a | b |\n|---|---|\n| `x` \\| y | 2 |\n"},
		{name: "pipe in code span is text", md: "| a | b |\n|---|---|\n| `a|b` | ``c|`d`` |\n"},
		{name: "unclosed backtick is literal", md: "| a | b |\n|---|---|\n| ` | 2 |\n"},
		{name: "indented up to three spaces", md: "   | a |\n   |---|\n   | 1 |\n"},
		{name: "inside a fence is code", md: "```\n| not a table\n\n| x |\n```\n~~~~\n| y\n~~~~\n"},
		{name: "fence with info string does not close", md: "```sh\n| a\n```sh\n| b\n```\n"},
		{name: "escaped final pipe is a cell's text", md: "| a | b |\n|---|---|\n| 1 | 2 \\|\n"},
		{
			name: "split by a blank line",
			md:   "| action | result |\n|---|---|\n| verify | ok |\n\n| check | ok |\n| enable | ok |\n",
			want: []string{"5: orphan table rows"},
		},
		{
			name: "row with a cell too many",
			md:   "| a | b |\n|---|---|\n| 1 | 2 | 3 |\n| 4 | 5 |\n",
			want: []string{"3: row has 3 cells, header has 2"},
		},
		{
			name: "row with a cell too few",
			md:   "x\n\n| a | b |\n|---|---|\n| 1 |\n",
			want: []string{"5: row has 1 cells, header has 2"},
		},
		{
			name: "unescaped pipe outside code splits a cell",
			md:   "| a | b |\n|---|---|\n| x | y | z |\n",
			want: []string{"3: row has 3 cells"},
		},
		{
			name: "separator narrower than header",
			md:   "| a | b | c |\n|---|---|\n| 1 | 2 | 3 |\n",
			want: []string{"2: separator row has 2 cells, header has 3"},
		},
		{
			name: "header without separator",
			md:   "| a | b |\n| 1 | 2 |\n",
			want: []string{"1: orphan table rows"},
		},
		{
			name: "a lone row",
			md:   "text\n\n| just one |\n",
			want: []string{"3: orphan table rows"},
		},
		{
			name: "a second separator",
			md:   "| a |\n|---|\n| 1 |\n|---|\n",
			want: []string{"4: a second separator row"},
		},
		{
			name: "CRLF lines",
			md:   "| a | b |\r\n|---|---|\r\n| 1 |\r\n",
			want: []string{"3: row has 1 cells"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckTables("f.md", []byte(tc.md))
			if len(got) != len(tc.want) {
				t.Fatalf("got %d problems %v, want %v", len(got), got, tc.want)
			}
			for i, p := range got {
				if s := strings.TrimPrefix(p.String(), "f.md:"); !strings.HasPrefix(s, tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, s, tc.want[i])
				}
			}
		})
	}
}

func TestCells(t *testing.T) {
	for row, want := range map[string][]string{
		"| a | b |":           {"a", "b"},
		"|a|b":                {"a", "b"},
		"| | b |":             {"", "b"},
		"| `x|y` | z |":       {"`x|y`", "z"},
		`| a \| b | c |`:      {`a \| b`, "c"},
		"| ``a ` b`` | c |":   {"``a ` b``", "c"},
		"| **x** | `|` |":     {"**x**", "`|`"},
		"|---|:---:|---:|":    {"---", ":---:", "---:"},
		"| trailing space | ": {"trailing space"},
	} {
		got := cells(row)
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Errorf("cells(%q) = %q, want %q", row, got, want)
		}
	}
}

func TestCheckCites(t *testing.T) {
	// Split, so that this file passes the check it tests.
	note := "PROTO" + "COL.md"
	gone := "docs/" + "gone.md"
	existing := map[string]bool{filepath.FromSlash("docs/relation.md"): true}
	exists := func(p string) bool { return existing[p] }
	src := strings.Join([]string{
		"// the keys (docs/relation.md)",
		"// as " + note + " §3 says",
		"// see " + gone + " and docs/relation.md",
		"// docs/<file>.md is a pattern, not a file",
	}, "\n")
	got := CheckCites("x.go", []byte(src), exists)
	want := []string{
		"x.go:2: cites " + note,
		"x.go:3: cites " + gone + ", which does not exist",
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !strings.HasPrefix(got[i].String(), want[i]) {
			t.Errorf("got %q, want prefix %q", got[i], want[i])
		}
	}
	if p := CheckCites("bin", []byte("\x00"+note), exists); len(p) != 0 {
		t.Errorf("a binary file is not read: %v", p)
	}
}

// TestRun: the command's exit codes, which make lint relies on.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.md")
	bad := filepath.Join(dir, "bad.md")
	if err := os.WriteFile(good, []byte("| a |\n|---|\n| 1 |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("| a |\n|---|\n\n| 1 |\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{args: []string{"tables", good}, code: 0},
		{args: []string{"tables", good, bad}, code: 1, out: bad + ":4: orphan"},
		{args: []string{"tables", filepath.Join(dir, "missing.md")}, code: 1},
		{args: []string{"spelling", good}, code: 2},
		{args: nil, code: 2},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(tc.args, &stdout, &stderr); code != tc.code {
			t.Errorf("run(%q) = %d, want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
		}
		if !strings.HasPrefix(stdout.String(), tc.out) {
			t.Errorf("run(%q) printed %q, want prefix %q", tc.args, stdout.String(), tc.out)
		}
	}
}

// TestRepositoryTables runs the check on the project's own Markdown, so
// `go test ./cmd/...` catches a broken table as make lint does.
func TestRepositoryTables(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, filepath.Join("..", "..", "README.md"))
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range CheckTables(f, src) {
			t.Error(p)
		}
	}
}

// TestRepositoryCites runs the citation check on the whole tree, as make
// lint does: no file cites notes outside the repository or a missing
// docs/ file.
func TestRepositoryCites(t *testing.T) {
	root := filepath.Join("..", "..")
	names, err := walk(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 10 {
		t.Fatalf("walked only %d files under %s", len(names), root)
	}
	// Citations are relative to the repository root.
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(root, p)); return err == nil }
	for _, name := range names {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range CheckCites(name, src, exists) {
			t.Error(p)
		}
	}
}
