package cloudconfig

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/gcfg.v1"
	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// The parsers' view of each format, field names and gcfg tags as in the
// consumers' config types (the in-tree VSphereConfig itself is exercised
// in the tests module, which can afford the Kubernetes dependency).
type inTreeVC struct {
	User     string `gcfg:"user"`
	Password string `gcfg:"password"`
}

type inTreeConf struct {
	Global struct {
		InsecureFlag bool   `gcfg:"insecure-flag"`
		Datacenters  string `gcfg:"datacenters"`
		VMUUID       string `gcfg:"vm-uuid"`
	}
	VirtualCenter map[string]*inTreeVC
	Workspace     struct {
		VCenterIP        string `gcfg:"server"`
		Datacenter       string `gcfg:"datacenter"`
		Folder           string `gcfg:"folder"`
		DefaultDatastore string `gcfg:"default-datastore"`
		ResourcePoolPath string `gcfg:"resourcepool-path"`
	}
	Disk struct {
		SCSIControllerType string
	}
}

type csiVC struct {
	User         string `gcfg:"user"`
	Password     string `gcfg:"password"`
	VCenterPort  string `gcfg:"port"`
	InsecureFlag bool   `gcfg:"insecure-flag"`
	Datacenters  string `gcfg:"datacenters"`
}

type csiConf struct {
	Global struct {
		ClusterID string `gcfg:"cluster-id"`
	}
	VirtualCenter map[string]*csiVC
}

type cpiVC struct {
	VCenterIP       string `yaml:"server"`
	SecretName      string `yaml:"secretName"`
	SecretNamespace string `yaml:"secretNamespace"`
}

type cpiConf struct {
	Global struct {
		VCenterPort     uint   `yaml:"port"`
		InsecureFlag    bool   `yaml:"insecureFlag"`
		SecretName      string `yaml:"secretName"`
		SecretNamespace string `yaml:"secretNamespace"`
	} `yaml:"global"`
	Vcenter map[string]*cpiVC `yaml:"vcenter"`
}

// parseInTree reads s strictly (unknown keys are errors, as in the in-tree
// provider's readConfig) and checks it gives back d and vmUUID exactly.
func parseInTree(t *testing.T, s string, d relation.Data, vmUUID string) {
	t.Helper()
	var c inTreeConf
	if err := gcfg.ReadStringInto(&c, s); err != nil {
		t.Fatalf("gcfg: %v\n%s", err, s)
	}
	vc := c.VirtualCenter[d.VsphereIP]
	if len(c.VirtualCenter) != 1 || vc == nil {
		t.Fatalf("VirtualCenter = %q, want only %q", slices.Collect(mapsKeys(c.VirtualCenter)), d.VsphereIP)
	}
	check(t, "Global.insecure-flag", c.Global.InsecureFlag, true)
	check(t, "Global.datacenters", c.Global.Datacenters, d.Datacenter)
	check(t, "Global.vm-uuid", c.Global.VMUUID, "VMware-"+vmUUID)
	check(t, "VirtualCenter.user", vc.User, d.User)
	check(t, "VirtualCenter.password", vc.Password, d.Password)
	check(t, "Workspace.server", c.Workspace.VCenterIP, d.VsphereIP)
	check(t, "Workspace.datacenter", c.Workspace.Datacenter, d.Datacenter)
	check(t, "Workspace.default-datastore", c.Workspace.DefaultDatastore, d.Datastore)
	check(t, "Workspace.folder", c.Workspace.Folder, d.Folder)
	check(t, "Workspace.resourcepool-path", c.Workspace.ResourcePoolPath, d.RespoolPath)
	check(t, "Disk.scsicontrollertype", c.Disk.SCSIControllerType, "pvscsi")
}

