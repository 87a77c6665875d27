package vsphere

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
)

// What the vSphere CSI driver supports (VMware's "vSphere CSI Driver
// Prerequisites"): vSphere 6.7 Update 3 or later, on vCenter and on the
// hosts, and node VMs of hardware version 15 or later. The in-tree provider
// asks less, so falling short of these is a warning, not a block.
const (
	// MinCSIAPIVersion is 6.7 Update 3 as vCenter and ESXi report it in
	// AboutInfo.apiVersion; their version says "6.7.0" for every 6.7 update.
	MinCSIAPIVersion = "6.7.3"
	// MinCSIHardwareVersion is the least VM hardware version, the NN of
	// config.version "vmx-NN".
	MinCSIHardwareVersion = 15
)

// DatastoreInfo is the target's datastore as vCenter summarizes it.
type DatastoreInfo struct {
	Name string // as vCenter names it: what "[name] path" and the in-tree StorageClass take
	Path string // inventory path, "/DC0/datastore/LocalDS_0"
	// Known is false when vCenter returned no summary (the user may not
	// read it); the fields below are then empty and nothing is concluded
	// from them.
	Known bool
	// URL is summary.url, "ds:///vmfs/volumes/<uuid>/": what the CSI
	// driver's StorageClass parameter datastoreurl takes.
	URL                 string
	Type                string // VMFS, NFS, NFS41, vsan, VVOL
	Capacity, FreeSpace int64  // bytes
	Accessible          bool
	// MaintenanceMode is normal, enteringMaintenance or inMaintenance; ""
	// on a release that does not report it.
	MaintenanceMode string
}

// InMaintenance reports whether the datastore is in, or entering,
// maintenance mode: vCenter then places no new disk on it.
func (d DatastoreInfo) InMaintenance() bool {
	return d.Known && d.MaintenanceMode != "" && d.MaintenanceMode != string(types.DatastoreSummaryMaintenanceModeStateNormal)
}

func datastoreInfo(e *entity) DatastoreInfo {
	d := DatastoreInfo{Name: e.name, Path: e.path}
	if s := e.summary; s != nil {
		d.Known = true
		d.URL, d.Type = s.Url, s.Type
		d.Capacity, d.FreeSpace = s.Capacity, s.FreeSpace
		d.Accessible, d.MaintenanceMode = s.Accessible, s.MaintenanceMode
		if s.Name != "" {
			d.Name = s.Name
		}
	}
	return d
}

// DuplicateUUID is a BIOS UUID that several node VMs have: a VM copied
// rather than cloned keeps its source's. The cloud provider finds a node's VM
// by that UUID (the provider-id), so it cannot tell these apart.
type DuplicateUUID struct {
	UUID  string
	VMs   []string // inventory paths, in the order of Target.Nodes
	Units []string // the units on those VMs, in the same order
}

// duplicateUUIDs groups the found nodes by BIOS UUID; units on one VM (a
// subordinate and its principal) are no duplicate.
func duplicateUUIDs(nodes []NodeReport) []DuplicateUUID {
	type group struct {
		vms   []types.ManagedObjectReference
		d     DuplicateUUID
		order int
	}
	groups := map[string]*group{}
	for i, n := range nodes {
		if !n.Found || n.UUID == "" {
			continue
		}
		key := strings.ToLower(n.UUID)
		g := groups[key]
		if g == nil {
			g = &group{d: DuplicateUUID{UUID: n.UUID}, order: i}
			groups[key] = g
		}
		g.d.Units = append(g.d.Units, n.Name)
		if !slices.Contains(g.vms, n.ref) {
			g.vms = append(g.vms, n.ref)
			g.d.VMs = append(g.d.VMs, n.VM)
		}
	}
	var found []*group
	for _, g := range groups {
		if len(g.vms) > 1 {
			found = append(found, g)
		}
	}
	slices.SortFunc(found, func(a, b *group) int { return a.order - b.order })
	var out []DuplicateUUID
	for _, g := range found {
		out = append(out, g.d)
	}
	return out
}

// Severity says what a finding means for Kubernetes volumes, and so what
// the charm makes of it.
type Severity int

const (
	// Info is for the record: nothing is wrong.
	Info Severity = iota
	// Warn: something storage may need is missing (the CSI driver's
	// minimum versions, telling node VMs apart); the in-tree provider may
	// still work. Worth a status message, not a block.
	Warn
	// Block: volumes cannot work, on one node or at all, until it is fixed.
	Block
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warn:
		return "warn"
	case Block:
		return "block"
	}
	return "severity(" + strconv.Itoa(int(s)) + ")"
}

