package identity_test

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/identity"
)

// csiUser is the CSI driver's own check of a user with its domain
// (docs/consumers.md), applied to name@vsphere.local.
var csiUser = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+\\[a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+@[a-zA-Z0-9.-]+)$`)

func TestUserName(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	long := strings.Repeat("k8s-production-", 8)
	cases := []struct{ model, app, want string }{
		{"prod", "kubernetes-control-plane", "juju-prod-kubernetes-control-plane-tpis00"},
		{"My Model", "vsphere-cloud-provider", "juju-my-model-vsphere-cloud-provider-tpis00"},
		{"ünï", "a", "juju--n--a-tpis00"},
	}
	for _, c := range cases {
		got := identity.UserName(c.model, c.app, at)
		if got != c.want {
			t.Errorf("UserName(%q, %q) = %q, want %q", c.model, c.app, got, c.want)
		}
	}
	a := identity.UserName(long, "kubernetes-control-plane", at)
	b := identity.UserName(long+"x", "kubernetes-control-plane", at)
	for _, n := range []string{a, b} {
		if len(n) > identity.MaxName || !strings.HasPrefix(n, identity.UserPrefix) || !csiUser.MatchString(n+"@vsphere.local") {
			t.Errorf("long name %q (%d bytes) breaks a rule", n, len(n))
		}
	}
	if a == b {
		t.Errorf("two long models got one name %q", a)
	}
	if identity.UserName("m", "a", at) == identity.UserName("m", "a", at.Add(time.Second)) {
		t.Error("a rotation must make a new name")
	}
	for _, c := range cases {
		if n := identity.UserName(c.model, c.app, at); !csiUser.MatchString(n + "@vsphere.local") {
			t.Errorf("%q is not a user the CSI driver takes", n)
		}
	}
}

func TestNewPasswordMeetsPolicy(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		p, err := identity.NewPassword(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := identity.Check(p); err != nil {
			t.Fatalf("generated password fails: %v", err)
		}
		if len(p) != identity.PasswordLength {
			t.Fatalf("length %d", len(p))
		}
		if seen[p] {
			t.Fatal("a password repeated")
		}
		seen[p] = true
	}
}

func TestNewPasswordFailingSource(t *testing.T) {
	_, err := identity.NewPassword(bytes.NewReader([]byte{1, 2, 3}))
	if err == nil {
		t.Fatal("a source that runs dry must fail")
	}
	if _, err := identity.NewPassword(bytes.NewReader(bytes.Repeat([]byte{0}, 1<<16))); err == nil {
		t.Fatal("a constant source cannot meet the policy and must fail")
	}
}

func TestCheck(t *testing.T) {
	cases := map[string]bool{
		"Abcdef1!":               true,
		"Abcde1!":                false, // 7
		"Abcdefghijklmnopq1!xyz": false, // 22
		"abcdef1!":               false, // no upper
		"ABCDEF1!":               false,
		"Abcdefg!":               false,
		"Abcdefg1":               false,
		"Abbbbcd1!":              false, // 4 adjacent
		"Abbbcd1!":               true,
		`Abcdef1"`:               false,
		`Abcdef1\`:               false,
		"Abcdef1#":               false,
		"Abcdef1;":               false,
		"Abcd ef1!":              false,
	}
	for p, ok := range cases {
		err := identity.Check(p)
		if (err == nil) != ok {
			t.Errorf("Check(%q) = %v, want ok=%v", p, err, ok)
		}
		if err != nil {
			if !errors.Is(err, identity.ErrPolicy) || strings.Contains(err.Error(), p) {
				t.Errorf("Check(%q) error %q: must wrap ErrPolicy and not quote the password", p, err)
			}
		}
	}
}
