package vsphere

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// DiskUUIDOption is the VM advanced option Kubernetes volumes need: without
// it the guest sees no stable disk UUID and attached volumes do not mount.
const DiskUUIDOption = "disk.enableUUID"

// diskUUIDPath reads just that one ExtraConfig entry: a VM's ExtraConfig
// can hold kilobytes of guestinfo (cloud-init data among it) the check has
// no business fetching.
var diskUUIDPath = fmt.Sprintf("config.extraConfig[%q]", DiskUUIDOption)

// NodeReport is what a check found for one node.
type NodeReport struct {
	Node
	// Found is true when exactly one VM reports the node's address;
	// otherwise Why says what was found instead and the fields below are
	// empty. A node not found is unknown, not a failure: its machine may
	// lack VMware Tools or live on another vCenter.
	Found      bool
	Why        string
	VM         string // inventory path
	UUID       string // config.uuid: the BIOS UUID kubelet's provider-id is made of
	PowerState string // poweredOn, poweredOff, suspended
	DiskUUID   DiskUUID
	// HardwareVersion is the VM's config.version ("vmx-15"); "" when not
	// read.
	HardwareVersion string
	// Host is the inventory path of the ESXi host the VM runs on
	// (runtime.host); HostProduct its release, zero when the user may not
	// see the host.
	Host        string
	HostProduct Product
	// DatastoreMount is how that host mounts the target's datastore.
	DatastoreMount DatastoreMount

	ref  types.ManagedObjectReference
	pool *types.ManagedObjectReference
	host *types.ManagedObjectReference
}

// DatastoreMount is the target's datastore as the host of a node VM mounts
// it (the datastore's host property).
type DatastoreMount struct {
	// Known is false when the mounts could not be read; the other fields
	// then mean nothing.
	Known bool
	// Mounted is false when the host does not list the datastore at all,
	// or lists it unmounted.
	Mounted    bool
	Accessible bool
	AccessMode string // readWrite, readOnly
	// Reason is why vCenter says it is inaccessible, when it says.
	Reason string
}

// DiskUUID is a VM's disk.enableUUID as read.
type DiskUUID struct {
	// Known is false when the VM's configuration could not be read (Why
	// of the node says why); then Enabled means nothing.
	Known   bool
	Enabled bool
	Value   string // as set; "" when the option is absent
}

// LacksDiskUUID reports whether the node's VM was read and does not have
// disk.enableUUID turned on.
func (n NodeReport) LacksDiskUUID() bool {
	return n.Found && n.DiskUUID.Known && !n.DiskUUID.Enabled
}

// vmInfo is one VM as readVMs reads it.
type vmInfo struct {
	ref             types.ManagedObjectReference
	name            string
	parent          *types.ManagedObjectReference
	uuid            string
	powerState      string
	pool            *types.ManagedObjectReference
	host            *types.ManagedObjectReference
	hardwareVersion string
	diskUUID        DiskUUID
	why             string // why diskUUID is not Known
}

// vmRead is what readVMs returns: the VMs, and the per-host mounts of the
// datastore it was asked about.
type vmRead struct {
	vms map[types.ManagedObjectReference]*vmInfo
	// mounts is nil when no datastore was asked about or its host
	// property was not returned.
	mounts map[types.ManagedObjectReference]types.HostMountInfo
}

