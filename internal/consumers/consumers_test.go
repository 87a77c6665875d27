package consumers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// TestPublishedVsphereIP: every default-port form is published as the bare
// host; another port or path is published as given; a plain host is
// published byte for byte as given (the Python charm's bytes).
func TestPublishedVsphereIP(t *testing.T) {
	for _, tt := range []struct{ given, want string }{
		{"10.0.0.1", "10.0.0.1"},
		{"vc.example.com", "vc.example.com"},
		{"VC.Example.COM", "VC.Example.COM"},
		{"vc-ü.example", "vc-ü.example"},
		{"vc.example.com:443", "vc.example.com"},
		{"https://vc.example.com", "vc.example.com"},
		{"https://vc.example.com/", "vc.example.com"},
		{"https://vc.example.com/sdk", "vc.example.com"},
		{"https://vc.example.com:443/sdk", "vc.example.com"},
		{"HTTPS://10.0.0.1:443/sdk", "10.0.0.1"},
		{"fd00::1", "fd00::1"},
		{"[fd00::1]", "fd00::1"},
		{"[fd00::1]:443", "fd00::1"},
		{"https://[fd00::1]:443/sdk", "fd00::1"},
		// Not the default port or path: as given.
		{"vc.example.com:8443", "vc.example.com:8443"},
		{"https://vc.example.com:8443/sdk", "https://vc.example.com:8443/sdk"},
		{"https://vc.example.com/other", "https://vc.example.com/other"},
		{"[fd00::1]:8443", "[fd00::1]:8443"},
	} {
		d := Published(relation.Data{VsphereIP: tt.given, User: "u"})
		if d.VsphereIP != tt.want || d.User != "u" {
			t.Errorf("Published(%q) = %q, want %q", tt.given, d.VsphereIP, tt.want)
		}
		// Everything above the "as given" comment publishes a bare host.
		if got, want := IsBareHost(d.VsphereIP), !strings.Contains(tt.want, "8443") && !strings.Contains(tt.want, "/"); got != want {
			t.Errorf("IsBareHost(%q) = %v, want %v", d.VsphereIP, got, want)
		}
	}
}

func data() relation.Data {
	return relation.Data{VsphereIP: "10.0.0.1", User: "k8s@vsphere.local", Password: "Passw0rd!", Datacenter: "DC0", Datastore: "ds", Folder: "f"}
}

// TestWarningNamesTheApplications: each rule names the related
// applications it breaks, and only those; kubernetes-worker never.
func TestWarningNamesTheApplications(t *testing.T) {
	apps := []string{"kubernetes-worker", "kubernetes-control-plane", "vsphere-cloud-provider"}
	if w := Warning(data(), apps); w != "" {
		t.Fatalf("plain data: %q", w)
	}
	tests := []struct {
		name   string
		change func(*relation.Data)
		named  []string // apps the warning must name
		not    []string // and must not
		field  string
	}{
		{"port", func(d *relation.Data) { d.VsphereIP = "10.0.0.1:8443" },
			[]string{"kubernetes-control-plane", "vsphere-cloud-provider"}, []string{"kubernetes-worker"}, "a port or path in vsphere_ip"},
		{"user without domain", func(d *relation.Data) { d.User = "k8sadmin" },
			[]string{"vsphere-cloud-provider"}, []string{"kubernetes-worker", "kubernetes-control-plane"}, `no user@domain or DOMAIN\user form in user`},
		{"quote in password", func(d *relation.Data) { d.Password = `pa"ss` },
			[]string{"kubernetes-control-plane", "vsphere-cloud-provider"}, []string{"kubernetes-worker"}, `" or \ in password`},
		{"hash in password", func(d *relation.Data) { d.Password = "pa#ss" },
			[]string{"kubernetes-master"}, []string{"kubernetes-worker", "kubernetes-control-plane", "vsphere-cloud-provider"}, "#, ; or blanks at an end in password"},
		{"IPv6", func(d *relation.Data) { d.VsphereIP = "fd00::1" },
			[]string{"vsphere-cloud-provider"}, []string{"kubernetes-worker", "kubernetes-control-plane"}, "a host unfit for Secret key names in vsphere_ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := data()
			tt.change(&d)
			w := Warning(d, append(apps, "kubernetes-master"))
			if !strings.Contains(w, tt.field) {
				t.Errorf("warning %q does not say %q", w, tt.field)
			}
			for _, a := range tt.named {
				if !strings.Contains(w, a) {
					t.Errorf("warning %q does not name %s", w, a)
				}
			}
			for _, a := range tt.not {
				if strings.Contains(w, a+" ") || strings.Contains(w, a+",") {
					t.Errorf("warning %q names %s", w, a)
				}
			}
			if strings.Contains(w, "could not tell") {
				t.Errorf("every application is known: %q", w)
			}
			if w := Warning(d, []string{"kubernetes-worker"}); w != "" {
				t.Errorf("kubernetes-worker renders nothing, yet: %q", w)
			}
		})
	}
}

