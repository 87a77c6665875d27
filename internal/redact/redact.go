// Package redact is the charm's one way out for text: everything it sends to
// Juju (status, log, action results and failures, unit state), writes to
// stderr or returns as an error passes Secrets.Text, which removes every form
// of every secret the event knows and bounds the length (docs/security.md).
//
// A secret reaches text in more shapes than its raw bytes: a SOAP fault that
// quotes the refused request holds it XML-escaped, a JSON echo JSON-escaped,
// a URL percent-escaped, the `credentials` option base64-encoded. Forms lists
// the shapes removed.
package redact

import (
	"encoding/base64"
	"encoding/json"
	"html"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Mask replaces a secret in text.
const Mask = "[redacted]"

// CutMark ends text that was cut short.
const CutMark = "…[cut]"

// Secrets is the set of secrets one event knows. The zero value and nil are
// ready to use (nil removes nothing but still bounds). Safe for concurrent use.
type Secrets struct {
	mu    sync.Mutex
	forms map[string]bool
	r     *strings.Replacer
}

// Add registers a secret in every form of Forms. Empty strings are ignored.
func (s *Secrets) Add(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, secret := range secrets {
		for _, f := range Forms(secret) {
			if s.forms == nil {
				s.forms = map[string]bool{}
			}
			if !s.forms[f] {
				s.forms[f] = true
				s.r = nil
			}
		}
	}
}

// Clean returns text with every known form of every secret replaced by Mask.
func (s *Secrets) Clean(text string) string {
	if s == nil {
		return text
	}
	s.mu.Lock()
	if s.r == nil && len(s.forms) > 0 {
		forms := make([]string, 0, len(s.forms))
		for f := range s.forms {
			forms = append(forms, f)
		}
		// strings.Replacer tries its pairs in order at each position: the
		// longest form first, so a secret that contains another one is
		// removed whole.
		slices.SortFunc(forms, func(a, b string) int {
			if len(a) != len(b) {
				return len(b) - len(a)
			}
			return strings.Compare(a, b)
		})
		pairs := make([]string, 0, 2*len(forms))
		for _, f := range forms {
			pairs = append(pairs, f, Mask)
		}
		s.r = strings.NewReplacer(pairs...)
	}
	r := s.r
	s.mu.Unlock()
	if r == nil {
		return text
	}
	return r.Replace(text)
}

// Leaks reports whether text holds any known form of a secret.
func (s *Secrets) Leaks(text string) bool {
	if s == nil {
		return false
	}
	return s.Clean(text) != text
}

// Text is Clean then Cut: the one step for anything that leaves the charm.
// Redaction comes first, so a cut can never leave half a secret behind.
func (s *Secrets) Text(text string, max int) string {
	return Cut(s.Clean(text), max)
}

// Cut bounds text to max bytes, cutting on a rune boundary and ending it
// with CutMark when anything was dropped. Invalid UTF-8 is replaced first,
// so what comes out is always valid UTF-8.
func Cut(text string, max int) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	if len(text) <= max {
		return text
	}
	keep := max - len(CutMark)
	if keep < 0 {
		keep = 0
	}
	for keep > 0 && !utf8.RuneStart(text[keep]) {
		keep--
	}
	return text[:keep] + CutMark
}

// Server is text a server sent, made fit to quote: control characters and
// runs of white space become one space, then it is redacted and cut to max.
func (s *Secrets) Server(text string, max int) string {
	// Bound the work first: a server may send megabytes.
	if len(text) > 4*max+1024 {
		text = text[:4*max+1024]
	}
	text = strings.Join(strings.Fields(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(text, "\uFFFD"))), " ")
	return s.Text(text, max)
}

// Forms lists the shapes in which secret can appear in text: raw; JSON- and
// Go-escaped (as Go and as Python's ensure_ascii write it); XML- and
// HTML-escaped; percent-escaped as a query value, a path segment and URL
// user info (upper- and lower-case hex); and base64 in the standard and URL
// alphabets, padded or not.
func Forms(secret string) []string {
	if secret == "" {
		return nil
	}
	var out []string
	add := func(f string) {
		if f != "" && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	add(secret)
	if b, err := json.Marshal(secret); err == nil {
		add(string(b[1 : len(b)-1]))
	}
	add(jsonNoHTML(secret))
	add(asciiJSON(secret))
	q := strconv.Quote(secret)
	add(q[1 : len(q)-1])
	add(html.EscapeString(secret))
	add(xmlEscape(secret, "&quot;", "&apos;"))
	add(xmlEscape(secret, "&#34;", "&#39;"))
	user := strings.TrimPrefix(url.UserPassword("u", secret).String(), "u:")
	for _, p := range []string{url.QueryEscape(secret), url.PathEscape(secret), user, strings.ReplaceAll(url.QueryEscape(secret), "+", "%20")} {
		add(p)
		add(lowerHexEscapes(p))
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		add(enc.EncodeToString([]byte(secret)))
	}
	return out
}

// jsonNoHTML is JSON escaping without the <, >, & escapes Go adds by default.
func jsonNoHTML(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return ""
	}
	out := strings.TrimSuffix(b.String(), "\n")
	return out[1 : len(out)-1]
}

// asciiJSON is the escaping of Python's json.dumps: every non-ASCII rune as
// \uXXXX (surrogate pairs above U+FFFF).
func asciiJSON(s string) string {
	inner := jsonNoHTML(s)
	var b strings.Builder
	for _, r := range inner {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			b.WriteString(`\u` + hex4(0xd800+(r>>10)) + `\u` + hex4(0xdc00+(r&0x3ff)))
		default:
			b.WriteString(`\u` + hex4(r))
		}
	}
	return b.String()
}

func hex4(r rune) string {
	h := strconv.FormatInt(int64(r), 16)
	return strings.Repeat("0", 4-len(h)) + h
}

func xmlEscape(s, quot, apos string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, quot, "'", apos,
		"\t", "&#x9;", "\n", "&#xA;", "\r", "&#xD;").Replace(s)
}

// lowerHexEscapes rewrites %2F as %2f: a server may echo either.
func lowerHexEscapes(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1] = lowerHex(b[i+1])
			b[i+2] = lowerHex(b[i+2])
		}
	}
	return string(b)
}

func lowerHex(c byte) byte {
	if c >= 'A' && c <= 'F' {
		return c + ('a' - 'A')
	}
	return c
}
