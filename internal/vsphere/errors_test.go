package vsphere_test

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// TestErrorText pins the messages a person reads in `juju status`.
func TestErrorText(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{{
		name: "login",
		err:  &vsphere.LoginError{Server: "127.0.0.1:8989", User: "admin"},
		want: "vCenter 127.0.0.1:8989 rejected login for user 'admin'",
	}, {
		name: "not found",
		err:  &vsphere.NotFoundError{Kind: "datastore", Name: "ds9", Where: "datacenter DC0", Available: []string{"LocalDS_0", "LocalDS_1"}},
		want: "datastore 'ds9' not found in datacenter DC0 (available: LocalDS_0, LocalDS_1)",
	}, {
		name: "not found, capped",
		err:  &vsphere.NotFoundError{Kind: "folder", Name: "x", Where: "the VM folder of datacenter DC0", Available: []string{"a", "b"}, More: 7},
		want: "folder 'x' not found in the VM folder of datacenter DC0 (available: a, b and 7 more)",
	}, {
		name: "not found, nothing there",
		err:  &vsphere.NotFoundError{Kind: "resource pool", Name: "gold", Where: "datacenter DC0"},
		want: "resource pool 'gold' not found in datacenter DC0 (none the user can see)",
	}, {
		name: "ambiguous",
		err:  &vsphere.AmbiguousError{Kind: "resource pool", Name: "Resources", Where: "datacenter DC0", Matches: []string{"/DC0/host/C0/Resources", "/DC0/host/H0/Resources"}},
		want: "resource pool 'Resources' is ambiguous in datacenter DC0: give one of the paths (matches: /DC0/host/C0/Resources, /DC0/host/H0/Resources)",
	}, {
		name: "untrusted",
		err:  &vsphere.CertificateError{Server: "vc:443", SHA1: "AA:BB", SHA256: "CC:DD", Err: errors.New("x509: certificate signed by unknown authority")},
		want: "certificate of vCenter vc:443 is not trusted: x509: certificate signed by unknown authority; give its CA certificate or pin its thumbprint (presented: SHA-256 CC:DD, SHA-1 AA:BB)",
	}, {
		name: "mismatch",
		err:  &vsphere.CertificateError{Server: "vc:443", SHA1: "AA:BB", SHA256: "CC:DD", Mismatch: true, Pinned: "EE:FF"},
		want: "certificate of vCenter vc:443 does not match the pinned thumbprint EE:FF (presented: SHA-256 CC:DD, SHA-1 AA:BB)",
	}, {
		name: "unreachable",
		err:  &vsphere.UnreachableError{Address: "vc:443", Err: fmt.Errorf("dial tcp: %w", syscall.ECONNREFUSED)},
		want: "cannot reach vCenter at vc:443: dial tcp: connection refused",
	}, {
		name: "invalid setting",
		err:  &vsphere.TargetError{Field: "thumbprint", Err: errors.New("not hexadecimal")},
		want: "invalid thumbprint: not hexadecimal",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.err.Error())
		})
	}
}

func TestErrorsUnwrap(t *testing.T) {
	cause := context.DeadlineExceeded
	for _, err := range []error{
		&vsphere.LoginError{Err: cause},
		&vsphere.CertificateError{Err: cause},
		&vsphere.UnreachableError{Err: cause},
		&vsphere.TargetError{Err: cause},
	} {
		assert.ErrorIs(t, fmt.Errorf("wrapped: %w", err), cause, "%T", err)
	}
}
