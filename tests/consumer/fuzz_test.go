package consumer_test

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/cloudconfig"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// A value gcfg can carry has no NUL, no carriage return and is valid
// UTF-8; the server, also a subsection name, must besides be non-empty and
// have no newline.
func carriable(v string) bool {
	return utf8.ValidString(v) && !strings.ContainsAny(v, "\x00\r")
}

var seeds = []string{
	"", "x", `"`, `\`, "#", ";", "\t", "\n", "\r", "\x00", "é", "\U0001F600", "\xff", "\u2028", `a"b\c#d;e`,
	"\r\n", "[VirtualCenter \"x\"]", "a = b", "yes", "- x", "'", strings.Repeat(`"\`, 5000),
}

// FuzzInTreeVSphereConfig: for every value gcfg can carry, the in-tree
// config reads back unchanged into VSphereConfig; for every other, the
// renderer refuses.
func FuzzInTreeVSphereConfig(f *testing.F) {
	for i, s := range seeds {
		next := seeds[(i+1)%len(seeds)]
		f.Add("10.0.0.1", s, next, s, next, s, next, s)
		f.Add(s, next, s, next, s, next, s, next)
	}
	f.Fuzz(func(t *testing.T, ip, user, password, dc, ds, folder, respool, vmUUID string) {
		d := relation.Data{VsphereIP: ip, User: user, Password: password, Datacenter: dc, Datastore: ds, Folder: folder, RespoolPath: respool}
		ok := ip != "" && !strings.Contains(ip, "\n")
		for _, v := range []string{ip, user, password, dc, ds, folder, respool, vmUUID} {
			ok = ok && carriable(v)
		}
		s, err := cloudconfig.InTree(d, vmUUID)
		if !ok {
			var fe *cloudconfig.FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("no field error for an uncarriable value (err %v); rendered:\n%s", err, s)
			}
			return
		}
		if err != nil {
			t.Fatalf("error for carriable values: %v", err)
		}
		checkInTree(t, s, d, vmUUID)
	})
}

// FuzzCPIYAMLv2: the CPI config reads back with the CPI's own YAML
// library, and the renderer's Secret key rule is Kubernetes' own.
func FuzzCPIYAMLv2(f *testing.F) {
	for i, s := range seeds {
		f.Add("vc.example.com", s, seeds[(i+1)%len(seeds)], s)
		f.Add(s, s, s, s)
	}
	f.Fuzz(func(t *testing.T, ip, user, password, dc string) {
		d := relation.Data{VsphereIP: ip, User: user, Password: password, Datacenter: dc}
		c, err := cloudconfig.CPI(d)
		keyOK := ip != "" && len(validation.IsConfigMapKey(ip+".username")) == 0 && len(validation.IsConfigMapKey(ip+".password")) == 0
		if errors.Is(err, cloudconfig.ErrSecretKey) || errors.Is(err, cloudconfig.ErrEmptyServer) {
			if keyOK {
				t.Fatalf("renderer refuses server %q, Kubernetes takes %q", ip, ip+".username")
			}
			return
		}
		if !keyOK {
			t.Fatalf("renderer takes server %q, Kubernetes refuses it: %v", ip, validation.IsConfigMapKey(ip+".username"))
		}
		if errors.Is(err, cloudconfig.ErrInvalidUTF8) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		checkCPI(t, c, d)
	})
}
