package credentials

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// Lengths the charm takes per option (docs/security.md, "Bounds"). A value
// longer than any vCenter can have is the operator's mistake (a file pasted
// into the wrong option, say): it is blocked here, naming the option and
// its length and never quoting it, before anything is published, logged or
// kept, so no hook tool ever has to carry it.
var maxLen = map[string]struct {
	max int
	why string
}{
	// A DNS name is at most 253 bytes; a URL adds a scheme, a port and
	// the SDK path.
	"vsphere_ip": {512, "a host name is at most 253 bytes, a URL to the SDK a little more"},
	// vCenter SSO names an account user@domain, each part well under this.
	"user": {256, "vCenter account names are far shorter"},
	// vCenter's password policy caps a password at 20 characters by
	// default; the charm leaves room for a longer policy.
	"password": {4096, "vCenter passwords are far shorter"},
	// vSphere inventory names are at most 80 characters (up to 320 bytes
	// of UTF-8, three per escaped '/'); the options may hold a path of a
	// few of them.
	"datacenter":   {2048, "vCenter names are at most 80 characters, and a path a few of them"},
	"datastore":    {2048, "vCenter names are at most 80 characters, and a path a few of them"},
	"folder":       {2048, "vCenter names are at most 80 characters, and a path a few of them"},
	"respool_path": {2048, "vCenter names are at most 80 characters, and a path a few of them"},
	// A SHA-1 or SHA-256 fingerprint in hex with colons is 95 bytes.
	"thumbprint": {256, "a SHA-256 thumbprint is 95 characters"},
	// A CA bundle of a few dozen certificates, base64 or PEM.
	"ca_cert": {256 * 1024, "a CA bundle of dozens of certificates fits"},
	// The credentials blob: base64 of a few short fields (and of the
	// credential-get shape, which has a few more).
	"credentials": {64 * 1024, "base64 of four short fields is far shorter"},
}

// lengthError: an option, or the cloud credential's part standing in for
// one, is longer than the charm takes. It quotes the length, never the
// value.
type lengthError struct {
	// Option names where the value came from (an option, or the cloud
	// credential's part).
	Option string
	// Field is the field of the credentials option that is too long.
	Field string
	Len   int
	Max   int
	Why   string
}

func (e *lengthError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("option '%s' holds a %s %d bytes long, over the %d the charm takes: %s", e.Option, e.Field, e.Len, e.Max, e.Why)
	}
	return fmt.Sprintf("option '%s' is %d bytes long, over the %d the charm takes: %s", e.Option, e.Len, e.Max, e.Why)
}

// checkLength is the length check of one option's value.
func checkLength(option, where, v string) error {
	l, ok := maxLen[option]
	if !ok || len(v) <= l.max {
		return nil
	}
	return &lengthError{Option: where, Len: len(v), Max: l.max, Why: l.why}
}

// checkLengths checks every option the charm reads, and the cloud
// credential's parts, before anything else looks at them.
func checkLengths(spec hooktools.CloudSpec, config map[string]any) error {
	// In the order of the option names, so that of several values too long
	// the same one is always named.
	for _, opt := range slices.Sorted(maps.Keys(maxLen)) {
		if err := checkLength(opt, opt, option(config, opt)); err != nil {
			return err
		}
	}
	cloud := map[string]string{relation.KeyVsphereIP: spec.Endpoint, relation.KeyDatacenter: spec.Region}
	if spec.Credential != nil {
		cloud[relation.KeyUser] = spec.Credential.Attrs["user"]
		cloud[relation.KeyPassword] = spec.Credential.Attrs["password"]
	}
	for _, f := range fields {
		if err := checkLength(f.option, fieldOption(f.option, f.cloud, sourceTrust), cloud[f.key]); err != nil {
			return err
		}
	}
	for i, ca := range spec.CACertificates {
		if err := checkLength("ca_cert", fmt.Sprintf("the cloud credential's CA certificate %d", i+1), ca); err != nil {
			return err
		}
	}
	return nil
}

// errUserInfo: the vCenter address holds user info ("user@" or
// "user:password@" before the host). The password may be in it, so no part
// of the value is repeated.
var errUserInfo = errors.New("option 'vsphere_ip' (or the credential endpoint) holds user info ('user@' before the host); give the user in the 'user' option")

// hasUserInfo: any '@' in the address. A password may hold '/', '?' or
// '#', which end the authority for a URL parser, so no parse can tell
// where user info ends; and no vCenter host name or SDK path has an '@'.
func hasUserInfo(address string) bool {
	return strings.Contains(address, "@")
}

// SecretValues lists, raw, every secret in the inputs an event reads: the
// cloud credential's password, the password option, the credentials option
// (as given and without its white space) and the password inside it. The
// charm registers them for redaction before anything else is done with
// the inputs.
func SecretValues(spec hooktools.CloudSpec, config map[string]any) []string {
	var out []string
	if spec.Credential != nil {
		out = append(out, spec.Credential.Attrs["password"])
	}
	out = append(out, option(config, "password"))
	if blob := option(config, "credentials"); blob != "" {
		out = append(out, blob, strings.Join(strings.Fields(blob), ""))
		if len(blob) <= maxLen["credentials"].max {
			if flat, err := decodeBlob(blob); err == nil {
				out = append(out, flat[relation.KeyPassword])
			}
		}
	}
	return out
}
