// Package consumers is the one table of what each known consumer of the
// vsphere-integration relation reads, cannot carry and ignores
// (docs/consumers.md), the vsphere_ip the charm publishes for them, and the
// status warning that names the related applications a rule will break.
//
// The charm sees only a remote application's name. A name it knows picks
// that consumer's rules; kubernetes-worker renders nothing and is never
// named; any other name gets every consumer's rules, and the warning says
// the charm could not tell what that application renders.
package consumers

import (
	"regexp"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// Consumer is one writer of a file from the relation data, and the parser
// that reads the file.
type Consumer struct {
	// ID names the consumer in tests and docs.
	ID string
	// Renders is the file it writes, and who reads it.
	Renders string
	// Apps are the charm names it is deployed under.
	Apps []string
	// Versions the rules apply to.
	Versions string
	// Source of the writer and of the parser.
	Source string
	// Reads and Ignores are relation keys.
	Reads, Ignores []string
	// Limits are what it cannot carry.
	Limits []Limit
}

// Limit is one thing a consumer cannot carry in some fields.
type Limit struct {
	Fields []string
	// What a status says the fields hold: "a port or path" (in vsphere_ip).
	What string
	// Breaks reports whether a published value is beyond the consumer.
	Breaks func(v string) bool
}

// The consumers' IDs.
const (
	InTree    = "in-tree"
	InTreeOld = "in-tree-unquoted"
	Worker    = "kubelet"
	CPI       = "cpi"
	CSI       = "csi"
)

var allKeys = []string{
	relation.KeyVsphereIP, relation.KeyUser, relation.KeyPassword, relation.KeyDatacenter,
	relation.KeyDatastore, relation.KeyFolder, relation.KeyRespoolPath,
}

// The limits several consumers share.
var (
	portOrPath = Limit{
		Fields: []string{relation.KeyVsphereIP},
		What:   "a port or path",
		Breaks: func(v string) bool { return !IsBareHost(v) },
	}
	// gcfg reads only \\ \" \n \t escapes between quotes, and a bare " ends
	// the value: the writers paste values between quotes without escaping.
	quoteOrBackslash = func(fields ...string) Limit {
		return Limit{Fields: fields, What: `" or \`, Breaks: func(v string) bool { return strings.ContainsAny(v, `"\`) }}
	}
)

// csiUser is the vSphere CSI driver's rule for a user
// (pkg/common/config/config.go, isValidvCenterUsernameWithDomain).
var csiUser = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+\\[a-zA-Z0-9._-]+|[a-zA-Z0-9._-]+@[a-zA-Z0-9.-]+)$`)

// secretKey is the API server's rule for a Secret key
// (k8s.io/apimachinery validation.IsConfigMapKey).
var secretKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// Table is every known consumer, as docs/consumers.md lists them.
var Table = []Consumer{
	{
		ID:       InTree,
		Renders:  "cloud-config.conf, read by the in-tree vSphere provider (gcfg, k8s.io/legacy-cloud-providers)",
		Apps:     []string{"kubernetes-control-plane", "kubernetes-master"},
		Versions: "Charmed Kubernetes 1.21 to 1.28 (kubernetes-master from 99bdc92, 2021-03-25, then kubernetes-control-plane to release_1.28)",
		Source:   "charm-kubernetes-control-plane reactive/kubernetes_control_plane.py _write_vsphere_snap_config (Python .format); legacy-cloud-providers v0.29 vsphere VSphereConfig",
		Reads:    allKeys,
		Limits:   []Limit{portOrPath, quoteOrBackslash(allKeys...)},
	},
	{
		ID:       InTreeOld,
		Renders:  "cloud-config.conf with password and server unquoted, read by the in-tree vSphere provider",
		Apps:     []string{"kubernetes-master"},
		Versions: "Charmed Kubernetes 1.12 to 1.20 (kubernetes-master from 3984b17, 2018, up to 99bdc92, 2021-03-25)",
		Source:   "charm-kubernetes-master reactive/kubernetes_master.py _write_vsphere_snap_config before 99bdc92 \"quote vsphere attrs\"",
		Reads:    allKeys,
		Limits: []Limit{portOrPath, quoteOrBackslash(allKeys...), {
			// An unquoted gcfg value ends at ; or # and loses the blanks
			// around it.
			Fields: []string{relation.KeyPassword, relation.KeyVsphereIP},
			What:   "#, ; or blanks at an end",
			Breaks: func(v string) bool { return strings.ContainsAny(v, "#;") || strings.TrimSpace(v) != v },
		}},
	},
	{
		ID:       Worker,
		Renders:  "nothing: the joined relation alone adds --cloud-provider=vsphere and --provider-id to kubelet",
		Apps:     []string{"kubernetes-worker"},
		Versions: "Charmed Kubernetes 1.12 to 1.28",
		Source:   "charm-kubernetes-worker reactive/kubernetes_worker.py; layer-kubernetes-common _get_vmware_uuid (product_serial)",
		Ignores:  allKeys,
	},
	{
		ID:       CPI,
		Renders:  "ConfigMap vsphere-cloud-config (vsphere.conf, yaml.safe_dump) and Secret vsphere-cloud-secret (<server>.username, <server>.password), read by the CPI",
		Apps:     []string{"vsphere-cloud-provider"},
		Versions: "vsphere-cloud-provider charm (Kubernetes 1.29 and later), cloud-provider-vsphere v1.31.1",
		Source:   "charm vsphere-cloud-provider src/provider_manifests.py; cloud-provider-vsphere ReadCPIConfig and pkg/common/credentialmanager; apimachinery IsConfigMapKey",
		Reads:    []string{relation.KeyVsphereIP, relation.KeyUser, relation.KeyPassword, relation.KeyDatacenter},
		Ignores:  []string{relation.KeyDatastore, relation.KeyFolder, relation.KeyRespoolPath},
		Limits: []Limit{portOrPath, {
			Fields: []string{relation.KeyVsphereIP},
			What:   "a host unfit for Secret key names",
			Breaks: func(v string) bool { return IsBareHost(v) && !cpiSecretServer(v) },
		}},
	},
	{
		ID:       CSI,
		Renders:  "Secret vsphere-config-secret (csi-vsphere.conf, a Python f-string), read by the vSphere CSI driver",
		Apps:     []string{"vsphere-cloud-provider"},
		Versions: "vsphere-cloud-provider charm (Kubernetes 1.29 and later), vsphere-csi-driver v3.3.1",
		Source:   "charm vsphere-cloud-provider src/storage_manifests.py; vsphere-csi-driver pkg/common/config ReadConfig (validateConfig)",
		Reads:    []string{relation.KeyVsphereIP, relation.KeyUser, relation.KeyPassword, relation.KeyDatacenter},
		Ignores:  []string{relation.KeyDatastore, relation.KeyFolder, relation.KeyRespoolPath},
		Limits: []Limit{
			portOrPath,
			quoteOrBackslash(relation.KeyVsphereIP, relation.KeyUser, relation.KeyPassword, relation.KeyDatacenter),
			{
				Fields: []string{relation.KeyUser},
				What:   `no user@domain or DOMAIN\user form`,
				Breaks: func(v string) bool { return !csiUser.MatchString(v) },
			},
		},
	},
}

// cpiSecretServer reports whether the CPI can carry server in its Secret:
// both key names valid for the API server, and neither split wrongly by
// the credential manager, which takes the server as what comes before the
// first ".password" or ".username".
func cpiSecretServer(server string) bool {
	key := server + ".password"
	return secretKey.MatchString(key) && len(key) <= 253 && !strings.HasPrefix(key, "..") &&
		!strings.Contains(server, ".password") && !strings.Contains(server, ".username")
}

// IsBareHost reports whether v is a host alone, as every consumer needs
// it: no scheme, port or path, an IPv6 literal without brackets.
func IsBareHost(v string) bool {
	host, ok := BareHost(v)
	return ok && host == v
}

// BareHost returns the host of a vCenter address on the default port 443
// and path /sdk, the form every consumer renders ("host", "host:443",
// "https://host/sdk", "[fd00::1]:443" all give the host); ok is false for an
// address naming another port or path, or one the check refuses.
func BareHost(addr string) (host string, ok bool) {
	u, err := vsphere.ParseServer(addr)
	if err != nil || u.Path != "/sdk" || (u.Port() != "" && u.Port() != "443") {
		return "", false
	}
	return u.Hostname(), true
}

// Published is d as the charm publishes it: vsphere_ip as the bare host
// when the address is on the default port and path, so that each consumer
// reads it back; otherwise as given (the status then says which related
// applications cannot carry it). A plain host is published byte for byte
// as given, as the Python charm did.
func Published(d relation.Data) relation.Data {
	if host, ok := BareHost(d.VsphereIP); ok {
		d.VsphereIP = host
	}
	return d
}

// Break is one rule that published data breaks.
type Break struct {
	Consumer *Consumer
	Field    string
	What     string
}

// Breaks lists every rule of consumer c that d (as published) breaks, in
// the order of the table and of the fields.
func (c *Consumer) Breaks(d relation.Data) []Break {
	var out []Break
	for _, l := range c.Limits {
		for _, f := range l.Fields {
			if l.Breaks(*d.Field(f)) {
				out = append(out, Break{Consumer: c, Field: f, What: l.What})
			}
		}
	}
	return out
}

// Lookup returns the consumer with that ID, or nil.
func Lookup(id string) *Consumer {
	for i := range Table {
		if Table[i].ID == id {
			return &Table[i]
		}
	}
	return nil
}

// ForApp returns the consumers an application of that name runs, and
// whether the name is known at all. An unknown name gets every consumer.
func ForApp(app string) (cs []*Consumer, known bool) {
	for i := range Table {
		for _, a := range Table[i].Apps {
			if a == app {
				cs, known = append(cs, &Table[i]), true
			}
		}
	}
	if known {
		return cs, true
	}
	for i := range Table {
		cs = append(cs, &Table[i])
	}
	return cs, false
}
