package consumer_test

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/gcfg.v1"
	"gopkg.in/yaml.v2"
	"k8s.io/apimachinery/pkg/util/validation"
	cloudprovider "k8s.io/cloud-provider"
	"k8s.io/legacy-cloud-providers/vsphere"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/cloudconfig"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers/consumerstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// readVSphereConfig reads s as the in-tree provider's readConfig does:
// gcfg.ReadInto, without FatalOnly, so data for an unknown section or key
// is an error.
func readVSphereConfig(s string) (vsphere.VSphereConfig, error) {
	var cfg vsphere.VSphereConfig
	err := gcfg.ReadStringInto(&cfg, s)
	return cfg, err
}

// checkInTree asserts that s gives back d and vmUUID exactly.
func checkInTree(t *testing.T, s string, d relation.Data, vmUUID string) {
	t.Helper()
	cfg, err := readVSphereConfig(s)
	if err != nil {
		t.Fatalf("VSphereConfig: %v\n%s", err, s)
	}
	vc := cfg.VirtualCenter[d.VsphereIP]
	if len(cfg.VirtualCenter) != 1 || vc == nil {
		t.Fatalf("VirtualCenter has %d entries, want only %q", len(cfg.VirtualCenter), d.VsphereIP)
	}
	// Every field of the type, so one the renderer should not set shows
	// up too.
	var want vsphere.VSphereConfig
	want.Global.InsecureFlag = true
	want.Global.Datacenters = d.Datacenter
	want.Global.VMUUID = "VMware-" + vmUUID
	want.Workspace.VCenterIP = d.VsphereIP
	want.Workspace.Datacenter = d.Datacenter
	want.Workspace.DefaultDatastore = d.Datastore
	want.Workspace.Folder = d.Folder
	want.Workspace.ResourcePoolPath = d.RespoolPath
	want.Disk.SCSIControllerType = "pvscsi"
	if cfg.Global != want.Global {
		t.Errorf("Global = %+v\nwant %+v", cfg.Global, want.Global)
	}
	if cfg.Workspace != want.Workspace {
		t.Errorf("Workspace = %+v\nwant %+v", cfg.Workspace, want.Workspace)
	}
	if cfg.Disk != want.Disk || cfg.Network != want.Network || cfg.Labels != want.Labels {
		t.Errorf("Disk, Network, Labels = %+v %+v %+v", cfg.Disk, cfg.Network, cfg.Labels)
	}
	if wantVC := (vsphere.VirtualCenterConfig{User: d.User, Password: d.Password}); *vc != wantVC {
		t.Errorf("VirtualCenter[%q] = %+v\nwant %+v", d.VsphereIP, *vc, wantVC)
	}
}

// The CPI's view of vsphere.conf, with the yaml keys of
// kubernetes/cloud-provider-vsphere pkg/common/config (CommonConfigYAML).
type cpiVC struct {
	User            string   `yaml:"user"`
	Password        string   `yaml:"password"`
	VCenterIP       string   `yaml:"server"`
	VCenterPort     uint     `yaml:"port"`
	InsecureFlag    bool     `yaml:"insecureFlag"`
	Datacenters     []string `yaml:"datacenters"`
	SecretName      string   `yaml:"secretName"`
	SecretNamespace string   `yaml:"secretNamespace"`
}

type cpiConf struct {
	Global  cpiVC
	Vcenter map[string]*cpiVC
}

func checkCPI(t *testing.T, c cloudconfig.CPIConfig, d relation.Data) {
	t.Helper()
	var conf cpiConf
	if err := yaml.UnmarshalStrict([]byte(c.VsphereConf), &conf); err != nil {
		t.Fatalf("yaml.v2: %v\n%s", err, c.VsphereConf)
	}
	wantGlobal := cpiVC{VCenterPort: 443, InsecureFlag: true, SecretName: cloudconfig.CPISecretName, SecretNamespace: cloudconfig.CPISecretNamespace}
	if !equalVC(conf.Global, wantGlobal) {
		t.Errorf("global = %+v\nwant %+v", conf.Global, wantGlobal)
	}
	vc := conf.Vcenter[d.Datacenter]
	if len(conf.Vcenter) != 1 || vc == nil {
		t.Fatalf("vcenter has %d entries, want only %q", len(conf.Vcenter), d.Datacenter)
	}
	wantVC := cpiVC{VCenterIP: d.VsphereIP, SecretName: cloudconfig.CPISecretName, SecretNamespace: cloudconfig.CPISecretNamespace}
	if !equalVC(*vc, wantVC) {
		t.Errorf("vcenter[%q] = %+v\nwant %+v", d.Datacenter, *vc, wantVC)
	}
	if len(c.Secret) != 2 || c.Secret[d.VsphereIP+".username"] != d.User || c.Secret[d.VsphereIP+".password"] != d.Password {
		t.Errorf("Secret = %q", c.Secret)
	}
	for k := range c.Secret {
		if errs := validation.IsConfigMapKey(k); len(errs) > 0 {
			t.Errorf("Secret key %q: %s", k, strings.Join(errs, "; "))
		}
	}

	// And the action's two-document stream, read by yaml.v2 too.
	out, err := c.YAML()
	if err != nil {
		t.Fatal(err)
	}
	docs := strings.SplitN(out, "\n---\n", 2)
	var again cpiConf
	var secret map[string]string
	if len(docs) != 2 {
		t.Fatalf("want two YAML documents:\n%s", out)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[0]), &again); err != nil {
		t.Fatalf("document 1: %v\n%s", err, out)
	}
	if err := yaml.UnmarshalStrict([]byte(docs[1]), &secret); err != nil {
		t.Fatalf("document 2: %v\n%s", err, out)
	}
	if again.Vcenter[d.Datacenter] == nil || again.Vcenter[d.Datacenter].VCenterIP != d.VsphereIP {
		t.Errorf("stream document 1 reads %+v", again.Vcenter)
	}
	if len(secret) != 2 || secret[d.VsphereIP+".password"] != d.Password || secret[d.VsphereIP+".username"] != d.User {
		t.Errorf("stream document 2 reads %q", secret)
	}
}

