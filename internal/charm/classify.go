package charm

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// outcome is what a check means for the consumers.
type outcome string

const (
	// outcomeVerified: vCenter accepted everything; publish.
	outcomeVerified outcome = "verified"
	// outcomeRejected: vCenter, or the check itself, refused what the
	// operator configured; publish nothing new, consumers keep the last
	// good values.
	outcomeRejected outcome = "rejected"
	// outcomeUnverified: vCenter did not answer; publish unverified (the
	// consumers retry on their own) and check again later.
	outcomeUnverified outcome = "unverified"
)

func (o outcome) known() bool {
	return o == outcomeVerified || o == outcomeRejected || o == outcomeUnverified
}

// check runs the vCenter check under its own deadline and classifies the
// result.
func (c *Charm) check(ctx context.Context, res credentials.Resolved, nodes []vsphere.Node) (*vsphere.Report, checkRecord) {
	ctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	t := res.Target()
	t.Nodes = nodes
	rep, err := c.vc.Check(ctx, t)
	// The server's words are redacted here, before the record and the
	// report are encoded into unit state and action results: a form of the
	// password encoded again (JSON in JSON) is none of its forms any more.
	scrub(c.secrets, reflect.ValueOf(rep))
	rec := classify(res.Data, rep, err, c.checkTimeout)
	rec.Reason = c.secrets.Server(rec.Reason, maxReason)
	rec.Version = c.secrets.Server(rec.Version, hooktools.MaxVersion)
	rec.At = c.now().UTC()
	return rep, rec
}

// maxReason bounds a record's Reason: it quotes what vCenter (or whatever
// answers at its address) said, and goes into the status, unit state and
// action-fail, with room left in the status for what the charm adds.
const maxReason = 512

// classify turns a check's result into a record. Errors the operator must
// fix are rejected; vCenter not answering is unverified. The Reason may
// quote the server: check redacts and bounds it before it is kept, and the
// hook tools do for every other use (docs/security.md).
func classify(d relation.Data, rep *vsphere.Report, err error, timeout time.Duration) checkRecord {
	var (
		target    *vsphere.TargetError
		login     *vsphere.LoginError
		notFound  *vsphere.NotFoundError
		ambiguous *vsphere.AmbiguousError
		cert      *vsphere.CertificateError
		notVC     *vsphere.NotVCenterError
		unreach   *vsphere.UnreachableError
	)
	rejected := func(format string, args ...any) checkRecord {
		return checkRecord{Outcome: outcomeRejected, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case err == nil:
		return checkRecord{Outcome: outcomeVerified, Version: rep.Product.Version, Prereq: summarize(rep, d.User)}
	case errors.As(err, &target):
		return rejected("%v; fix the %s", target, targetOption(target.Field))
	case errors.As(err, &login):
		r := rejected("vCenter %s rejected login for user '%s': fix password/user (juju config) or the cloud credential (juju update-credential)",
			d.VsphereIP, login.User)
		r.LoginRejected = true
		return r
	case errors.As(err, &notFound):
		return rejected("%v; fix the %s config", notFound, optionFor(notFound.Kind))
	case errors.As(err, &ambiguous):
		return rejected("%v; give the full path in the %s config", ambiguous, optionFor(ambiguous.Kind))
	case errors.As(err, &cert):
		return rejected("%s", certificateReason(d.VsphereIP, cert))
	case errors.As(err, &notVC):
		return rejected("%v; set vsphere_ip to the vCenter address", notVC)
	case errors.As(err, &unreach):
		return checkRecord{Outcome: outcomeUnverified, Reason: unreach.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		return checkRecord{Outcome: outcomeUnverified, Reason: fmt.Sprintf("vCenter %s did not answer within %s", d.VsphereIP, timeout)}
	default:
		return checkRecord{Outcome: outcomeUnverified, Reason: fmt.Sprintf("vCenter %s check failed: %v", d.VsphereIP, err)}
	}
}

// certificateReason says what to do about a certificate the check did not
// trust: pin the thumbprint vCenter presented, when it presented one.
func certificateReason(server string, cert *vsphere.CertificateError) string {
	if cert.SHA256 == "" {
		return fmt.Sprintf("vCenter %s presented no certificate the charm could read: set ca_cert to its CA certificate", server)
	}
	what := "is not trusted"
	if cert.Mismatch {
		what = "does not match the pinned thumbprint"
	}
	return fmt.Sprintf("vCenter %s certificate %s (SHA-256 %s); if that is your vCenter, pin it: juju config vsphere-integrator thumbprint=%s (or set ca_cert)",
		server, what, cert.SHA256, cert.SHA256)
}

// optionFor names the config option that sets an inventory object of kind
// (vsphere.NotFoundError.Kind).
func optionFor(kind string) string {
	if kind == "resource pool" {
		return "respool_path"
	}
	return kind
}

// targetOption names what sets a vsphere.TargetError's field.
func targetOption(field string) string {
	switch field {
	case "vCenter address":
		return "vsphere_ip config"
	case "thumbprint":
		return "thumbprint config"
	case "CA certificates":
		return "ca_cert config (or the cloud credential's CA certificates)"
	case "datacenter", "datastore", "folder", "user", "password":
		return field + " config"
	case "resource pool":
		return "respool_path config"
	}
	return "config"
}

// scrub redacts, in place, every string reachable from v: a report's
// names, versions and findings are all the server's words.
func scrub(s *redact.Secrets, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			scrub(s, v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				scrub(s, v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			scrub(s, v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			scrub(s, e)
			v.SetMapIndex(k, e)
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(s.Clean(v.String()))
		}
	}
}
