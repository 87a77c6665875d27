package cloudconfig

import (
	"bytes"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// Where vsphere-cloud-provider puts the CPI configuration.
const (
	cpiConfigMapName   = "vsphere-cloud-config"
	cpiConfigKey       = "vsphere.conf"
	CPISecretName      = "vsphere-cloud-secret"
	CPISecretNamespace = "kube-system"
)

// CPIConfig is the out-of-tree cloud provider's configuration.
type CPIConfig struct {
	// VsphereConf is the vsphere.conf key of ConfigMap vsphere-cloud-config:
	// YAML that names the vCenter and points at the Secret.
	VsphereConf string
	// Secret is the stringData of Secret vsphere-cloud-secret in
	// kube-system: "<server>.username" and "<server>.password".
	Secret map[string]string
}

// secretKey is Kubernetes' rule for a Secret or ConfigMap key
// (k8s.io/apimachinery validation.IsConfigMapKey).
var secretKey = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

// CPI renders the CPI configuration in vsphere-cloud-provider's layout
// (its datacenter is the key of the vcenter map, as that charm writes it).
// The YAML parses back, with the CPI's own reader, to the same values; the
// vCenter server must be usable in a Secret key.
func CPI(d relation.Data) (CPIConfig, error) {
	var errs fieldErrors
	for _, f := range [][2]string{
		{relation.KeyDatacenter, d.Datacenter},
		{relation.KeyPassword, d.Password},
		{relation.KeyUser, d.User},
		{relation.KeyVsphereIP, d.VsphereIP},
	} {
		if !utf8.ValidString(f[1]) {
			errs.add(f[0], ErrInvalidUTF8)
		}
	}
	server, port := splitServer(d.VsphereIP)
	userKey, passKey := server+".username", server+".password"
	switch {
	case server == "":
		errs.add(relation.KeyVsphereIP, ErrEmptyServer)
	case !secretKey.MatchString(userKey) || len(passKey) > 253 || strings.HasPrefix(userKey, ".."):
		errs.add(relation.KeyVsphereIP, ErrSecretKey)
	}
	if err := errs.err(); err != nil {
		return CPIConfig{}, err
	}

	vcenter := []*yaml.Node{
		plain("secretName"), plain(CPISecretName),
		plain("secretNamespace"), plain(CPISecretNamespace),
		plain("server"), quoted(server),
	}
	if port != "" {
		// Sorted: port comes before secretName.
		vcenter = append([]*yaml.Node{plain("port"), plain(port)}, vcenter...)
	}
	// Keys in sorted order, as yaml.safe_dump writes them in
	// vsphere-cloud-provider.
	conf := mapping(
		plain("global"), mapping(
			plain("insecureFlag"), plain("true"),
			plain("port"), plain("443"),
			plain("secretName"), plain(CPISecretName),
			plain("secretNamespace"), plain(CPISecretNamespace),
		),
		plain("vcenter"), mapping(
			quoted(d.Datacenter), mapping(vcenter...),
		),
	)
	out, err := marshalYAML(conf)
	if err != nil {
		return CPIConfig{}, fmt.Errorf("encode %s: %w", cpiConfigKey, err)
	}
	return CPIConfig{
		VsphereConf: out,
		Secret:      map[string]string{userKey: d.User, passKey: d.Password},
	}, nil
}

// splitServer takes the host and port out of vsphere_ip, which the
// integrator accepts as host, host:port or https://host[:port]/sdk. The CPI
// wants them apart: the server is part of the Secret's key names, where a
// colon is not allowed, and the port has its own setting.
func splitServer(s string) (host, port string) {
	if _, rest, ok := strings.Cut(s, "://"); ok {
		s, _, _ = strings.Cut(rest, "/")
	}
	if h, p, err := net.SplitHostPort(s); err == nil {
		if _, err := strconv.Atoi(p); err == nil {
			return h, p
		}
	}
	return s, ""
}

func mapping(kv ...*yaml.Node) *yaml.Node {
	return &yaml.Node{Kind: yaml.MappingNode, Content: kv}
}

// plain is one of our constants, written as is: "true" and "443" read
// back as a boolean and a number, as the consumer writes them.
func plain(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }

// quoted is a value from the relation, always double-quoted: left to
// itself, yaml.v3 writes "\n" as a literal block with no content line
// (`|2+`), which reads back as "", and double quotes escape everything
// else that could be misread.
func quoted(v string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: v, Style: yaml.DoubleQuotedStyle}
}

func marshalYAML(v any) (string, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	return b.String(), nil
}