func parseCSI(t *testing.T, s string, d relation.Data, clusterID string) {
	t.Helper()
	var c csiConf
	if err := gcfg.ReadStringInto(&c, s); err != nil {
		t.Fatalf("gcfg: %v\n%s", err, s)
	}
	vc := c.VirtualCenter[d.VsphereIP]
	if len(c.VirtualCenter) != 1 || vc == nil {
		t.Fatalf("VirtualCenter = %q, want only %q", slices.Collect(mapsKeys(c.VirtualCenter)), d.VsphereIP)
	}
	check(t, "Global.cluster-id", c.Global.ClusterID, clusterID)
	check(t, "VirtualCenter.insecure-flag", vc.InsecureFlag, true)
	check(t, "VirtualCenter.user", vc.User, d.User)
	check(t, "VirtualCenter.password", vc.Password, d.Password)
	check(t, "VirtualCenter.port", vc.VCenterPort, "443")
	check(t, "VirtualCenter.datacenters", vc.Datacenters, d.Datacenter)
}

func parseCPI(t *testing.T, c CPIConfig, d relation.Data) {
	t.Helper()
	var conf cpiConf
	if err := yaml.Unmarshal([]byte(c.VsphereConf), &conf); err != nil {
		t.Fatalf("yaml: %v\n%s", err, c.VsphereConf)
	}
	vc := conf.Vcenter[d.Datacenter]
	if len(conf.Vcenter) != 1 || vc == nil {
		t.Fatalf("vcenter = %q, want only %q", slices.Collect(mapsKeys(conf.Vcenter)), d.Datacenter)
	}
	check(t, "global.port", conf.Global.VCenterPort, 443)
	check(t, "global.insecureFlag", conf.Global.InsecureFlag, true)
	check(t, "global.secretName", conf.Global.SecretName, CPISecretName)
	check(t, "global.secretNamespace", conf.Global.SecretNamespace, CPISecretNamespace)
	check(t, "vcenter.server", vc.VCenterIP, d.VsphereIP)
	check(t, "vcenter.secretName", vc.SecretName, CPISecretName)
	check(t, "vcenter.secretNamespace", vc.SecretNamespace, CPISecretNamespace)
	check(t, "secret username", c.Secret[d.VsphereIP+".username"], d.User)
	check(t, "secret password", c.Secret[d.VsphereIP+".password"], d.Password)

	// The Secret as the action shows it must parse back too.
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(out))
	var again cpiConf
	var secret map[string]string
	if err := dec.Decode(&again); err != nil {
		t.Fatalf("yaml stream, document 1: %v\n%s", err, out)
	}
	if err := dec.Decode(&secret); err != nil {
		t.Fatalf("yaml stream, document 2: %v\n%s", err, out)
	}
	check(t, "stream vcenter.server", again.Vcenter[d.Datacenter].VCenterIP, d.VsphereIP)
	check(t, "stream secret password", secret[d.VsphereIP+".password"], d.Password)
	check(t, "stream secret keys", len(secret), 2)
}

