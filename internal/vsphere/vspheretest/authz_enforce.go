package vspheretest

import (
	"reflect"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// vcsim lets every session do everything. A vCenter answers each call from
// the caller's permissions: a dedicated user that may only attach disks to
// its node VMs must be refused a power-off, or a test of what the charm
// grants proves nothing. Enforcement here applies to sessions of users
// other than the trusted account (Options.User), whose rights stay those of
// DenyPrivilege (docs/vcenter.md, "The simulator's authorization, made to
// behave like vCenter").

// principalKey is how principals are compared: vCenter takes
// "user@domain" and "DOMAIN\user", the domain in any case, for one.
func principalKey(name string) string { return CanonicalPrincipal(name) }

// systemPrivileges are in every role but NoAccess; vCenter adds them to a
// role whatever it is given.
var systemPrivileges = []string{"System.Anonymous", "System.Read", "System.View"}

// vCenter's fixed role ids.
const (
	adminRoleID     = int32(-1)
	viewRoleID      = int32(-3)
	anonymousRoleID = int32(-4)
	noAccessRoleID  = int32(-5)
)

// privSet is the privileges a user holds on one entity.
type privSet struct {
	all bool // the Admin role: every privilege
	ids map[string]bool
}

func (p privSet) has(id string) bool { return p.all || p.ids[id] }

func (p *privSet) add(q privSet) {
	if q.all {
		p.all = true
	}
	for id := range q.ids {
		if p.ids == nil {
			p.ids = map[string]bool{}
		}
		p.ids[id] = true
	}
}

// trusted reports whether user is the account the simulator was started
// with, which keeps vcsim's grant-everything (less DenyPrivilege).
func (s *Server) trusted(user string) bool {
	return user == "" || principalKey(user) == principalKey(s.User)
}

// roleSet is the privileges of a role; called with m.mu held.
func (m *authorizationManager) roleSet(id int32) privSet {
	switch id {
	case adminRoleID:
		return privSet{all: true}
	case noAccessRoleID:
		return privSet{}
	}
	for _, r := range m.RoleList {
		if r.RoleId != id {
			continue
		}
		p := privSet{ids: map[string]bool{}}
		for _, priv := range r.Privilege {
			p.ids[priv] = true
		}
		return p
	}
	return privSet{} // a role removed since: nothing
}

// own is key's user permission set on e; called with m.mu held.
func (m *authorizationManager) own(e types.ManagedObjectReference, key string) (types.Permission, bool) {
	for _, p := range m.perms[e] {
		if !p.Group && principalKey(p.Principal) == key {
			return p, true
		}
	}
	return types.Permission{}, false
}

// parents are the objects e inherits permissions from: its parent and, for
// a VM, its resource pool too (vCenter's VMs inherit from both).
func parents(reg *simulator.Registry, e types.ManagedObjectReference) []types.ManagedObjectReference {
	obj := reg.Get(e)
	ent, ok := obj.(mo.Entity)
	if !ok {
		return nil
	}
	var out []types.ManagedObjectReference
	if p := ent.Entity().Parent; p != nil {
		out = append(out, *p)
	}
	if vm, ok := obj.(*simulator.VirtualMachine); ok && vm.ResourcePool != nil {
		out = append(out, *vm.ResourcePool)
	}
	return out
}

// parentOf is the parent of e, or nil at the root.
func parentOf(reg *simulator.Registry, e types.ManagedObjectReference) *types.ManagedObjectReference {
	if ent, ok := reg.Get(e).(mo.Entity); ok {
		return ent.Entity().Parent
	}
	return nil
}

// effective is what user holds on e, as vCenter evaluates it: the user's
// own permission on e; else, on each line of ancestors, the nearest
// propagating one (a permission on a child overrides its parent's for the
// same principal), the lines' privileges together. Group permissions are
// not applied: the simulator knows no group membership.
func (m *authorizationManager) effective(reg *simulator.Registry, user string, e types.ManagedObjectReference) privSet {
	key := principalKey(user)
	lines := parents(reg, e)
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.own(e, key); ok {
		return m.roleSet(p.RoleId)
	}
	var out privSet
	for _, start := range lines {
		for o := &start; o != nil; o = parentOf(reg, *o) {
			if p, ok := m.own(*o, key); ok && p.Propagate {
				out.add(m.roleSet(p.RoleId))
				break
			}
		}
	}
	return out
}

// need is one privilege a call needs on one object.
type need struct {
	obj  types.ManagedObjectReference
	priv string
}

// enforce is the simulator's method hook: it refuses a call the session's
// user lacks a privilege for, with the NoPermission vCenter sends. Calls
// the Server makes in process are never refused.
func (m *authorizationManager) enforce(ctx *simulator.Context, method *simulator.Method) types.BaseMethodFault {
	if ctx.Session == nil || ctx.Value(internalCall{}) != nil {
		return nil
	}
	user := ctx.Session.UserName
	trusted := m.s.trusted(user)
	for _, n := range m.needs(ctx.Map, method, trusted) {
		refused := false
		if trusted {
			refused = m.s.isDenied(n.obj, n.priv)
		} else {
			refused = !m.effective(ctx.Map, user, n.obj).has(n.priv)
		}
		if refused {
			obj := n.obj
			return &types.NoPermission{
				Object:            &obj,
				PrivilegeId:       n.priv,
				MissingPrivileges: []types.NoPermissionEntityPrivileges{{Entity: obj, PrivilegeIds: []string{n.priv}}},
			}
		}
	}
	return nil
}

// needs lists what a call needs (vSphere API reference, "Required
// privileges"). The trusted account is only held to the authorization
// manager's: its other denials are for the privilege check to report, and
// the operations must still run. Calls not listed need nothing here.
func (m *authorizationManager) needs(reg *simulator.Registry, method *simulator.Method, trusted bool) []need {
	root := m.s.Model.ServiceContent.RootFolder
	switch req := method.Body.(type) {
	case *types.AddAuthorizationRole, *types.UpdateAuthorizationRole, *types.RemoveAuthorizationRole:
		return []need{{root, "Authorization.ModifyRoles"}}
	case *types.SetEntityPermissions:
		return []need{{req.Entity, "Authorization.ModifyPermissions"}}
	case *types.ResetEntityPermissions:
		return []need{{req.Entity, "Authorization.ModifyPermissions"}}
	case *types.RemoveEntityPermission:
		return []need{{req.Entity, "Authorization.ModifyPermissions"}}
	}
	if trusted {
		return nil
	}
	switch req := method.Body.(type) {
	case *types.PowerOnVM_Task:
		return []need{{method.This, "VirtualMachine.Interact.PowerOn"}}
	case *types.PowerOffVM_Task:
		return []need{{method.This, "VirtualMachine.Interact.PowerOff"}}
	case *types.Destroy_Task:
		if method.This.Type == "VirtualMachine" {
			return []need{{method.This, "VirtualMachine.Inventory.Delete"}}
		}
	case *types.ReconfigVM_Task:
		var out []need
		for _, id := range reconfigPrivileges(&req.Spec) {
			out = append(out, need{method.This, id})
		}
		return out
	case *types.CreateVirtualDisk_Task:
		return fileNeed(reg, req.Name, req.Datacenter)
	case *types.DeleteVirtualDisk_Task:
		return fileNeed(reg, req.Name, req.Datacenter)
	case *types.MakeDirectory:
		return fileNeed(reg, req.Name, req.Datacenter)
	case *types.DeleteDatastoreFile_Task:
		return fileNeed(reg, req.Name, req.Datacenter)
	}
	return nil
}

// fileNeed is Datastore.FileManagement on the datastore a "[ds] path"
// names, in dc when given. A datastore that cannot be found needs nothing
// here: vcsim answers the call with its own fault.
func fileNeed(reg *simulator.Registry, name string, dc *types.ManagedObjectReference) []need {
	var p object.DatastorePath
	if !p.FromString(name) {
		return nil
	}
	for _, obj := range reg.AllReference("Datastore") {
		ds, ok := obj.(*simulator.Datastore)
		if !ok || ds.Name != p.Datastore {
			continue
		}
		if dc != nil && !below(reg, ds.Self, *dc) {
			continue
		}
		return []need{{ds.Self, "Datastore.FileManagement"}}
	}
	return nil
}

// below reports whether e is anc or under it.
func below(reg *simulator.Registry, e, anc types.ManagedObjectReference) bool {
	for o := &e; o != nil; o = parentOf(reg, *o) {
		if *o == anc {
			return true
		}
	}
	return false
}

// reconfigPrivileges is what a ReconfigVM_Task spec needs on the VM, one
// VirtualMachine.Config privilege per kind of change: disks added (new or
// existing), removed or edited, other devices added or removed, advanced
// options, CPU, memory, name, notes, and Settings for anything else.
func reconfigPrivileges(spec *types.VirtualMachineConfigSpec) []string {
	var ids []string
	add := func(id string) {
		for _, have := range ids {
			if have == id {
				return
			}
		}
		ids = append(ids, id)
	}
	const cfg = "VirtualMachine.Config."
	for _, dc := range spec.DeviceChange {
		d := dc.GetVirtualDeviceConfigSpec()
		_, disk := d.Device.(*types.VirtualDisk)
		switch {
		case disk && d.Operation == types.VirtualDeviceConfigSpecOperationAdd && d.FileOperation == types.VirtualDeviceConfigSpecFileOperationCreate:
			add(cfg + "AddNewDisk")
		case disk && d.Operation == types.VirtualDeviceConfigSpecOperationAdd:
			add(cfg + "AddExistingDisk")
		case disk && d.Operation == types.VirtualDeviceConfigSpecOperationRemove:
			add(cfg + "RemoveDisk")
		case d.Operation == types.VirtualDeviceConfigSpecOperationEdit:
			add(cfg + "EditDevice")
		default:
			add(cfg + "AddRemoveDevice")
		}
	}
	if len(spec.ExtraConfig) > 0 {
		add(cfg + "AdvancedConfig")
	}
	if spec.NumCPUs != 0 {
		add(cfg + "CPUCount")
	}
	if spec.MemoryMB != 0 {
		add(cfg + "Memory")
	}
	if spec.Name != "" {
		add(cfg + "Rename")
	}
	if spec.Annotation != "" {
		add(cfg + "Annotation")
	}
	rest := *spec
	rest.DeviceChange, rest.ExtraConfig = nil, nil
	rest.NumCPUs, rest.MemoryMB, rest.Name, rest.Annotation, rest.ChangeVersion = 0, 0, "", "", ""
	if !reflect.DeepEqual(rest, types.VirtualMachineConfigSpec{}) {
		add(cfg + "Settings")
	}
	return ids
}
