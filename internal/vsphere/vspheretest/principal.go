package vspheretest

import "strings"

// CanonicalPrincipal is the one spelling of an SSO principal the simulator
// compares by: "user@domain" with the domain in lower case and the user part
// as given. vCenter writes one principal two ways, "user@domain" (logins,
// SSO) and "DOMAIN\user" (permissions, sessions), and a domain is a DNS name
// whose case does not matter. The user part keeps its case: vCenter reports
// a local user under the name it was made with, and the simulator matches
// it exactly, so a test cannot pass on a spelling vCenter might refuse
// (docs/vcenter.md, "The simulator's SSO, made to behave like vCenter").
//
// A name with no domain, or not of either form (an empty part, a second
// separator), is returned unchanged: it names no SSO principal of a known
// domain, and matches only itself.
func CanonicalPrincipal(name string) string {
	user, domain, ok := splitPrincipal(name)
	if !ok {
		return name
	}
	return user + "@" + domain
}

// splitPrincipal reads "user@domain" or "DOMAIN\user"; the domain comes back
// in lower case.
func splitPrincipal(name string) (user, domain string, ok bool) {
	if d, u, found := strings.Cut(name, `\`); found {
		user, domain = u, d
	} else if u, d, found := strings.Cut(name, "@"); found {
		user, domain = u, d
	} else {
		return "", "", false
	}
	if user == "" || domain == "" || strings.ContainsAny(user, `@\`) || strings.ContainsAny(domain, `@\`) {
		return "", "", false
	}
	return user, strings.ToLower(domain), true
}
