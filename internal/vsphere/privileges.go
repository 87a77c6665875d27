package vsphere

import (
	"context"
	"slices"
	"strings"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// Kinds of objects privileges are checked on, as reports name them.
const (
	ObjectRoot       = "vCenter root"
	ObjectDatacenter = "datacenter"
	ObjectDatastore  = "datastore"
	ObjectFolder     = "VM folder"
	ObjectPool       = "resource pool"
	ObjectNodeVM     = "node VM"
)

// need is one privilege a Kubernetes storage provider needs on a kind of
// object (docs/vcenter.md: the Kubernetes docs' minimal set for the in-tree
// provider, VMware's roles for the CSI driver).
type need struct {
	id string
	// essential: without it volumes cannot work at all (no disk can be
	// created on the datastore or attached to a node).
	essential bool
	by        string // who needs it
}

const (
	inTree = "in-tree provider"
	csi    = "CSI driver"
	both   = "in-tree provider, CSI driver"
)

// needs lists, per object kind, the privileges checked there. Ancestors of
// the node VMs, hosts and storage folders are left out: each would be one
// more entity per node in the query for privileges that read-only roles
// almost always carry.
var needs = map[string][]need{
	ObjectRoot: {
		{id: "StorageProfile.View", by: both},
		{id: "Cns.Searchable", by: csi},
	},
	ObjectDatacenter: {
		{id: "System.Read", by: both},
	},
	ObjectDatastore: {
		{id: "Datastore.AllocateSpace", essential: true, by: both},
		{id: "Datastore.FileManagement", essential: true, by: both},
	},
	ObjectFolder: {
		{id: "VirtualMachine.Config.AddExistingDisk", by: inTree},
		{id: "VirtualMachine.Config.AddNewDisk", by: inTree},
		{id: "VirtualMachine.Config.AddRemoveDevice", by: inTree},
		{id: "VirtualMachine.Config.RemoveDisk", by: inTree},
		{id: "VirtualMachine.Inventory.Create", by: inTree},
		{id: "VirtualMachine.Inventory.Delete", by: inTree},
	},
	ObjectPool: {
		{id: "Resource.AssignVMToPool", by: inTree},
	},
	ObjectNodeVM: {
		{id: "VirtualMachine.Config.AddExistingDisk", essential: true, by: both},
		{id: "VirtualMachine.Config.AddRemoveDevice", by: both},
		{id: "VirtualMachine.Config.AddNewDisk", by: inTree},
		{id: "VirtualMachine.Config.RemoveDisk", by: inTree},
	},
}

// grantOn says how Dedicate grants a kind of object: the slug of the role
// made for it (RolePrefix+slug) and whether the permission propagates to the
// objects below. The VM folder's propagates because the in-tree provider
// reconfigures and deletes the VMs it creates there; the resource pool's as
// the Kubernetes docs grant it, on the cluster down. The root's and a node
// VM's do not: the one is vCenter itself, the other has nothing below it.
// The datacenter's role is vCenter's ReadOnly (its needs are the system
// privileges every role holds), propagating, so inventory and topology
// reads work inside that datacenter and nowhere else.
type grantOn struct {
	slug      string
	propagate bool
}

// grants holds a grantOn for every kind of needs; TestRolesFromNeeds keeps
// the two tables in step.
var grants = map[string]grantOn{
	ObjectRoot:       {slug: "root"},
	ObjectDatacenter: {slug: "datacenter", propagate: true},
	ObjectDatastore:  {slug: "datastore"},
	ObjectFolder:     {slug: "vm-folder", propagate: true},
	ObjectPool:       {slug: "resource-pool", propagate: true},
	ObjectNodeVM:     {slug: "node-vm"},
}

// systemPrivileges are the ones vCenter puts in every role, whatever it is
// given (its ReadOnly role holds these and nothing else).
var systemPrivileges = []string{"System.Anonymous", "System.Read", "System.View"}

// privilegesOf is the sorted ids needs lists for kind: what the privilege
// check asks for there, and what Dedicate's role for kind holds (with
// systemPrivileges, which vCenter adds).
func privilegesOf(kind string) []string {
	var ids []string
	for _, n := range needs[kind] {
		if !slices.Contains(ids, n.id) {
			ids = append(ids, n.id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Subject is one object privileges were checked on.
type Subject struct {
	Kind   string // ObjectRoot, ObjectDatastore, ...
	Object string // inventory path; "/" for the root folder
	Node   string // the unit whose VM it is, for ObjectNodeVM

	ref types.ManagedObjectReference
}

// MissingPrivilege is a privilege the user lacks on a subject.
type MissingPrivilege struct {
	Subject
	Privilege string
	// Essential: volumes cannot work at all without it.
	Essential bool
	By        string // who needs it: "in-tree provider", "CSI driver", or both
}

// PrivilegeReport is the outcome of the privilege query.
type PrivilegeReport struct {
	User string // as vCenter names the user ("VSPHERE.LOCAL\\k8s")
	// Err is why the privileges could not be checked (*PrivilegeQueryError);
	// the rest of the check stands.
	Err     error
	Checked []Subject
	Missing []MissingPrivilege
	// Unknown are privilege ids this vCenter does not define (an older
	// release: Cns.Searchable came with vSphere 6.7U3); they were not asked
	// for.
	Unknown []string
}

// checkPrivileges asks vCenter, in one HasUserPrivilegeOnEntities for all
// subjects, whether the user holds what the storage providers need. A fault
// ends up in the report; only a transport failure is returned.
//
// The privilege ids this vCenter defines (its privilegeList, a few hundred
// entries) are read only when the answer needs them: when the query is
// refused as naming an unknown id, it is asked again without those; when
// something is reported missing, the list tells a privilege the user lacks
// from one this release does not have.
func (s *session) checkPrivileges(ctx context.Context, inv *inventory, r *resolved, nodes []NodeReport) (PrivilegeReport, error) {
	rep := PrivilegeReport{User: s.user}
	subjects := privilegeSubjects(inv, r, nodes)
	rep.Checked = subjects

	var ids []string
	var entities []types.ManagedObjectReference
	for _, sub := range subjects {
		for _, n := range needs[sub.Kind] {
			if !slices.Contains(ids, n.id) {
				ids = append(ids, n.id)
			}
		}
		if !slices.Contains(entities, sub.ref) {
			entities = append(entities, sub.ref)
		}
	}
	authz := s.client.ServiceContent.AuthorizationManager
	if authz == nil {
		rep.Err = &PrivilegeQueryError{Server: s.p.url.Host, Unsupported: true}
		return rep, nil
	}

	var defined map[string]bool // nil until read, or when vCenter shows none
	granted, err := s.hasPrivileges(ctx, entities, ids)
	if isFault(err) && fault.Is(err, &types.InvalidArgument{}) {
		var lerr error
		switch defined, lerr = s.readPrivilegeList(ctx, *authz); {
		case lerr != nil:
			err = lerr
		case defined != nil:
			rep.Unknown = undefined(ids, defined)
			granted, err = s.hasPrivileges(ctx, entities, slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return !defined[id] }))
		}
	}
	if err != nil {
		if !isFault(err) {
			return rep, s.fail(ctx, "check privileges", err)
		}
		rep.Err = &PrivilegeQueryError{Server: s.p.url.Host, Unsupported: unsupported(err), Err: err}
		rep.Unknown = nil
		return rep, nil
	}

	var missing []MissingPrivilege
	for _, sub := range subjects {
		for _, n := range needs[sub.Kind] {
			if !granted[sub.ref][n.id] && !slices.Contains(rep.Unknown, n.id) {
				missing = append(missing, MissingPrivilege{Subject: sub, Privilege: n.id, Essential: n.essential, By: n.by})
			}
		}
	}
	if len(missing) > 0 && defined == nil {
		// Some releases may answer "not granted" for an id they do not
		// define. Without the list (a fault, or none shown) the ids stay
		// reported as missing.
		if defined, err = s.readPrivilegeList(ctx, *authz); err != nil && !isFault(err) {
			return rep, s.fail(ctx, "read privilege list", err)
		}
		if defined != nil {
			var asked []string
			for _, m := range missing {
				asked = append(asked, m.Privilege)
			}
			rep.Unknown = undefined(asked, defined)
		}
	}
	for _, m := range missing {
		if !slices.Contains(rep.Unknown, m.Privilege) {
			rep.Missing = append(rep.Missing, m)
		}
	}
	return rep, nil
}

// hasPrivileges runs one HasUserPrivilegeOnEntities and returns, per entity,
// the ids granted. The caller has checked that vCenter has an authorization
// manager.
func (s *session) hasPrivileges(ctx context.Context, entities []types.ManagedObjectReference, ids []string) (map[types.ManagedObjectReference]map[string]bool, error) {
	granted := map[types.ManagedObjectReference]map[string]bool{}
	if len(ids) == 0 {
		return granted, nil
	}
	answer, err := object.NewAuthorizationManager(s.client).HasUserPrivilegeOnEntities(ctx, entities, s.user, ids)
	if err != nil {
		return nil, err
	}
	for _, ep := range answer {
		m := map[string]bool{}
		for _, pa := range ep.PrivAvailability {
			m[pa.PrivId] = pa.IsGranted
		}
		granted[ep.Entity] = m
	}
	return granted, nil
}

// readPrivilegeList returns the privilege ids this vCenter defines, or nil
// when it shows none.
func (s *session) readPrivilegeList(ctx context.Context, authz types.ManagedObjectReference) (map[string]bool, error) {
	objects, err := s.retrieve(ctx, types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: authz}},
		PropSet:   []types.PropertySpec{{Type: "AuthorizationManager", PathSet: []string{"privilegeList"}}},
	})
	if err != nil {
		return nil, err
	}
	defined := map[string]bool{}
	for _, oc := range objects {
		for _, p := range oc.PropSet {
			if list, ok := p.Val.(types.ArrayOfAuthorizationPrivilege); ok {
				for _, priv := range list.AuthorizationPrivilege {
					defined[priv.PrivId] = true
				}
			}
		}
	}
	if len(defined) == 0 {
		return nil, nil
	}
	return defined, nil
}