// TestWarningUnknownApplication: an application the charm cannot tell
// gets every consumer's rules, and the warning says it could not tell.
func TestWarningUnknownApplication(t *testing.T) {
	d := data()
	d.Password = "pa#ss" // only the old kubernetes-master writer breaks
	w := Warning(d, []string{"k8s-cp", "vsphere-cloud-provider"})
	if !strings.Contains(w, "could not tell what k8s-cp renders") || !strings.Contains(w, "#, ; or blanks at an end in password") {
		t.Errorf("warning %q", w)
	}
	if strings.Contains(w, "vsphere-cloud-provider") {
		t.Errorf("vsphere-cloud-provider reads # fine: %q", w)
	}
	if w := Warning(data(), []string{"k8s-cp"}); w != "" {
		t.Errorf("plain data breaks no rule, whoever reads it: %q", w)
	}
}

// TestWarningBounded: many applications, everything broken: the names are
// capped and the warning stays within MaxWarning, never holding a value.
func TestWarningBounded(t *testing.T) {
	d := relation.Data{VsphereIP: "https://vc.example:8443/x", User: `secret-user"`, Password: `secret-pass\#`, Datacenter: `d"c`, Datastore: `d"s`, Folder: `f"`, RespoolPath: `r\`}
	var apps []string
	for i := range 200 {
		apps = append(apps, fmt.Sprintf("application-with-a-rather-long-name-%03d", i))
	}
	apps = append(apps, "kubernetes-control-plane", "kubernetes-master", "vsphere-cloud-provider")
	w := Warning(d, apps)
	if len(w) > MaxWarning {
		t.Errorf("%d bytes: %q", len(w), w)
	}
	if !strings.Contains(w, "and 197 more") {
		t.Errorf("names not capped: %q", w)
	}
	for _, v := range []string{"secret-user", "secret-pass", "vc.example"} {
		if strings.Contains(w, v) {
			t.Errorf("warning holds a value %q: %q", v, w)
		}
	}
}

// TestTableComplete: every consumer says where its rules come from, and
// reads or ignores each key exactly once.
func TestTableComplete(t *testing.T) {
	for _, c := range Table {
		if c.Source == "" || c.Versions == "" || c.Renders == "" {
			t.Errorf("%s: source, versions and what it renders are required", c.ID)
		}
		seen := map[string]int{}
		for _, k := range append(append([]string{}, c.Reads...), c.Ignores...) {
			seen[k]++
		}
		for _, k := range relation.Keys {
			if seen[k] != 1 {
				t.Errorf("%s: key %s read or ignored %d times", c.ID, k, seen[k])
			}
		}
		for _, l := range c.Limits {
			for _, f := range l.Fields {
				if !contains(c.Reads, f) {
					t.Errorf("%s: a limit on %s, which it does not read", c.ID, f)
				}
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
