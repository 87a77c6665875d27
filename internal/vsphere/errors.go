package vsphere

import (
	"fmt"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// maxListed caps the names an error lists: a status line has to stay
// readable on a vCenter with hundreds of datastores or pools.
const maxListed = 10

// Bounds of server text in an error, so that a status line built from one
// stays short (docs/vcenter.md, "What the charm accepts from a server").
const (
	maxNameText = 128 // one name or path in a listing, or the name asked for
	maxListText = 384 // a listing of names together
)

// TargetError is a setting that cannot be used as given (bad address, bad
// thumbprint, no certificate in the CA text, missing value). It is found
// before any network I/O.
type TargetError struct {
	Field string // "vCenter address", "thumbprint", "CA certificates", "datastore", ...
	Err   error
}

func (e *TargetError) Error() string { return fmt.Sprintf("invalid %s: %v", e.Field, e.Err) }

func (e *TargetError) Unwrap() error { return e.Err }

// LoginError is vCenter rejecting the user name or password (SOAP fault
// InvalidLogin). The password is never part of it.
type LoginError struct {
	Server, User string
	Err          error
}

func (e *LoginError) Error() string {
	return fmt.Sprintf("vCenter %s rejected login for user '%s'", e.Server, redact.Cut(e.User, maxServerText))
}

func (e *LoginError) Unwrap() error { return e.Err }

// NotFoundError is a datacenter, datastore, folder or resource pool that does
// not exist where it was looked for. Available lists (at most maxListed of)
// the names that do exist there, in the form the setting accepts; More counts
// the ones left out. vCenter hides what the user has no permission to see,
// so an empty list often means missing read privileges.
type NotFoundError struct {
	Kind      string // "datacenter", "datastore", "folder", "resource pool"
	Name      string // as asked for
	Where     string // e.g. "datacenter DC0"
	Available []string
	More      int
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("%s '%s' not found in %s (%s)", e.Kind, redact.Cut(e.Name, maxNameText), redact.Cut(e.Where, maxServerText), listing("available", e.Available, e.More))
}

// AmbiguousError is a name that matches several objects; Matches holds their
// full inventory paths, any of which the setting accepts instead.
type AmbiguousError struct {
	Kind, Name string
	Where      string
	Matches    []string
}

func (e *AmbiguousError) Error() string {
	shown, more := capList(e.Matches)
	return fmt.Sprintf("%s '%s' is ambiguous in %s: give one of the paths (%s)", e.Kind, redact.Cut(e.Name, maxNameText), redact.Cut(e.Where, maxServerText), listing("matches", shown, more))
}

// CertificateError is a server certificate the check did not trust. SHA1 and
// SHA256 are the thumbprints of the certificate the server presented, so an
// admin can compare them with vCenter's and pin one.
type CertificateError struct {
	Server       string
	SHA1, SHA256 string // upper hex with colons; SHA1 is empty in FIPS-only mode
	Mismatch     bool   // a thumbprint was pinned and the certificate has another
	Pinned       string // the pinned thumbprint, when Mismatch
	Err          error  // why verification failed (x509 error), nil on Mismatch
}

func (e *CertificateError) Error() string {
	presented := "SHA-256 " + e.SHA256
	if e.SHA1 != "" {
		presented += ", SHA-1 " + e.SHA1
	}
	if e.Mismatch {
		return fmt.Sprintf("certificate of vCenter %s does not match the pinned thumbprint %s (presented: %s)", e.Server, e.Pinned, presented)
	}
	// x509 errors quote the certificate's names, which the server chose.
	why := redact.Cut(fmt.Sprint(e.Err), maxServerText)
	return fmt.Sprintf("certificate of vCenter %s is not trusted: %s; give its CA certificate or pin its thumbprint (presented: %s)", e.Server, why, presented)
}

func (e *CertificateError) Unwrap() error { return e.Err }

// UnreachableError is a vCenter the check could not talk to: name not
// resolved, connection refused, TLS handshake failed, or no answer before the
// deadline (then Err wraps context.DeadlineExceeded).
type UnreachableError struct {
	Address string // host:port dialed
	Err     error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach vCenter at %s: %s", e.Address, redact.Cut(fmt.Sprint(e.Err), maxServerText))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// PrivilegeQueryError is a privilege query vCenter did not answer: it does
// not have the method (Unsupported: an old release, an ESXi host) or it
// returned a fault. The privileges are then unchecked; the credential check
// itself stands.
type PrivilegeQueryError struct {
	Server      string
	Unsupported bool
	Err         error // the fault; nil when there was nothing to ask
}

func (e *PrivilegeQueryError) Error() string {
	if e.Unsupported {
		return fmt.Sprintf("vCenter %s cannot report a user's privileges (no HasUserPrivilegeOnEntities); privileges not checked", e.Server)
	}
	return fmt.Sprintf("vCenter %s did not answer the privilege query: %v; privileges not checked", e.Server, e.Err)
}

func (e *PrivilegeQueryError) Unwrap() error { return e.Err }

func capList(names []string) ([]string, int) {
	if len(names) <= maxListed {
		return names, 0
	}
	return names[:maxListed], len(names) - maxListed
}

// listing lists names (each cut to maxNameText) up to maxListText bytes
// together; the others are counted with more. A status line names a few.
func listing(label string, names []string, more int) string {
	if len(names) == 0 {
		return "none the user can see"
	}
	var shown []string
	total := 0
	for i, n := range names {
		n = redact.Cut(n, maxNameText)
		if i > 0 && total+len(n) > maxListText {
			more += len(names) - i
			break
		}
		shown = append(shown, n)
		total += len(n) + 2
	}
	s := label + ": " + strings.Join(shown, ", ")
	if more > 0 {
		s += fmt.Sprintf(" and %d more", more)
	}
	return s
}

// NotVCenterError is a SOAP endpoint that answered but is not a vCenter or
// ESXi host the check can log in to: its service content has no session
// manager.
type NotVCenterError struct {
	Server string
	// Product is what the endpoint says it is, when it says anything
	// (redacted and cut to maxServerText).
	Product string
	// Missing is the part of the service content it lacks: "session
	// manager" ("" means that too), "property collector", "root folder".
	Missing string
}

func (e *NotVCenterError) Error() string {
	missing := e.Missing
	if missing == "" {
		missing = "session manager"
	}
	what := "no " + missing + " in its service content"
	if e.Product != "" {
		what = e.Product + ", with " + what
	}
	return fmt.Sprintf("%s is not a vCenter (%s)", e.Server, what)
}

// MissingPrivilegesError is a user who lacks privileges an operation needs
// on an object, found before the operation touched anything.
type MissingPrivilegesError struct {
	User       string   // as vCenter names the user
	Kind       string   // ObjectDatastore, ...
	Object     string   // inventory path
	Privileges []string // the privilege ids lacking
}

func (e *MissingPrivilegesError) Error() string {
	return fmt.Sprintf("vCenter user '%s' lacks %s on %s %s: no volume can be created there until they are granted",
		e.User, strings.Join(e.Privileges, ", "), e.Kind, e.Object)
}

// VolumeError is a step of TestVolume that failed. Err is why (a vCenter
// fault or task error, an *UnreachableError when vCenter stopped answering
// or the deadline passed). Leftover, when not nil, is the test disk the
// cleanup could not delete, with how to delete it.
type VolumeError struct {
	Step     string // Step* constant; "" before the first step
	Path     string // the test disk's datastore path
	Err      error
	Leftover *Leftover
}

func (e *VolumeError) Error() string {
	s := fmt.Sprintf("test volume %s failed: %v", e.Path, e.Err)
	if e.Leftover != nil {
		s += "; " + e.Leftover.String()
	}
	return s
}

func (e *VolumeError) Unwrap() error { return e.Err }

// Rights of the trusted account that Dedicate needs, as MissingRightError
// names them.
const (
	RightSSOAdmin          = "membership of the SSO Administrators group"
	RightModifyRoles       = "Authorization.ModifyRoles"
	RightModifyPermissions = "Authorization.ModifyPermissions"
)

// MissingRightError is the trusted account lacking a right that making,
// granting or deleting a dedicated identity needs: vCenter refused the step
// with NoPermission. Right names it as an admin grants it:
// RightSSOAdmin, RightModifyRoles, or RightModifyPermissions followed by
// " on " and the object's inventory path.
type MissingRightError struct {
	Server string
	User   string // the trusted account
	Right  string
	Err    error // the fault
}

func (e *MissingRightError) Error() string {
	return fmt.Sprintf("vCenter %s: user '%s' lacks %s", e.Server, redact.Cut(e.User, maxServerText), redact.Cut(e.Right, maxPathText))
}

func (e *MissingRightError) Unwrap() error { return e.Err }

// LeftoverError is a Dedicate that failed after making users, and whose
// undoing (each user made in that call deleted again, with the permissions
// it had been given) did not finish. Leftover says what is still there, for
// an admin, or the charm's next purge, to delete.
type LeftoverError struct {
	Err      error    // why Dedicate failed
	Leftover []string // "user juju-…@vsphere.local", "permission of juju-…@vsphere.local on /DC0/…"
}

func (e *LeftoverError) Error() string {
	shown, more := capList(e.Leftover)
	return fmt.Sprintf("%v; not undone: %s", e.Err, listing("left", shown, more))
}

func (e *LeftoverError) Unwrap() error { return e.Err }
