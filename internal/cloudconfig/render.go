package cloudconfig

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// Format is one of the configurations Render can show.
type Format string

const (
	formatInTree Format = "in-tree"
	formatCPI    Format = "cpi"
	formatCSI    Format = "csi"
)

// formats lists the formats in the order the action documents them.
var formats = []Format{formatInTree, formatCPI, formatCSI}

// Names of the inputs that are not relation keys, as FieldError.Field.
const (
	fieldVMUUID    = "vm-uuid"
	fieldClusterID = "cluster-id"
)

// What Render writes in place of what it was not given or must not show.
// Each is a plain value, so the output still parses.
const (
	PasswordMarker       = "<hidden: use show-password=true>"
	placeholderVMUUID    = "<vm-uuid>"
	placeholderClusterID = "<cluster-id>"
)

// Options are the parameters of the cloud-config action.
type Options struct {
	// Format defaults to in-tree.
	Format Format
	// VMUUID is the node's UUID as kubernetes-master reads it from
	// /sys/class/dmi/id/product_serial (in-tree only);
	// surrounding space and a "VMware-" prefix are dropped, since
	// kubernetes-master adds the prefix itself.
	VMUUID string
	// ClusterID is the CSI cluster-id, which vsphere-cloud-provider sets
	// to its model's UUID (csi only).
	ClusterID string
	// ShowPassword shows the password instead of PasswordMarker.
	ShowPassword bool
}

// ParseFormat reads the action's format parameter; empty is in-tree.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return formatInTree, nil
	}
	if f := Format(s); slices.Contains(formats, f) {
		return f, nil
	}
	return "", fmt.Errorf("format %q: %w (want one of in-tree, cpi, csi)", clip(s), errUnknownFormat)
}

// Render returns the configuration a consumer would write from d, for the
// action's `config` result. The password is replaced by PasswordMarker
// unless o.ShowPassword, but is checked all the same: a password the
// format cannot carry is an error either way.
func Render(d relation.Data, o Options) (string, error) {
	format, err := ParseFormat(string(o.Format))
	if err != nil {
		return "", err
	}
	vmUUID := strings.TrimPrefix(strings.TrimSpace(o.VMUUID), "VMware-")
	if vmUUID == "" {
		vmUUID = placeholderVMUUID
	}
	clusterID := o.ClusterID
	if clusterID == "" {
		clusterID = placeholderClusterID
	}
	render := func(d relation.Data) (string, error) {
		switch format {
		case formatCPI:
			c, err := CPI(d)
			if err != nil {
				return "", err
			}
			return c.YAML()
		case formatCSI:
			return CSI(d, clusterID)
		}
		return InTree(d, vmUUID)
	}
	out, err := render(d)
	if err != nil || o.ShowPassword {
		return out, err
	}
	d.Password = PasswordMarker
	return render(d)
}

// YAML shows both objects as one YAML stream: the vsphere.conf document,
// then the Secret's stringData, each headed by a comment saying where the
// consumer puts it.
func (c CPIConfig) YAML() (string, error) {
	secret := mapping()
	for _, k := range slices.Sorted(maps.Keys(c.Secret)) {
		secret.Content = append(secret.Content, plain(k), quoted(c.Secret[k]))
	}
	s, err := marshalYAML(secret)
	if err != nil {
		return "", fmt.Errorf("encode Secret %s: %w", CPISecretName, err)
	}
	return fmt.Sprintf("# ConfigMap %s/%s, key %s:\n%s---\n# Secret %s/%s, stringData:\n%s",
		CPISecretNamespace, cpiConfigMapName, cpiConfigKey, c.VsphereConf,
		CPISecretNamespace, CPISecretName, s), nil
}
