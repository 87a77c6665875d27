package vsphere

// NeedsOf is, for the external tests, the privilege ids needs lists for a
// kind of object: what the check asks for there, and what the role Dedicate
// makes for that kind must hold.
func NeedsOf(kind string) []string { return privilegesOf(kind) }