// undefined returns the ids (deduplicated, sorted) not in defined.
func undefined(ids []string, defined map[string]bool) []string {
	var out []string
	for _, id := range ids {
		if !defined[id] && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// privilegeSubjects are the objects the providers work on: the root, the
// configured datacenter, datastore, folder and resource pool (or, with no
// pool configured, the pools the node VMs run in), and the node VMs.
func privilegeSubjects(inv *inventory, r *resolved, nodes []NodeReport) []Subject {
	subjects := []Subject{{Kind: ObjectRoot, Object: "/", ref: r.root.ref}}
	add := func(kind string, e *entity) {
		if e != nil {
			subjects = append(subjects, Subject{Kind: kind, Object: e.path, ref: e.ref})
		}
	}
	add(ObjectDatacenter, r.datacenter)
	add(ObjectDatastore, r.datastore)
	add(ObjectFolder, r.folder)
	if r.pool != nil {
		add(ObjectPool, r.pool)
	} else {
		var pools []*entity
		for _, n := range nodes {
			if n.Found && n.pool != nil {
				if p := inv.get(*n.pool); p != nil && !slices.Contains(pools, p) {
					pools = append(pools, p)
				}
			}
		}
		slices.SortFunc(pools, func(a, b *entity) int { return strings.Compare(a.path, b.path) })
		for _, p := range pools {
			add(ObjectPool, p)
		}
	}
	for _, n := range nodes {
		if n.Found {
			subjects = append(subjects, Subject{Kind: ObjectNodeVM, Object: n.VM, Node: n.Name, ref: n.ref})
		}
	}
	return subjects
}

// unsupported reports whether a fault says the vCenter does not have the
// method at all (an old release, or an ESXi host), rather than refusing it.
func unsupported(err error) bool {
	return fault.Is(err, &types.NotSupported{}) || fault.Is(err, &types.NotImplemented{}) || fault.Is(err, &types.MethodNotFound{})
}
