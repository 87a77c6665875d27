package vsphere

import (
	"context"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// entity is one inventory object (a vSphere managed entity: folder,
// datacenter, datastore, compute resource, pool, host) as readInventory reads
// it. Not to be confused with Node, a Kubernetes node.
type entity struct {
	ref    types.ManagedObjectReference
	name   string
	parent *types.ManagedObjectReference
	path   string // absolute inventory path, "" for the root folder

	// Datacenter only.
	vmFolder, hostFolder, datastoreFolder types.ManagedObjectReference
	// ComputeResource / ClusterComputeResource only: the root pool.
	rootPool *types.ManagedObjectReference
	// Datastore only: its summary, nil when vCenter did not return it (the
	// user may not read it).
	summary *types.DatastoreSummary
	// HostSystem only, read when the check has nodes: the ESXi release.
	product Product
}

func (e *entity) isA(kinds ...string) bool { return slices.Contains(kinds, e.ref.Type) }

// under reports whether e is strictly below base in the inventory tree.
func (e *entity) under(base *entity) bool { return strings.HasPrefix(e.path, base.path+"/") }

// relTo is e's path relative to base, the form a relative setting takes.
func (e *entity) relTo(base *entity) string { return strings.TrimPrefix(e.path, base.path+"/") }

// inventory is the part of the vCenter tree a check resolves names in:
// folders, datacenters, datastores, compute resources and resource pools,
// with name and parent, so paths are built locally; datastores with their
// summary, and, when the check has nodes, the ESXi hosts with their release.
type inventory struct {
	entities map[types.ManagedObjectReference]*entity
	// vmsByIP maps a canonical IP to the VMs whose guest.ipAddress it is;
	// read only when the check has nodes to find.
	vmsByIP map[string][]types.ManagedObjectReference
}

// inventorySpec selects, from the root folder down, every folder (and storage
// pod), datacenter, datastore, compute resource and resource pool (and vApp)
// in one PropertyCollector request. The finder would need a request per path
// element and per object kind; vCenter admins care about that load, and so
// does the latency of a hook.
//
// With vms, every VM's guest.ipAddress comes along: that is the address
// SearchIndex.FindAllByIp matches, so matching locally finds the same VMs
// without a request per node. Only that one short property is read per VM;
// the few VMs that match are read in detail afterwards (readNodes).
//
// Each datastore comes with its summary (URL, capacity, free space,
// accessible, maintenance mode): a few scalars per datastore, so the one the
// target names is reported without a request of its own. With vms, every
// ESXi host comes with its name, parent and release (three short strings):
// the node VMs' hosts are then known without another read. The datastore's
// per-host mounts, a list as long as the hosts that see it, are read for the
// configured datastore only, with the node VMs (readVMs).
// The parts of a host's summary.config.product a check reads.
const (
	hostVersion    = "summary.config.product.version"
	hostBuild      = "summary.config.product.build"
	hostAPIVersion = "summary.config.product.apiVersion"
)

func inventorySpec(root types.ManagedObjectReference, vms bool) types.PropertyFilterSpec {
	sel := func(names ...string) []types.BaseSelectionSpec {
		var s []types.BaseSelectionSpec
		for _, n := range names {
			s = append(s, &types.SelectionSpec{Name: n})
		}
		return s
	}
	trav := func(name, typ, path string, next ...string) *types.TraversalSpec {
		return &types.TraversalSpec{
			SelectionSpec: types.SelectionSpec{Name: name},
			Type:          typ,
			Path:          path,
			SelectSet:     sel(next...),
		}
	}
	fromFolder := []string{"folder", "dcVM", "dcHost", "dcDatastore", "crPool", "rpPool"}
	if vms {
		fromFolder = append(fromFolder, "crHost")
	}
	selectSet := []types.BaseSelectionSpec{
		trav("folder", "Folder", "childEntity", fromFolder...),
		trav("dcVM", "Datacenter", "vmFolder", "folder"),
		trav("dcHost", "Datacenter", "hostFolder", "folder"),
		trav("dcDatastore", "Datacenter", "datastoreFolder", "folder"),
		trav("crPool", "ComputeResource", "resourcePool", "rpPool"),
		trav("rpPool", "ResourcePool", "resourcePool", "rpPool"),
	}
	if vms {
		// vCenter refuses a SelectSet naming a spec it was not given, so
		// crHost exists only when the folder spec names it.
		selectSet = append(selectSet, trav("crHost", "ComputeResource", "host"))
	}
	spec := types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: root, SelectSet: selectSet}},
		// Property specs apply to subtypes too: StoragePod is a Folder,
		// ClusterComputeResource a ComputeResource, VirtualApp a ResourcePool.
		// Virtual machines and hosts are traversed over but not returned.
		PropSet: []types.PropertySpec{
			{Type: "Folder", PathSet: []string{"name", "parent"}},
			{Type: "Datacenter", PathSet: []string{"name", "parent", "vmFolder", "hostFolder", "datastoreFolder"}},
			{Type: "Datastore", PathSet: []string{"name", "parent", "summary"}},
			{Type: "ComputeResource", PathSet: []string{"name", "parent", "resourcePool"}},
			{Type: "ResourcePool", PathSet: []string{"name", "parent"}},
		},
	}
	if vms {
		spec.PropSet = append(spec.PropSet,
			types.PropertySpec{Type: "VirtualMachine", PathSet: []string{"guest.ipAddress"}},
			types.PropertySpec{Type: "HostSystem", PathSet: []string{"name", "parent", hostVersion, hostBuild, hostAPIVersion}},
		)
	}
	return spec
}

