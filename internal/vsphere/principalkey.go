package vsphere

// PrincipalKey is how a user name is compared with another: "user@domain"
// and "DOMAIN\user", the domain in any case, give one key, as vCenter takes
// them for one principal. A name without a domain is its own key.
func PrincipalKey(name string) string { return keyOf(name) }
