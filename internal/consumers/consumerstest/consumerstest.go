// Package consumerstest emulates the consumers: how each decodes the
// relation data (requirer.go, docs/relation.md), how each writes its files
// from it, exactly as their charms build them (docs/consumers.md), and the
// kubelet's provider-id (providerid.go). It generates the data the tests
// feed through them: addresses, users and passwords. The parsers are the consumers' own, in tests/ (a module of
// their own keeps the Kubernetes code out of the charm's go.mod).
package consumerstest

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// VMUUID is the vm-uuid the in-tree writers are given.
const VMUUID = "422813f5-0bd4-4c3e-8f39-d26f1c05b70d"

// ClusterID is the cluster-id the CSI writer is given (a model UUID).
const ClusterID = "8d3b1a9e-4f1c-4d2a-9a57-0c1e2f3a4b5c"

// InTree is kubernetes-control-plane's writer (release_1.28
// _write_vsphere_snap_config, also kubernetes-master's from 99bdc92): each
// value pasted between double quotes by Python's str.format, no escaping,
// lines joined by "\n" with none at the end.
func InTree(d relation.Data) string {
	return strings.Join([]string{
		"[Global]",
		"insecure-flag = true",
		`datacenters = "` + d.Datacenter + `"`,
		`vm-uuid = "VMware-` + VMUUID + `"`,
		`[VirtualCenter "` + d.VsphereIP + `"]`,
		`user = "` + d.User + `"`,
		`password = "` + d.Password + `"`,
		"[Workspace]",
		`server = "` + d.VsphereIP + `"`,
		`datacenter = "` + d.Datacenter + `"`,
		`default-datastore = "` + d.Datastore + `"`,
		`folder = "` + d.Folder + `"`,
		`resourcepool-path = "` + d.RespoolPath + `"`,
		"[Disk]",
		`scsicontrollertype = "pvscsi"`,
	}, "\n")
}

// InTreeUnquoted is kubernetes-master's writer before 99bdc92 ("quote
// vsphere attrs", 2021-03-25): the same, but password and server bare;
// user was already quoted.
func InTreeUnquoted(d relation.Data) string {
	return strings.Join([]string{
		"[Global]",
		"insecure-flag = true",
		`datacenters = "` + d.Datacenter + `"`,
		`vm-uuid = "VMware-` + VMUUID + `"`,
		`[VirtualCenter "` + d.VsphereIP + `"]`,
		`user = "` + d.User + `"`,
		"password = " + d.Password,
		"[Workspace]",
		"server = " + d.VsphereIP,
		`datacenter = "` + d.Datacenter + `"`,
		`default-datastore = "` + d.Datastore + `"`,
		`folder = "` + d.Folder + `"`,
		`resourcepool-path = "` + d.RespoolPath + `"`,
		"[Disk]",
		`scsicontrollertype = "pvscsi"`,
	}, "\n")
}

// CSI is vsphere-cloud-provider's csi-vsphere.conf (src/storage_manifests.py):
// a Python f-string, no escaping.
func CSI(d relation.Data) string {
	return "[Global]\n" +
		`cluster-id = "` + ClusterID + "\"\n" +
		"\n" +
		`[VirtualCenter "` + d.VsphereIP + "\"]\n" +
		`insecure-flag = "true"` + "\n" +
		`user = "` + d.User + "\"\n" +
		`password = "` + d.Password + "\"\n" +
		`port = "443"` + "\n" +
		`datacenters = "` + d.Datacenter + "\"\n"
}

// CPI is vsphere-cloud-provider's ConfigMap key vsphere.conf
// (src/provider_manifests.py, yaml.safe_dump of a dict) and its Secret's
// stringData, "<server>.username" and "<server>.password". Any correct YAML
// emitter gives what safe_dump gives to a reader.
func CPI(d relation.Data) (vsphereConf string, secret map[string]string) {
	conf := map[string]any{
		"global": map[string]any{"port": 443, "insecureFlag": true, "secretName": "vsphere-cloud-secret", "secretNamespace": "kube-system"},
		"vcenter": map[string]any{
			d.Datacenter: map[string]any{"server": d.VsphereIP, "secretName": "vsphere-cloud-secret", "secretNamespace": "kube-system"},
		},
	}
	out, err := yaml.Marshal(conf)
	if err != nil {
		panic(err) // a map of strings always encodes
	}
	return string(out), map[string]string{d.VsphereIP + ".username": d.User, d.VsphereIP + ".password": d.Password}
}