func check[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// hard is a relation payload with every character the field consumers
// broke on.
func hard() relation.Data {
	return relation.Data{
		VsphereIP:   `vc "east"\1`,
		User:        `k8s@vsphere.local`,
		Password:    "p\"a\\s#s;w\to\nrd é ;#",
		Datacenter:  "DC 0; #1",
		Datastore:   `ds"1`,
		Folder:      "/DC 0/vm/k8s #1\\",
		RespoolPath: "",
	}
}

func TestRenderGolden(t *testing.T) {
	cpiData := hard()
	cpiData.VsphereIP = "vc-east.example.com"
	tests := []struct {
		name string
		d    relation.Data
		o    Options
	}{
		{"in-tree", hard(), Options{VMUUID: "4228-13F5-0BD4", ShowPassword: true}},
		{"in-tree-hidden", hard(), Options{}},
		{"csi", hard(), Options{Format: formatCSI, ClusterID: "9f2d4c8e-model-uuid", ShowPassword: true}},
		{"csi-hidden", hard(), Options{Format: formatCSI}},
		{"cpi", cpiData, Options{Format: formatCPI, ShowPassword: true}},
		{"cpi-hidden", cpiData, Options{Format: formatCPI}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(tt.d, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tt.name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("Render differs from %s (run with -update to accept):\n got:\n%s\nwant:\n%s", golden, got, want)
			}
			if !tt.o.ShowPassword && strings.Contains(got, "rd é") {
				t.Errorf("hidden output shows the password:\n%s", got)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		d    relation.Data
	}{
		{"hard", hard()},
		{"plain", relation.Data{VsphereIP: "10.0.0.1", User: "u", Password: "p", Datacenter: "dc", Datastore: "ds", Folder: "f"}},
		{"unicode and controls", relation.Data{VsphereIP: "vc\tü\r", User: "\x01\x1b\u2028", Password: "\ufeff日本\U0001F600", Datacenter: "[x]", Datastore: "=", Folder: " lead", RespoolPath: "trail \\"}},
		{"long", relation.Data{VsphereIP: strings.Repeat("v", 5000), User: strings.Repeat("ü", 5000), Password: strings.Repeat(`"\`, 50000), Datacenter: "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			t.Run("csi", func(t *testing.T) {
				s, err := CSI(d, "cluster;#1")
				if err != nil {
					t.Fatal(err)
				}
				parseCSI(t, s, d, "cluster;#1")
			})
			if strings.Contains(d.VsphereIP, "\r") {
				return // in-tree also writes the server as a value
			}
			t.Run("in-tree", func(t *testing.T) {
				s, err := InTree(d, "42 28;#")
				if err != nil {
					t.Fatal(err)
				}
				parseInTree(t, s, d, "42 28;#")
			})
		})
	}
	t.Run("cpi", func(t *testing.T) {
		d := hard()
		d.VsphereIP = "10.0.0.1"
		c, err := CPI(d)
		if err != nil {
			t.Fatal(err)
		}
		parseCPI(t, c, d)
	})
}

// fieldErrs flattens an error into the *FieldErrors it holds.
func fieldErrs(err error) []*FieldError {
	var out []*FieldError
	var walk func(error)
	walk = func(err error) {
		var fe *FieldError
		switch x := err.(type) {
		case interface{ Unwrap() []error }:
			for _, e := range x.Unwrap() {
				walk(e)
			}
		default:
			if errors.As(err, &fe) {
				out = append(out, fe)
			}
		}
	}
	if err != nil {
		walk(err)
	}
	return out
}

func TestUncarriable(t *testing.T) {
	ok := relation.Data{VsphereIP: "vc", User: "u", Password: "p", Datacenter: "dc", Datastore: "ds", Folder: "f"}
	mod := func(f func(*relation.Data)) relation.Data { d := ok; f(&d); return d }
	type want struct {
		field string
		err   error
	}
	tests := []struct {
		name   string
		format Format
		d      relation.Data
		vmUUID string
		want   []want
	}{
		{"password CR", formatInTree, mod(func(d *relation.Data) { d.Password = "a\rb" }), "", []want{{"password", errCarriageReturn}}},
		{"password CR, csi", formatCSI, mod(func(d *relation.Data) { d.Password = "a\r\nb" }), "", []want{{"password", errCarriageReturn}}},
		{"user NUL", formatCSI, mod(func(d *relation.Data) { d.User = "a\x00" }), "", []want{{"user", errNUL}}},
		{"folder invalid UTF-8", formatInTree, mod(func(d *relation.Data) { d.Folder = "\xff" }), "", []want{{"folder", ErrInvalidUTF8}}},
		{"server newline", formatInTree, mod(func(d *relation.Data) { d.VsphereIP = "a\nb" }), "", []want{{"vsphere_ip", errNewlineInName}}},
		{"server newline, csi", formatCSI, mod(func(d *relation.Data) { d.VsphereIP = "a\nb" }), "", []want{{"vsphere_ip", errNewlineInName}}},
		{"server CR: a value in in-tree", formatInTree, mod(func(d *relation.Data) { d.VsphereIP = "a\rb" }), "", []want{{"vsphere_ip", errCarriageReturn}}},
		{"server empty", formatCSI, mod(func(d *relation.Data) { d.VsphereIP = "" }), "", []want{{"vsphere_ip", ErrEmptyServer}}},
		{"server empty, cpi", formatCPI, mod(func(d *relation.Data) { d.VsphereIP = "" }), "", []want{{"vsphere_ip", ErrEmptyServer}}},
		{"server not a Secret key", formatCPI, mod(func(d *relation.Data) { d.VsphereIP = "fe80::1" }), "", []want{{"vsphere_ip", ErrSecretKey}}},
		{"server too long for a Secret key", formatCPI, mod(func(d *relation.Data) { d.VsphereIP = strings.Repeat("a", 245) }), "", []want{{"vsphere_ip", ErrSecretKey}}},
		{"server starting with ..", formatCPI, mod(func(d *relation.Data) { d.VsphereIP = "..vc" }), "", []want{{"vsphere_ip", ErrSecretKey}}},
		{"cpi invalid UTF-8", formatCPI, mod(func(d *relation.Data) { d.Password = "\xc3"; d.User = "\xff" }), "", []want{{"password", ErrInvalidUTF8}, {"user", ErrInvalidUTF8}}},
		{"vm-uuid CR", formatInTree, ok, "4\r2", []want{{"vm-uuid", errCarriageReturn}}},
		{
			"every bad field named once", formatInTree,
			mod(func(d *relation.Data) { d.Password = "\r\r\x00"; d.Datacenter = "\r"; d.VsphereIP = "\x00" }), "",
			[]want{{"datacenter", errCarriageReturn}, {"vsphere_ip", errNUL}, {"password", errCarriageReturn}, {"password", errNUL}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, show := range []bool{true, false} {
				out, err := Render(tt.d, Options{Format: tt.format, VMUUID: tt.vmUUID, ShowPassword: show})
				if err == nil {
					t.Fatalf("show-password=%v: no error; rendered:\n%s", show, out)
				}
				got := fieldErrs(err)
				if len(got) != len(tt.want) {
					t.Fatalf("got %d field errors, want %d: %v", len(got), len(tt.want), err)
				}
				for i, w := range tt.want {
					if got[i].Field != w.field || !errors.Is(got[i], w.err) {
						t.Errorf("error %d = %v, want %s: %v", i, got[i], w.field, w.err)
					}
					if !errors.Is(err, w.err) {
						t.Errorf("errors.Is(err, %v) = false", w.err)
					}
				}
			}
		})
	}
}

func TestUncarriableMessage(t *testing.T) {
	_, err := InTree(relation.Data{VsphereIP: "vc", Password: "secret\rvalue"}, "")
	want := "password: contains a carriage return, which gcfg cannot carry"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestRenderOptions(t *testing.T) {
	d := hard()
	t.Run("placeholders", func(t *testing.T) {
		s, err := Render(d, Options{})
		if err != nil {
			t.Fatal(err)
		}
		parseInTree(t, s, withPassword(d, PasswordMarker), placeholderVMUUID)
		s, err = Render(d, Options{Format: formatCSI})
		if err != nil {
			t.Fatal(err)
		}
		parseCSI(t, s, withPassword(d, PasswordMarker), placeholderClusterID)
	})
	t.Run("vm-uuid prefix and space dropped", func(t *testing.T) {
		s, err := Render(d, Options{VMUUID: " VMware-4228\n", ShowPassword: true})
		if err != nil {
			t.Fatal(err)
		}
		parseInTree(t, s, d, "4228")
	})
	t.Run("format", func(t *testing.T) {
		for in, want := range map[string]Format{"": formatInTree, "in-tree": formatInTree, "cpi": formatCPI, "csi": formatCSI} {
			if got, err := ParseFormat(in); err != nil || got != want {
				t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
			}
		}
		for _, bad := range []string{"intree", "CSI", "ini"} {
			if _, err := ParseFormat(bad); !errors.Is(err, errUnknownFormat) {
				t.Errorf("ParseFormat(%q) err = %v, want errUnknownFormat", bad, err)
			}
			if _, err := Render(d, Options{Format: Format(bad)}); !errors.Is(err, errUnknownFormat) {
				t.Errorf("Render(format %q) err = %v, want errUnknownFormat", bad, err)
			}
		}
	})
}

func withPassword(d relation.Data, p string) relation.Data {
	d.Password = p
	return d
}
