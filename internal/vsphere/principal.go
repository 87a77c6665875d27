package vsphere

import (
	"fmt"
	"strings"
)

// principal is an SSO user's name split in two. vCenter spells one
// principal two ways, "user@domain" (SSO, and the user name the CSI driver
// logs in with) and "DOMAIN\user" (permissions, sessions), the domain in any
// case: Dedicate compares principals by key, never by their text.
type principal struct{ name, domain string }

// parsePrincipal reads "user@domain" or "DOMAIN\user". A name without a
// domain is refused: which domain it falls in is vCenter's default, which
// may not be the local one.
func parsePrincipal(s string) (principal, error) {
	s = strings.TrimSpace(s)
	var p principal
	if d, n, ok := strings.Cut(s, `\`); ok {
		p = principal{name: n, domain: d}
	} else if n, d, ok := strings.Cut(s, "@"); ok {
		p = principal{name: n, domain: d}
	} else {
		return principal{}, fmt.Errorf("%q: want user@domain", s)
	}
	if p.name == "" || p.domain == "" || strings.ContainsAny(p.name, `@\`) || strings.ContainsAny(p.domain, `@\`) {
		return principal{}, fmt.Errorf("%q: want user@domain", s)
	}
	return p, nil
}

// key is how principals are compared: the domain's case does not matter.
func (p principal) key() string { return strings.ToLower(p.domain) + `\` + p.name }

// vcenter is the spelling vCenter's permission API documents ("DOMAIN\login").
func (p principal) vcenter() string { return strings.ToUpper(p.domain) + `\` + p.name }

// String is the spelling the SSO and the consumers use, the domain in
// lower case as SSO writes it.
func (p principal) String() string { return p.name + "@" + strings.ToLower(p.domain) }

// keyOf is the key of s, or s itself when it is not a principal with a
// domain (a group, a local account), which then matches nothing of ours.
func keyOf(s string) string {
	p, err := parsePrincipal(s)
	if err != nil {
		return s
	}
	return p.key()
}