// Addresses, Users and Passwords are what the generated test crosses: the
// forms the README advertises and the characters the rules are about. None
// holds a control character: the charm refuses those before publishing.
var (
	Addresses = []string{
		"10.0.0.1", "vc.example.com", "VC.Example.COM", "vc-ü.example", "fd00::1", "vc.password.example",
		"vc.example.com:443", "https://vc.example.com", "https://vc.example.com:443/sdk", "[fd00::1]:443",
		"vc.example.com:8443", "https://vc.example.com:8443/sdk", "https://vc.example.com/custom",
	}
	Users = []string{
		"administrator@vsphere.local", `VSPHERE.LOCAL\k8s`, "k8sadmin", "k8s admin@vsphere.local",
		"jürgen@vsphere.local", `us"er@vsphere.local`, "k8s#1@vsphere.local", " k8s@vsphere.local",
	}
	Passwords = []string{
		"Passw0rd!", `pa"ss`, `back\slash`, `ends with\`, "hash#tag", "semi;colon", " spaces around ",
		"pässwörd 🔑", `"quoted"`, "=;#[]",
	}
)

// Case is one set of inputs and what the charm publishes for it.
type Case struct {
	Given     string // vsphere_ip as configured
	Published relation.Data
}

// Cases crosses Addresses, Users and Passwords with plain other fields.
func Cases() []Case {
	var cs []Case
	for _, a := range Addresses {
		for _, u := range Users {
			for _, p := range Passwords {
				d := relation.Data{VsphereIP: a, User: u, Password: p, Datacenter: "DC #1; east", Datastore: "ds 1", Folder: "/DC #1; east/vm/k8s", RespoolPath: "cluster/Resources"}
				cs = append(cs, Case{Given: a, Published: consumers.Published(d)})
			}
		}
	}
	return cs
}

// Server is where the check connects for the address given: host, port
// and path. A consumer reads the address back when it connects to the same.
type Server struct{ Host, Port, Path string }

// Want is the server the address given names.
func Want(given string) (Server, error) {
	u, err := vsphere.ParseServer(given)
	if err != nil {
		return Server{}, err
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	return Server{Host: u.Hostname(), Port: port, Path: u.Path}, nil
}

// Got is the server a consumer connects to from the host and port it read:
// every consumer puts them together with net.JoinHostPort and the path
// /sdk.
func Got(host, port string) Server {
	if port == "" || port == "0" {
		port = "443"
	}
	return Server{Host: host, Port: port, Path: "/sdk"}
}

// Readback is what one consumer's parser gave back, field by field.
type Readback struct {
	// Rejected is the parser's error, when it refused the file.
	Rejected error
	// Wrong lists the relation keys read back differently.
	Wrong []string
}

// OK is whether everything read back exactly.
func (r Readback) OK() bool { return r.Rejected == nil && len(r.Wrong) == 0 }

// Compare adds key to Wrong when got differs from want.
func (r *Readback) Compare(key, got, want string) {
	if got != want {
		r.Wrong = append(r.Wrong, key)
	}
}

// Agrees checks one consumer's readback against the rules and the status:
// a consumer that read everything back has no rule broken; one that did not
// has at least one, naming every field it read wrong, and the status
// warning for app names app and each of those fields.
func Agrees(c *consumers.Consumer, app string, d relation.Data, r Readback) error {
	breaks := c.Breaks(d)
	fields := map[string]bool{}
	for _, b := range breaks {
		fields[b.Field] = true
	}
	switch {
	case r.OK() && len(breaks) > 0:
		return fmt.Errorf("%s read everything back, yet the rules say %s %s", c.ID, breaks[0].Field, breaks[0].What)
	case !r.OK() && len(breaks) == 0:
		return fmt.Errorf("%s did not read it back (%v, wrong %v), and no rule says so", c.ID, r.Rejected, r.Wrong)
	}
	for _, k := range r.Wrong {
		if !fields[k] {
			return fmt.Errorf("%s read %s back wrong, and no rule names that field", c.ID, k)
		}
	}
	if len(breaks) == 0 {
		return nil
	}
	w := consumers.Warning(d, []string{app})
	if !strings.Contains(w, app+" cannot read") {
		return fmt.Errorf("the status does not name %s: %q", app, w)
	}
	for f := range fields {
		if !strings.Contains(w, f) {
			return fmt.Errorf("the status does not name %s: %q", f, w)
		}
	}
	return nil
}