// readNodes finds each node's VM among the VMs that report its address, and
// reads those VMs in one more request, along with the per-host mounts of
// datastore when it is not nil. A fault from vCenter leaves the nodes
// unknown rather than failing the check: the credentials are fine.
func (s *session) readNodes(ctx context.Context, inv *inventory, nodes []Node, datastore *types.ManagedObjectReference) ([]NodeReport, error) {
	out := make([]NodeReport, len(nodes))
	candidates := make([][]types.ManagedObjectReference, len(nodes))
	var refs []types.ManagedObjectReference
	seen := map[types.ManagedObjectReference]bool{}
	for i, n := range nodes {
		out[i].Node = n
		addr := strings.TrimSpace(n.Address)
		ip, ok := canonicalIP(addr)
		switch {
		case addr == "":
			out[i].Why = "Juju gave the unit no address yet"
			continue
		case !ok:
			out[i].Why = fmt.Sprintf("address '%s' is not an IP address", addr)
			continue
		}
		candidates[i] = inv.vmsByIP[ip]
		if len(candidates[i]) == 0 {
			out[i].Why = fmt.Sprintf("no VM reports IP %s (VMware Tools not running in the guest, or the machine is not on this vCenter)", ip)
			continue
		}
		for _, ref := range candidates[i] {
			if !seen[ref] {
				seen[ref] = true
				refs = append(refs, ref)
			}
		}
	}
	if len(refs) == 0 {
		return out, nil
	}
	read, err := s.readVMs(ctx, refs, true, datastore)
	if isFault(err) && fault.Is(err, &types.InvalidProperty{}) {
		// A release that refuses the indexed path: read the whole
		// ExtraConfig of these few VMs instead.
		read, err = s.readVMs(ctx, refs, false, datastore)
	}
	if err != nil {
		if !isFault(err) {
			return nil, s.fail(ctx, "read node VMs", err)
		}
		for i := range out {
			if len(candidates[i]) > 0 {
				out[i].Why = fmt.Sprintf("cannot read the VMs with IP %s: %v", strings.TrimSpace(out[i].Address), err)
			}
		}
		return out, nil
	}
	vms := read.vms
	for i := range out {
		switch c := candidates[i]; len(c) {
		case 0:
		case 1:
			vm := vms[c[0]]
			if vm == nil { // gone between the two reads
				out[i].Why = fmt.Sprintf("the VM with IP %s disappeared during the check", strings.TrimSpace(out[i].Address))
				continue
			}
			out[i].Found = true
			out[i].VM = inv.vmPath(vm)
			out[i].UUID = vm.uuid
			out[i].PowerState = vm.powerState
			out[i].DiskUUID = vm.diskUUID
			out[i].Why = vm.why
			out[i].HardwareVersion = vm.hardwareVersion
			out[i].ref = vm.ref
			out[i].pool = vm.pool
			out[i].host = vm.host
			if vm.host != nil {
				out[i].Host = vm.host.Value
				if h := inv.get(*vm.host); h != nil {
					out[i].Host, out[i].HostProduct = h.path, h.product
				}
				if read.mounts != nil {
					out[i].DatastoreMount = mountOf(read.mounts, *vm.host)
				}
			}
		default:
			var paths []string
			for _, ref := range c {
				if vm := vms[ref]; vm != nil {
					paths = append(paths, inv.vmPath(vm))
				} else {
					paths = append(paths, ref.Value)
				}
			}
			shown, more := capList(paths)
			out[i].Why = fmt.Sprintf("%d VMs report IP %s (%s); cannot tell which is the unit's", len(c), strings.TrimSpace(out[i].Address), listing("paths", shown, more))
		}
	}
	return out, nil
}

// mountOf is how the host mounts the datastore whose mounts these are. A
// host that is not listed does not have it; a release that leaves out
// mounted or accessible (older than vSphere 5) is taken at its listing.
func mountOf(mounts map[types.ManagedObjectReference]types.HostMountInfo, host types.ManagedObjectReference) DatastoreMount {
	mi, ok := mounts[host]
	if !ok {
		return DatastoreMount{Known: true}
	}
	return DatastoreMount{
		Known:      true,
		Mounted:    mi.Mounted == nil || *mi.Mounted,
		Accessible: mi.Accessible == nil || *mi.Accessible,
		AccessMode: mi.AccessMode,
		Reason:     mi.InaccessibleReason,
	}
}

