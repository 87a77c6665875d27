package redact

import (
	"encoding/base64"
	"encoding/xml"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCleanRemovesEveryForm(t *testing.T) {
	const pw = `S3cr<&>"'/ é😀 x`
	var xmlBuf strings.Builder
	if err := xml.EscapeText(&xmlBuf, []byte(pw)); err != nil {
		t.Fatal(err)
	}
	texts := map[string]string{
		"raw":         "fault: " + pw + " end",
		"xml":         "<password>" + xmlBuf.String() + "</password>",
		"query":       "https://x/?p=" + url.QueryEscape(pw),
		"userinfo":    (&url.URL{Scheme: "https", User: url.UserPassword("admin", pw), Host: "vc"}).String(),
		"base64":      "blob " + base64.StdEncoding.EncodeToString([]byte(pw)),
		"lowerhex":    regexp.MustCompile(`%[0-9A-F]{2}`).ReplaceAllStringFunc(url.PathEscape(pw), strings.ToLower),
		"pythonjson":  `{"password": "S3cr<&>\"'/ \u00e9\ud83d\ude00 x"}`,
		"goquoted":    strings.Trim(`"`+strings.ReplaceAll(pw, `"`, `\"`)+`"`, `"`),
		"htmlescaped": "S3cr&lt;&amp;&gt;&#34;&#39;/ é😀 x",
	}
	var s Secrets
	s.Add(pw)
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			got := s.Clean(text)
			if strings.Contains(got, "S3cr") {
				t.Fatalf("%s: secret left in %q", name, got)
			}
			if !strings.Contains(got, Mask) {
				t.Fatalf("%s: nothing masked in %q", name, got)
			}
		})
	}
}

func TestLongestFormFirst(t *testing.T) {
	var s Secrets
	s.Add("abc", "abcdef")
	if got := s.Clean("xabcdefx"); got != "x"+Mask+"x" {
		t.Fatalf("got %q", got)
	}
}

func TestNilAndEmpty(t *testing.T) {
	var s *Secrets
	if s.Clean("a") != "a" || s.Leaks("a") {
		t.Fatal("nil Secrets must change nothing")
	}
	var z Secrets
	z.Add("")
	if z.Clean("abc") != "abc" {
		t.Fatal("an empty secret must match nothing")
	}
}

func TestCut(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2 bytes each
	got := Cut(long, 101)
	if len(got) > 101 || !utf8.ValidString(got) || !strings.HasSuffix(got, CutMark) {
		t.Fatalf("Cut: %d bytes, valid %v: %q", len(got), utf8.ValidString(got), got)
	}
	if Cut("short", 100) != "short" {
		t.Fatal("short text must be kept")
	}
	if got := Cut("a\xffb", 100); got != "a\uFFFDb" {
		t.Fatalf("invalid UTF-8 kept: %q", got)
	}
}

func TestTextRedactsBeforeCutting(t *testing.T) {
	var s Secrets
	s.Add("S3cretPassword")
	// A cut inside the secret would leave a prefix of it behind.
	got := s.Text(strings.Repeat("x", 40)+"S3cretPassword"+strings.Repeat("y", 100), 50)
	if strings.Contains(got, "S3cret") {
		t.Fatalf("prefix of the secret left: %q", got)
	}
}

func TestServer(t *testing.T) {
	var s Secrets
	s.Add("pw")
	got := s.Server("a\n\tb\x00  pw "+strings.Repeat("z", 1<<20), 80)
	if strings.Contains(got, "pw") || strings.ContainsAny(got, "\n\t\x00") || len(got) > 80 {
		t.Fatalf("got %q", got)
	}
	if !strings.HasPrefix(got, "a b "+Mask) {
		t.Fatalf("got %q", got)
	}
}
