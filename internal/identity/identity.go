// Package identity names and makes the secrets of the dedicated vCenter
// identities the charm makes for each consumer application
// (docs/dedicated.md): the SSO user's name and its generated password.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// UserPrefix starts the name of every SSO user the charm makes, so that an
// administrator recognises them and purge finds them.
const UserPrefix = "juju-"

// MaxName bounds the local part of a user name the charm makes
// (docs/dedicated.md: a conservative bound, well inside what SSO takes,
// and short enough to read in vCenter's user list).
const MaxName = 64

// UserName is the local part of the SSO user made for app in model at the
// given time: juju-MODEL-APP-SERIAL, lower case, each of model and app kept
// to the characters the CSI driver accepts in a user name
// ([a-zA-Z0-9._-], docs/consumers.md) and shortened, with a hash of the
// whole so that two long names stay apart, when the name would exceed
// MaxName. The serial (the time in base 36) makes each rotation a new
// name, never the same name with a new password.
func UserName(model, app string, at time.Time) string {
	serial := strconv.FormatInt(at.Unix(), 36)
	m, a := slug(model), slug(app)
	name := UserPrefix + m + "-" + a + "-" + serial
	if len(name) <= MaxName {
		return name
	}
	sum := sha256.Sum256([]byte(model + "\x00" + app))
	tag := hex.EncodeToString(sum[:])[:8]
	// Room for model and app: the fixed parts are the prefix, three dashes,
	// the tag and the serial.
	room := MaxName - len(UserPrefix) - 3 - len(tag) - len(serial)
	am := min(len(m), room/2)
	aa := min(len(a), room-am)
	return UserPrefix + strings.Trim(m[:am], ".-_") + "-" + strings.Trim(a[:aa], ".-_") + "-" + tag + "-" + serial
}

// slug keeps [a-z0-9._-] of s, lower-cased; anything else becomes '-'.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "x"
	}
	return b.String()
}

// Password policy: vCenter SSO's default for local users
// (docs/dedicated.md), and what the consumers can carry.
const (
	PasswordLength = 20 // the policy's maximum: the most entropy it allows
	minLength      = 8
	maxAdjacent    = 3
)

// Character classes of a generated password. specials leaves out `"`, `\`
// (the consumers' config writers do not escape them), `#` and `;` (an
// older writer leaves the password bare, where gcfg reads them as a
// comment), and the space and quote characters that shells and YAML treat
// specially (docs/consumers.md).
const (
	upper    = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	lower    = "abcdefghijkmnopqrstuvwxyz"
	digits   = "23456789"
	specials = "!%*+-.=?@^_~"
)

// NewPassword returns a password of PasswordLength characters from r
// (crypto/rand.Reader when nil) that meets Check.
func NewPassword(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	all := upper + lower + digits + specials
	classes := []string{upper, lower, digits, specials}
	for range 100 {
		b := make([]byte, PasswordLength)
		for i := range b {
			set := all
			if i < len(classes) {
				set = classes[i] // one of each class, shuffled below
			}
			c, err := pick(r, set)
			if err != nil {
				return "", err
			}
			b[i] = c
		}
		if err := shuffle(r, b); err != nil {
			return "", err
		}
		if p := string(b); Check(p) == nil {
			return p, nil
		}
	}
	return "", errors.New("generate a password: the random source keeps repeating itself")
}

// pick returns a uniformly chosen byte of set.
func pick(r io.Reader, set string) (byte, error) {
	n, err := uniform(r, len(set))
	if err != nil {
		return 0, err
	}
	return set[n], nil
}

// uniform returns a uniform integer in [0, n), n ≤ 256, by rejection.
func uniform(r io.Reader, n int) (int, error) {
	limit := 256 - 256%n
	var one [1]byte
	for {
		if _, err := io.ReadFull(r, one[:]); err != nil {
			return 0, fmt.Errorf("generate a password: %w", err)
		}
		if int(one[0]) < limit {
			return int(one[0]) % n, nil
		}
	}
}

// shuffle is Fisher–Yates with r.
func shuffle(r io.Reader, b []byte) error {
	for i := len(b) - 1; i > 0; i-- {
		j, err := uniform(r, i+1)
		if err != nil {
			return err
		}
		b[i], b[j] = b[j], b[i]
	}
	return nil
}

// ErrPolicy is what Check's errors wrap.
var ErrPolicy = errors.New("password does not meet the policy")

// Check reports whether p meets vCenter SSO's default password policy and
// holds none of the characters the consumers cannot carry. Its errors name
// the rule, never the password.
func Check(p string) error {
	bad := func(why string) error { return fmt.Errorf("%w: %s", ErrPolicy, why) }
	if len(p) < minLength || len(p) > PasswordLength {
		return bad(fmt.Sprintf("%d characters, not %d to %d", len(p), minLength, PasswordLength))
	}
	for _, c := range []struct{ name, set string }{{"upper-case", upper + "IO"}, {"lower-case", lower + "l"}, {"digit", "0123456789"}} {
		if !strings.ContainsAny(p, c.set) {
			return bad("no " + c.name + " character")
		}
	}
	if strings.IndexFunc(p, isSpecial) < 0 {
		return bad("no special character")
	}
	if strings.ContainsAny(p, "\"\\#; '`") {
		return bad("a character the consumers cannot carry")
	}
	run := 1
	for i := 1; i < len(p); i++ {
		if p[i] == p[i-1] {
			if run++; run > maxAdjacent {
				return bad(fmt.Sprintf("more than %d identical adjacent characters", maxAdjacent))
			}
		} else {
			run = 1
		}
	}
	return nil
}

func isSpecial(r rune) bool {
	return r > ' ' && r < 0x7f && !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
}