// Kinds of findings.
const (
	// Block.
	FindingDatastoreInaccessible = "datastore-inaccessible"
	FindingDatastoreMaintenance  = "datastore-maintenance"
	FindingDatastoreNotMounted   = "datastore-not-mounted"
	// Warn.
	FindingHardwareVersion = "hardware-version"
	FindingVCenterVersion  = "vcenter-version"
	FindingHostVersion     = "host-version"
	FindingDuplicateUUID   = "duplicate-uuid"
	// Info.
	FindingDatastoreSpace = "datastore-space"
)

// Finding is one thing a check noticed about storage, in words for a
// vSphere admin: what is wrong and what to do.
type Finding struct {
	Kind     string // Finding* constant
	Severity Severity
	// Object is the inventory path of what it is about: a datastore, a
	// host, a VM, or "/" for vCenter itself.
	Object string
	// Units are the related units it concerns, in the order of
	// Target.Nodes; none when it concerns every node, or no node.
	Units   []string
	Message string
}

func (f Finding) String() string { return f.Message }

// Findings lists what the check noticed about storage: blocks first, then
// warnings, then information. Each kind's rule:
//
//   - Block, datastore-inaccessible: vCenter says the datastore is not
//     accessible, or a node VM's host mounts it but cannot reach it.
//   - Block, datastore-maintenance: the datastore is in or entering
//     maintenance mode.
//   - Block, datastore-not-mounted: a node VM's host does not mount the
//     datastore, so no volume can attach to that node.
//   - Warn, hardware-version: a node VM older than vmx-15.
//   - Warn, vcenter-version, host-version: vCenter, or a node VM's host,
//     older than vSphere 6.7 Update 3.
//   - Warn, duplicate-uuid: node VMs sharing a BIOS UUID.
//   - Info, datastore-space: the datastore's URL, capacity and free space.
//
// Nothing is concluded from what could not be read (a node not found, a
// summary the user may not see).
func (r *Report) Findings() []Finding {
	var out []Finding
	add := func(kind string, sev Severity, object string, units []string, format string, args ...any) {
		out = append(out, Finding{Kind: kind, Severity: sev, Object: object, Units: units, Message: fmt.Sprintf(format, args...)})
	}
	ds := r.DatastoreInfo
	dsName := ds.Name
	if dsName == "" {
		dsName = r.Datastore
	}

	if ds.Known && !ds.Accessible {
		add(FindingDatastoreInaccessible, Block, ds.Path, nil,
			"datastore %s is not accessible: no volume can be created or attached; restore its storage connection (see the datastore's hosts in the vSphere client) or choose another datastore", dsName)
	}
	if ds.InMaintenance() {
		add(FindingDatastoreMaintenance, Block, ds.Path, nil,
			"datastore %s is in maintenance mode (%s): no volume can be created on it; take it out of maintenance mode or choose another datastore", dsName, ds.MaintenanceMode)
	}
	for _, h := range r.byHost() {
		m := h.nodes[0].DatastoreMount
		switch {
		case !m.Known:
		case !m.Mounted:
			add(FindingDatastoreNotMounted, Block, h.host, h.units(),
				"datastore %s is not mounted on host %s of %s: volumes cannot attach there; mount it on that host, or move the VMs to a host that has it", dsName, h.host, h.describe())
		case !m.Accessible && !(ds.Known && !ds.Accessible):
			reason := ""
			if m.Reason != "" {
				reason = " (" + m.Reason + ")"
			}
			add(FindingDatastoreInaccessible, Block, h.host, h.units(),
				"datastore %s is mounted but not accessible%s on host %s of %s: volumes cannot attach there; fix the host's storage connection (rescan its storage), or move the VMs to another host", dsName, reason, h.host, h.describe())
		}
	}

	for _, v := range r.byVM() {
		hw, ok := hardwareVersion(v.nodes[0].HardwareVersion)
		if ok && hw < MinCSIHardwareVersion {
			add(FindingHardwareVersion, Warn, v.vm, v.units(),
				"VM %s (%s) has hardware version %s < vmx-%d needed by the vSphere CSI driver: upgrade the VM compatibility (power the VM off, then Actions > Compatibility > Upgrade VM Compatibility in the vSphere client, or govc vm.upgrade -version=%d -vm '%s')",
				v.vm, joinUnits(v.units()), v.nodes[0].HardwareVersion, MinCSIHardwareVersion, MinCSIHardwareVersion, v.vm)
		}
	}
	if below, _ := belowCSI(r.Product); below {
		add(FindingVCenterVersion, Warn, "/", nil,
			"vCenter %s is %s, older than vSphere 6.7 Update 3 (API %s) that the vSphere CSI driver needs: upgrade vCenter", r.Server, describeProduct(r.Product), MinCSIAPIVersion)
	}
	for _, h := range r.byHost() {
		if below, _ := belowCSI(h.nodes[0].HostProduct); below {
			add(FindingHostVersion, Warn, h.host, h.units(),
				"host %s of %s runs ESXi %s, older than 6.7 Update 3 (API %s) that the vSphere CSI driver needs: upgrade the host, or move the VMs to a newer one", h.host, h.describe(), describeProduct(h.nodes[0].HostProduct), MinCSIAPIVersion)
		}
	}
	for _, d := range r.DuplicateUUIDs {
		add(FindingDuplicateUUID, Warn, d.VMs[0], d.Units,
			"VMs %s (%s) share BIOS UUID %s, so the cloud provider cannot tell them apart: give all but one a new UUID (power the VM off, then govc vm.change -vm VM -uuid NEW-UUID, or re-register it answering \"I copied it\")",
			strings.Join(d.VMs, ", "), joinUnits(d.Units), d.UUID)
	}

	if ds.Known {
		add(FindingDatastoreSpace, Info, ds.Path, nil,
			"datastore %s (%s): %s free of %s; URL %s", dsName, ds.Type, bytesIEC(ds.FreeSpace), bytesIEC(ds.Capacity), ds.URL)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return int(b.Severity) - int(a.Severity) })
	return out
}