func equalVC(a, b cpiVC) bool {
	return a.User == b.User && a.Password == b.Password && a.VCenterIP == b.VCenterIP &&
		a.VCenterPort == b.VCenterPort && a.InsecureFlag == b.InsecureFlag && len(a.Datacenters) == len(b.Datacenters) &&
		a.SecretName == b.SecretName && a.SecretNamespace == b.SecretNamespace
}

var cases = []struct {
	name string
	d    relation.Data
}{
	{"plain", relation.Data{VsphereIP: "10.0.0.1", User: "administrator@vsphere.local", Password: "Passw0rd!", Datacenter: "DC0", Datastore: "datastore1", Folder: "juju-kubernetes"}},
	{"what broke kubernetes-master", relation.Data{
		VsphereIP: "vcenter.example.com", User: `DOMAIN\k8s`, Password: `p"a\s#s;w` + "\to\nrd ", Datacenter: "DC #1; east",
		Datastore: `"ds"`, Folder: `/DC #1; east/vm/k8s\`, RespoolPath: "/DC #1; east/host/cluster/Resources/k8s;1",
	}},
	{"unicode", relation.Data{VsphereIP: "vc-ü.example", User: "ユーザー", Password: "pässwörd \U0001F511 \u2028\ufeff", Datacenter: "Zürich", Datastore: "ds", Folder: "f"}},
	{"long", relation.Data{VsphereIP: "10.0.0.1", User: strings.Repeat("u", 10000), Password: strings.Repeat(`"\;#`, 20000), Datacenter: "DC0", Datastore: "ds", Folder: "f"}},
}

func TestInTreeReadsBackWithVSphereConfig(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cloudconfig.InTree(tt.d, "4228-13f5")
			if err != nil {
				t.Fatal(err)
			}
			checkInTree(t, s, tt.d, "4228-13f5")
		})
	}
}

// TestInTreeProviderAccepts goes through the provider's own registration:
// its readConfig and its checks on the result (workspace complete, user
// and password set, SCSI controller type supported). It does not connect
// to vCenter.
func TestInTreeProviderAccepts(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s, err := cloudconfig.InTree(tt.d, "4228-13f5")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := cloudprovider.GetCloudProvider(vsphere.ProviderName, strings.NewReader(s)); err != nil {
				t.Fatalf("the in-tree provider rejects the config: %v\n%s", err, s)
			}
		})
	}
	// The proof that the check can fail: an unknown key is an error.
	_, err := cloudprovider.GetCloudProvider(vsphere.ProviderName, strings.NewReader("[Global]\nno-such-key = 1\n"))
	if err == nil {
		t.Fatal("the provider accepted an unknown key; the strictness this test relies on is gone")
	}
}

func TestActionOutputReadsBack(t *testing.T) {
	d := cases[1].d
	s, err := cloudconfig.Render(d, cloudconfig.Options{VMUUID: "VMware-4228"})
	if err != nil {
		t.Fatal(err)
	}
	hidden := d
	hidden.Password = cloudconfig.PasswordMarker
	checkInTree(t, s, hidden, "4228")
}

func TestCPIReadsBackWithYAMLv2(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d.VsphereIP == "vc-ü.example" {
				_, err := cloudconfig.CPI(d)
				if !errors.Is(err, cloudconfig.ErrSecretKey) {
					t.Fatalf("err = %v, want ErrSecretKey: %q is no Secret key", err, d.VsphereIP+".username")
				}
				return
			}
			c, err := cloudconfig.CPI(d)
			if err != nil {
				t.Fatal(err)
			}
			checkCPI(t, c, d)
		})
	}
}

func TestProviderIDReadsBack(t *testing.T) {
	id, err := consumerstest.ProviderID("VMware-42 28 13 f5 0b d4 4c 3e-8f 39 d2 6f 1c 05 b7 0d\n")
	if err != nil {
		t.Fatal(err)
	}
	if got := vsphere.GetUUIDFromProviderID(id); got != "422813f5-0bd4-4c3e-8f39-d26f1c05b70d" {
		t.Errorf("the provider reads %q as UUID %q", id, got)
	}
}
