package cloudconfig

import (
	"errors"
	"gopkg.in/gcfg.v1"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// The oracle: gcfg's rules restated from its scanner, independently of
// the renderer's code. A value can be carried unless it has a NUL, a
// carriage return (stripped) or invalid UTF-8; a subsection name unless it
// is empty or has a NUL, a newline or invalid UTF-8.
func valueBad(v string) bool {
	return !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r")
}

func nameBad(v string) bool {
	return v == "" || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\n")
}

// seeds are the characters the field consumers broke on, and the ones
// gcfg treats specially, alone and mixed, plus unicode and long values.
func seeds() []string {
	return []string{
		"", "plain", `"`, `\`, "#", ";", `"quoted"`, `a\"b`, `ends\`, "=", "[x]", "a]b",
		"tab\there", "new\nline", "\n", "cr\rlf", "\r\n", "nul\x00", " lead", "trail ", "\t",
		"pässwörd", "日本語", "\U0001F600", "\u2028\u0085\ufeff", "\xff\xfe", "\x01\x1b\x7f",
		`p"a\s#s;w` + "\to\nrd", "yes", "null", "~", "- x", ": y", "{a: b}", "'single'", "&anchor", "*alias", "!tag", "%",
		strings.Repeat(`"\#;`, 1000), strings.Repeat("ü", 70000),
	}
}

func addSeeds(f *testing.F, n int) {
	s := seeds()
	for i, v := range s {
		args := make([]any, n)
		for j := range args {
			// Spread each seed over the fields so every field meets every
			// character; field j gets seed i+j.
			args[j] = s[(i+j)%len(s)]
		}
		args[0] = "vc.example.com" // half the seeds with a good server
		if i%2 == 1 {
			args[0] = v
		}
		f.Add(args...)
	}
}

// wantFields is the set of fields the renderer must name, by the oracle.
type badSet map[string]bool

func (b badSet) names() []string {
	var n []string
	for k := range b {
		n = append(n, k)
	}
	slices.Sort(n)
	return n
}

func checkErrFields(t *testing.T, err error, want badSet) {
	t.Helper()
	got := badSet{}
	for _, fe := range fieldErrs(err) {
		got[fe.Field] = true
	}
	if !slices.Equal(got.names(), want.names()) {
		t.Fatalf("error names fields %q, want %q: %v", got.names(), want.names(), err)
	}
}

func FuzzInTree(f *testing.F) {
	addSeeds(f, 8)
	f.Fuzz(func(t *testing.T, ip, user, password, dc, ds, folder, respool, vmUUID string) {
		d := relation.Data{VsphereIP: ip, User: user, Password: password, Datacenter: dc, Datastore: ds, Folder: folder, RespoolPath: respool}
		bad := badSet{}
		for field, v := range map[string]string{
			"vsphere_ip": ip, "user": user, "password": password, "datacenter": dc,
			"datastore": ds, "folder": folder, "respool_path": respool, "vm-uuid": vmUUID,
		} {
			if valueBad(v) {
				bad[field] = true
			}
		}
		if nameBad(ip) {
			bad["vsphere_ip"] = true
		}
		out, err := InTree(d, vmUUID)
		if len(bad) > 0 {
			if err == nil {
				t.Fatalf("no error for uncarriable %q; rendered:\n%s", bad.names(), out)
			}
			checkErrFields(t, err, bad)
			return
		}
		if err != nil {
			t.Fatalf("error for carriable values: %v", err)
		}
		parseInTree(t, out, d, vmUUID)
	})
}

func FuzzCSI(f *testing.F) {
	addSeeds(f, 5)
	f.Fuzz(func(t *testing.T, ip, user, password, dc, clusterID string) {
		d := relation.Data{VsphereIP: ip, User: user, Password: password, Datacenter: dc}
		bad := badSet{}
		for field, v := range map[string]string{"user": user, "password": password, "datacenter": dc, "cluster-id": clusterID} {
			if valueBad(v) {
				bad[field] = true
			}
		}
		if nameBad(ip) {
			bad["vsphere_ip"] = true
		}
		out, err := CSI(d, clusterID)
		if len(bad) > 0 {
			if err == nil {
				t.Fatalf("no error for uncarriable %q; rendered:\n%s", bad.names(), out)
			}
			checkErrFields(t, err, bad)
			return
		}
		if err != nil {
			t.Fatalf("error for carriable values: %v", err)
		}
		parseCSI(t, out, d, clusterID)
	})
}

func FuzzCPI(f *testing.F) {
	addSeeds(f, 4)
	f.Add("10.0.0.1", "u", "p", "dc")
	f.Add("vc_1-a.b", "\x00", "\r", "")
	f.Fuzz(func(t *testing.T, ip, user, password, dc string) {
		d := relation.Data{VsphereIP: ip, User: user, Password: password, Datacenter: dc}
		bad := badSet{}
		for field, v := range map[string]string{"vsphere_ip": ip, "user": user, "password": password, "datacenter": dc} {
			if !utf8.ValidString(v) {
				bad[field] = true
			}
		}
		// Kubernetes' Secret key rule, restated.
		key := ip + ".password"
		okKey := ip != "" && len(key) <= 253 && !strings.HasPrefix(key, "..") &&
			strings.Trim(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == ""
		if !okKey {
			bad["vsphere_ip"] = true
		}
		c, err := CPI(d)
		if len(bad) > 0 {
			if err == nil {
				t.Fatalf("no error for unrenderable %q; rendered:\n%+v", bad.names(), c)
			}
			checkErrFields(t, err, bad)
			return
		}
		if err != nil {
			t.Fatalf("error for renderable values: %v", err)
		}
		parseCPI(t, c, d)
	})
}

// TestOracleAgreesWithGcfg pins the oracle's two surprising rules to gcfg
// itself, so the fuzz tests cannot pass on a wrong belief.
func TestOracleAgreesWithGcfg(t *testing.T) {
	var c csiConf
	// A carriage return is silently dropped from a quoted value...
	src := "[Global]\ncluster-id = \"a\rb\"\n"
	if err := readGcfg(&c, src); err != nil || c.Global.ClusterID != "ab" {
		t.Errorf("gcfg read %q as %q, %v; the oracle assumes it drops the CR", src, c.Global.ClusterID, err)
	}
	// ...but kept in a subsection name.
	c = csiConf{}
	src = "[VirtualCenter \"a\rb\"]\nuser = \"u\"\n"
	if err := readGcfg(&c, src); err != nil || c.VirtualCenter["a\rb"] == nil {
		t.Errorf("gcfg read %q as %v, %v; the oracle assumes it keeps the CR", src, c.VirtualCenter, err)
	}
	// \n is an escape in a value, not in a subsection name.
	c = csiConf{}
	if err := readGcfg(&c, "[VirtualCenter \"a\\nb\"]\n"); err == nil {
		t.Error("gcfg accepted \\n in a subsection name; the oracle assumes it does not")
	}
	if err := readGcfg(&c, "[VirtualCenter \"\"]\n"); err == nil {
		t.Error("gcfg accepted an empty subsection name")
	}
	if err := readGcfg(&c, "[Global]\ncluster-id = \"a\x00\"\n"); err == nil {
		t.Error("gcfg accepted a NUL")
	}
	if err := readGcfg(&c, "[Global]\ncluster-id = \"\xff\"\n"); err == nil {
		t.Error("gcfg accepted invalid UTF-8")
	}
	if !errors.Is(&FieldError{Err: errNUL}, errNUL) {
		t.Error("FieldError does not unwrap")
	}
}

func readGcfg(c any, s string) error { return gcfg.ReadStringInto(c, s) }