// nodeGroup is the found nodes that share a VM, or a host.
type nodeGroup struct {
	vm, host string
	nodes    []NodeReport
}

func (g *nodeGroup) units() []string {
	var u []string
	for _, n := range g.nodes {
		u = append(u, n.Name)
	}
	return u
}

// describe names the units and their VMs: "kubernetes-worker/0 (VM
// /DC0/vm/w0)".
func (g *nodeGroup) describe() string {
	var parts []string
	for _, n := range g.nodes {
		parts = append(parts, n.Name+" (VM "+n.VM+")")
	}
	return strings.Join(parts, ", ")
}

func (r *Report) group(key func(NodeReport) string) []*nodeGroup {
	var out []*nodeGroup
	index := map[string]*nodeGroup{}
	for _, n := range r.Nodes {
		k := key(n)
		if !n.Found || k == "" {
			continue
		}
		g := index[k]
		if g == nil {
			g = &nodeGroup{vm: n.VM, host: n.Host}
			index[k] = g
			out = append(out, g)
		}
		g.nodes = append(g.nodes, n)
	}
	return out
}

func (r *Report) byVM() []*nodeGroup { return r.group(func(n NodeReport) string { return n.VM }) }

func (r *Report) byHost() []*nodeGroup { return r.group(func(n NodeReport) string { return n.Host }) }

func joinUnits(units []string) string {
	if len(units) == 0 {
		return "no unit"
	}
	return strings.Join(units, ", ")
}

// hardwareVersion is the NN of "vmx-NN".
func hardwareVersion(v string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(v), "vmx-"))
	if err != nil || !strings.HasPrefix(strings.TrimSpace(v), "vmx-") {
		return 0, false
	}
	return n, true
}

// belowCSI reports whether a product is older than MinCSIAPIVersion; known
// is false when neither its API version nor its version can be read. The
// version is the fallback: it cannot tell 6.7 Update 3 from 6.7, so it
// errs on the side of a warning.
func belowCSI(p Product) (below, known bool) {
	v := p.APIVersion
	if v == "" {
		v = p.Version
	}
	c, ok := compareVersions(v, MinCSIAPIVersion)
	if !ok {
		return false, false
	}
	return c < 0, true
}

func describeProduct(p Product) string {
	s := p.Version
	if s == "" {
		s = "unknown version"
	}
	if p.Build != "" {
		s += " build " + p.Build
	}
	if p.APIVersion != "" {
		s += " (API " + p.APIVersion + ")"
	}
	return s
}

// compareVersions compares dotted numeric versions ("6.7.3", "8.0.2.0",
// "6.5"), missing parts counting as 0; ok is false when either is not of
// that form.
func compareVersions(a, b string) (int, bool) {
	pa, ok := versionParts(a)
	if !ok {
		return 0, false
	}
	pb, ok := versionParts(b)
	if !ok {
		return 0, false
	}
	for i := range max(len(pa), len(pb)) {
		x, y := 0, 0
		if i < len(pa) {
			x = pa[i]
		}
		if i < len(pb) {
			y = pb[i]
		}
		if x != y {
			if x < y {
				return -1, true
			}
			return 1, true
		}
	}
	return 0, true
}

func versionParts(v string) ([]int, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, false
	}
	var parts []int
	for _, s := range strings.Split(v, ".") {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, false
		}
		parts = append(parts, n)
	}
	return parts, true
}

// bytesIEC is a size as an admin reads it: "1.5 TiB".
func bytesIEC(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