// readVMs reads the VMs a check reports on, all in one request; indexed
// reads only disk.enableUUID of their ExtraConfig, else all of it. With a
// datastore, the same request reads which hosts mount it, so the node VMs'
// hosts can be checked without a request of their own.
func (s *session) readVMs(ctx context.Context, refs []types.ManagedObjectReference, indexed bool, datastore *types.ManagedObjectReference) (*vmRead, error) {
	extra := diskUUIDPath
	if !indexed {
		extra = "config.extraConfig"
	}
	spec := types.PropertyFilterSpec{
		PropSet: []types.PropertySpec{{
			Type:    "VirtualMachine",
			PathSet: []string{"name", "parent", "config.uuid", "config.version", "runtime.powerState", "runtime.host", "resourcePool", extra},
		}},
	}
	for _, ref := range refs {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: ref})
	}
	if datastore != nil {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: *datastore})
		spec.PropSet = append(spec.PropSet, types.PropertySpec{Type: "Datastore", PathSet: []string{"host"}})
	}
	objects, err := s.retrieve(ctx, spec)
	if err != nil {
		return nil, err
	}
	out := &vmRead{vms: map[types.ManagedObjectReference]*vmInfo{}}
	for _, oc := range objects {
		if oc.Obj.Type == "Datastore" {
			for _, p := range oc.PropSet {
				if list, ok := p.Val.(types.ArrayOfDatastoreHostMount); ok && p.Name == "host" {
					out.mounts = map[types.ManagedObjectReference]types.HostMountInfo{}
					for _, m := range list.DatastoreHostMount {
						out.mounts[m.Key] = m.MountInfo
					}
				}
			}
			continue
		}
		vm := &vmInfo{ref: oc.Obj, diskUUID: DiskUUID{Known: true}}
		for _, p := range oc.PropSet {
			switch p.Name {
			case "name":
				vm.name, _ = p.Val.(string)
			case "parent":
				if ref, ok := p.Val.(types.ManagedObjectReference); ok {
					vm.parent = &ref
				}
			case "config.uuid":
				vm.uuid, _ = p.Val.(string)
			case "config.version":
				vm.hardwareVersion, _ = p.Val.(string)
			case "runtime.host":
				if ref, ok := p.Val.(types.ManagedObjectReference); ok {
					vm.host = &ref
				}
			case "runtime.powerState":
				if ps, ok := p.Val.(types.VirtualMachinePowerState); ok {
					vm.powerState = string(ps)
				}
			case "resourcePool":
				if ref, ok := p.Val.(types.ManagedObjectReference); ok {
					vm.pool = &ref
				}
			case diskUUIDPath:
				vm.diskUUID.Value = optionString(p.Val)
			case "config.extraConfig":
				if list, ok := p.Val.(types.ArrayOfOptionValue); ok {
					for _, o := range list.OptionValue {
						if o == nil {
							continue
						}
						if ov := o.GetOptionValue(); ov != nil && ov.Key == DiskUUIDOption {
							vm.diskUUID.Value = optionString(o)
						}
					}
				}
			}
		}
		vm.diskUUID.Enabled = isTrue(vm.diskUUID.Value)
		for _, m := range oc.MissingSet {
			// An absent key is an InvalidProperty for the indexed path: the
			// option is not set. Anything else (NoPermission) leaves it
			// unknown.
			if m.Path != extra {
				continue
			}
			if _, absent := m.Fault.Fault.(*types.InvalidProperty); absent {
				continue
			}
			vm.diskUUID = DiskUUID{}
			vm.why = "cannot read the VM's configuration: " + faultText(m.Fault)
		}
		out.vms[oc.Obj] = vm
	}
	return out, nil
}

// vmPath is a VM's inventory path, or its name when its folder is not one
// the user can see.
func (inv *inventory) vmPath(vm *vmInfo) string {
	if vm.parent != nil {
		if p := inv.get(*vm.parent); p != nil {
			return p.path + "/" + vm.name
		}
	}
	return vm.name
}

// optionString is the value of an indexed ExtraConfig read: vCenter returns
// the OptionValue, not the bare value.
func optionString(v any) string {
	var val any
	switch o := v.(type) {
	case types.BaseOptionValue:
		if ov := o.GetOptionValue(); ov != nil {
			val = ov.Value
		}
	case types.OptionValue:
		val = o.Value
	default:
		val = v
	}
	switch x := val.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return fmt.Sprint(x)
	}
}

// isTrue is how the VMX reads a boolean option: govc's
// `-e disk.enableUUID=1` and the usual "TRUE" both turn it on.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1", "yes", "on":
		return true
	}
	return false
}

// faultText is a readable text for a fault vCenter returned inside a result.
func faultText(f types.LocalizedMethodFault) string {
	if f.LocalizedMessage != "" {
		// The server's words: cut here, redacted where reported.
		return redact.Cut(f.LocalizedMessage, maxServerText)
	}
	if f.Fault == nil {
		return "unknown fault"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", f.Fault), "*types.")
}

// isFault reports whether err is an answer from vCenter (a SOAP fault)
// rather than a failure to get one (network, deadline).
func isFault(err error) bool {
	var fe *FaultError
	return errors.As(err, &fe) || soap.IsSoapFault(err) || soap.IsVimFault(err)
}

// maxObjects is the page size the check asks vCenter for. Without it vCenter
// is reported to page at 100 objects, a request per 100 VMs of the
// inventory; vCenter may still page by its own policy, and retrieve follows
// the pages either way.
const maxObjects = 10000

// retrieve runs one RetrievePropertiesEx, asking for pages of maxObjects,
// and follows its pages (ContinueRetrievePropertiesEx). The values are
// type-switched by the callers, never loaded into mo types: mo's loader
// panics on a value of the wrong type, which any server can send.
func (s *session) retrieve(ctx context.Context, spec types.PropertyFilterSpec) ([]types.ObjectContent, error) {
	res, err := property.DefaultCollector(s.client).RetrieveProperties(ctx, types.RetrieveProperties{SpecSet: []types.PropertyFilterSpec{spec}}, maxObjects)
	if err != nil {
		return nil, err
	}
	return res.Returnval, nil
}
