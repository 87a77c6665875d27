package vspheretest

import "strings"

// The default password policy of vCenter's local SSO domain, as its
// directory service checks it (docs/vcenter.md, "The simulator's SSO, made
// to behave like vCenter"): lengths in bytes, special characters from a
// fixed set, at most three identical characters in a row, and none of the
// last five passwords again.
const (
	passwordMinLen      = 8
	passwordMaxLen      = 20
	passwordMaxAdjacent = 3
	passwordHistory     = 5
	passwordSpecials    = "~!@#$%^&*_-+=`|\\(){}[]:;\"'<>,.?/"
)

// passwordPolicyViolation says which rule p breaks, "" when none; the text
// never contains the password.
func passwordPolicyViolation(p string) string {
	if len(p) < passwordMinLen {
		return "shorter than 8 characters"
	}
	if len(p) > passwordMaxLen {
		return "longer than 20 characters"
	}
	var upper, lower, digit, special, run int
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper++
		case c >= 'a' && c <= 'z':
			lower++
		case c >= '0' && c <= '9':
			digit++
		case strings.IndexByte(passwordSpecials, c) >= 0:
			special++
		}
		if i > 0 && p[i-1] == c {
			run++
			if run >= passwordMaxAdjacent {
				return "more than 3 identical adjacent characters"
			}
		} else {
			run = 0
		}
	}
	switch {
	case upper < 1:
		return "no upper-case letter"
	case lower < 1:
		return "no lower-case letter"
	case digit < 1:
		return "no digit"
	case special < 1:
		return "no special character"
	}
	return ""
}
