package consumerstest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// errNotVMwareSerial: the DMI product serial is not VMware's, so the node
// is not a VMware VM (or the serial was mangled).
var errNotVMwareSerial = errors.New("not a VMware product serial")

// ProviderID is kubernetes-worker's emulation: it returns the kubelet's --provider-id for a node, from the
// content of its /sys/class/dmi/id/product_serial ("VMware-42 28 13 f5 …
// 0b-d4 4c …"): the part after "VMware-", spaces and dashes removed,
// formatted 8-4-4-4-12, as the in-tree provider's GetVMUUID does (which
// keeps the case of the hex digits, and so does this). A serial that is
// not VMware's is errNotVMwareSerial.
func ProviderID(serial string) (string, error) {
	s := strings.TrimSpace(serial)
	rest, ok := strings.CutPrefix(s, "VMware-")
	if !ok {
		return "", fmt.Errorf("product serial %q: %w: it does not start with \"VMware-\", so this node is not a VMware VM", redact.Cut(s, 64), errNotVMwareSerial)
	}
	h := strings.NewReplacer(" ", "", "-", "").Replace(rest)
	if len(h) != 32 || strings.Trim(h, "0123456789abcdefABCDEF") != "" {
		return "", fmt.Errorf("product serial %q: %w: want 32 hex digits after \"VMware-\"", redact.Cut(s, 64), errNotVMwareSerial)
	}
	return "vsphere://" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], nil
}