// readInventory reads the inventory in one RetrievePropertiesEx, plus one
// ContinueRetrievePropertiesEx per further page when vCenter pages a large
// result. vms says whether VM addresses and hosts are read as well (see
// inventorySpec).
func (s *session) readInventory(ctx context.Context, vms bool) (*inventory, error) {
	objects, err := s.retrieve(ctx, inventorySpec(s.client.ServiceContent.RootFolder, vms))
	if err != nil {
		return nil, s.fail(ctx, "read inventory", err)
	}
	inv := &inventory{entities: map[types.ManagedObjectReference]*entity{}, vmsByIP: map[string][]types.ManagedObjectReference{}}
	inv.add(objects)
	inv.buildPaths()
	return inv, nil
}

func (inv *inventory) add(objects []types.ObjectContent) {
	for _, oc := range objects {
		switch oc.Obj.Type {
		case "VirtualMachine":
			inv.addVM(oc)
			continue
		}
		e := &entity{ref: oc.Obj}
		for _, p := range oc.PropSet {
			switch v := p.Val.(type) {
			case string:
				switch p.Name {
				case "name":
					e.name = v
				case hostVersion:
					e.product.Version = v
				case hostBuild:
					e.product.Build = v
				case hostAPIVersion:
					e.product.APIVersion = v
				}
			case types.ManagedObjectReference:
				switch p.Name {
				case "parent":
					e.parent = &v
				case "vmFolder":
					e.vmFolder = v
				case "hostFolder":
					e.hostFolder = v
				case "datastoreFolder":
					e.datastoreFolder = v
				case "resourcePool":
					e.rootPool = &v
				}
			case types.DatastoreSummary:
				e.summary = &v
			}
		}
		inv.entities[e.ref] = e
	}
}

func (inv *inventory) addVM(oc types.ObjectContent) {
	for _, p := range oc.PropSet {
		if ip, ok := p.Val.(string); ok && p.Name == "guest.ipAddress" {
			if key, ok := canonicalIP(ip); ok {
				inv.vmsByIP[key] = append(inv.vmsByIP[key], oc.Obj)
			}
		}
	}
}

// canonicalIP is the form IPs are compared in: "10.0.0.1", "fe80::1"
// (no zone, IPv4-mapped IPv6 as IPv4, brackets dropped), or false for
// anything that is not an IP.
func canonicalIP(s string) (string, bool) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(s), "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return "", false
	}
	return a.WithZone("").Unmap().String(), true
}

// buildPaths sets every entity's inventory path from its name and parents. An
// object whose parent was not returned (no permission to see it) gets a path
// from the part of the chain that is visible.
func (inv *inventory) buildPaths() {
	done := map[types.ManagedObjectReference]bool{}
	var walk func(e *entity, depth int) string
	walk = func(e *entity, depth int) string {
		if done[e.ref] {
			return e.path
		}
		if e.parent != nil && depth < 256 { // depth: a parent cycle must not hang us
			if p, ok := inv.entities[*e.parent]; ok {
				e.path = walk(p, depth+1) + "/" + e.name
			} else {
				e.path = "/" + e.name
			}
		}
		done[e.ref] = true
		return e.path
	}
	for _, e := range inv.entities {
		walk(e, 0)
	}
}

func (inv *inventory) get(ref types.ManagedObjectReference) *entity { return inv.entities[ref] }

// filter returns the entities for which keep is true, sorted by path so that
// errors list them in a stable order.
func (inv *inventory) filter(keep func(*entity) bool) []*entity {
	var out []*entity
	for _, e := range inv.entities {
		if keep(e) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *entity) int { return strings.Compare(a.path, b.path) })
	return out
}

// lookup resolves one setting among candidates.
type lookup struct {
	kind  string
	where string  // for errors: "datacenter DC0"
	base  *entity // relative paths start here
	// byName: a value without "/" is a name searched in the whole subtree
	// of base; otherwise it is a path relative to base.
	byName     bool
	candidates []*entity
	// listed is what "available" shows; nil means candidates.
	listed []*entity
	// sec redacts the names errors list, which the server chose.
	sec *redact.Secrets
}

func (l lookup) find(arg string) (*entity, error) {
	arg = strings.TrimSpace(arg)
	if len(arg) > 1 {
		arg = strings.TrimRight(arg, "/")
	}
	var match func(*entity) bool
	switch {
	case strings.HasPrefix(arg, "/"):
		want := path.Clean(arg)
		match = func(e *entity) bool { return e.path == want }
	case l.byName && !strings.Contains(arg, "/"):
		match = func(e *entity) bool { return e.name == arg }
	default:
		want := path.Clean(l.base.path + "/" + arg)
		match = func(e *entity) bool { return e.path == want }
	}
	var found []*entity
	for _, e := range l.candidates {
		if match(e) {
			found = append(found, e)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		listed := l.listed
		if listed == nil {
			listed = l.candidates
		}
		var names []string
		for _, e := range listed {
			names = append(names, l.sec.Server(e.relTo(l.base), maxNameText))
		}
		shown, more := capList(names)
		return nil, &NotFoundError{Kind: l.kind, Name: l.sec.Text(arg, maxNameText), Where: l.sec.Server(l.where, maxServerText), Available: shown, More: more}
	default:
		var paths []string
		for _, e := range found {
			paths = append(paths, l.sec.Server(e.path, maxPathText))
		}
		return nil, &AmbiguousError{Kind: l.kind, Name: l.sec.Text(arg, maxNameText), Where: l.sec.Server(l.where, maxServerText), Matches: paths}
	}
}
