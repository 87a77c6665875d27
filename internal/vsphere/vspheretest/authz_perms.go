package vspheretest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Permissions and roles as vCenter keeps them (vSphere API reference,
// AuthorizationManager). vcsim's SetEntityPermissions replaces an object's
// whole list, where vCenter adds or updates the principals given and leaves
// the others': a charm tested on vcsim could drop an administrator's
// permission unseen. vcsim also gives every new role id 0 and removes a
// role whatever uses it. The store here replaces vcsim's, which its
// AuthorizationManager keeps unexported.

// seedPermissions starts the store from vcsim's own permissions (its
// default users' Admin on the root) and the role ids above every existing
// one; called before the server starts.
func (m *authorizationManager) seedPermissions() {
	m.perms = map[types.ManagedObjectReference][]types.Permission{}
	res := m.AuthorizationManager.RetrieveAllPermissions(&types.RetrieveAllPermissions{}).(*methods.RetrieveAllPermissionsBody)
	for _, p := range res.Res.Returnval {
		if p.Entity != nil {
			m.perms[*p.Entity] = append(m.perms[*p.Entity], p)
		}
	}
	m.nextRole = 1
	for _, r := range m.RoleList {
		m.nextRole = max(m.nextRole, r.RoleId+1)
	}
}

func authzFault(msg string, f types.BaseMethodFault) *soap.Fault { return simulator.Fault(msg, f) }

// entityFault is the fault for a reference that is not an entity.
func entityFault(reg *simulator.Registry, e types.ManagedObjectReference) *soap.Fault {
	if _, ok := reg.Get(e).(mo.Entity); !ok {
		return authzFault("", &types.ManagedObjectNotFound{Obj: e})
	}
	return nil
}

// role is the role with id; called with m.mu held.
func (m *authorizationManager) role(id int32) *types.AuthorizationRole {
	for i := range m.RoleList {
		if m.RoleList[i].RoleId == id {
			return &m.RoleList[i]
		}
	}
	return nil
}

func (m *authorizationManager) roleNamed(name string) *types.AuthorizationRole {
	for i := range m.RoleList {
		if m.RoleList[i].Name == name {
			return &m.RoleList[i]
		}
	}
	return nil
}

// samePrincipal reports whether two permissions are for one principal.
func samePrincipal(a, b types.Permission) bool {
	return a.Group == b.Group && principalKey(a.Principal) == principalKey(b.Principal)
}

// checkPermissions refuses what vCenter refuses in a permission list: an
// unknown role (NotFound), the View or Anonymous role, or no principal
// (InvalidArgument). Called with m.mu held.
func (m *authorizationManager) checkPermissions(perms []types.Permission) *soap.Fault {
	for _, p := range perms {
		switch {
		case strings.TrimSpace(p.Principal) == "":
			return authzFault("no principal", &types.InvalidArgument{InvalidProperty: "principal"})
		case m.role(p.RoleId) == nil:
			return authzFault(fmt.Sprintf("role %d not found", p.RoleId), &types.NotFound{})
		case p.RoleId == viewRoleID || p.RoleId == anonymousRoleID:
			return authzFault("the View and Anonymous roles cannot be granted", &types.InvalidArgument{InvalidProperty: "roleId"})
		}
	}
	return nil
}

// put adds or replaces p among e's permissions; called with m.mu held.
func (m *authorizationManager) put(e types.ManagedObjectReference, p types.Permission) {
	p.Entity = &e
	list := m.perms[e]
	if i := slices.IndexFunc(list, func(q types.Permission) bool { return samePrincipal(p, q) }); i >= 0 {
		list[i] = p
		return
	}
	m.perms[e] = append(list, p)
}

func (m *authorizationManager) SetEntityPermissions(ctx *simulator.Context, req *types.SetEntityPermissions) soap.HasFault {
	body := &methods.SetEntityPermissionsBody{}
	if body.Fault_ = m.setPermissions(ctx, req.Entity, req.Permission, false); body.Fault_ == nil {
		body.Res = &types.SetEntityPermissionsResponse{}
	}
	return body
}

// ResetEntityPermissions is the one call that replaces an entity's list.
func (m *authorizationManager) ResetEntityPermissions(ctx *simulator.Context, req *types.ResetEntityPermissions) soap.HasFault {
	body := &methods.ResetEntityPermissionsBody{}
	if body.Fault_ = m.setPermissions(ctx, req.Entity, req.Permission, true); body.Fault_ == nil {
		body.Res = &types.ResetEntityPermissionsResponse{}
	}
	return body
}

// setPermissions adds or updates the principals of perms on e, after
// dropping every other principal's when replace.
func (m *authorizationManager) setPermissions(ctx *simulator.Context, e types.ManagedObjectReference, perms []types.Permission, replace bool) *soap.Fault {
	if f := entityFault(ctx.Map, e); f != nil {
		return f
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f := m.checkPermissions(perms); f != nil {
		return f
	}
	if replace {
		delete(m.perms, e)
	}
	for _, p := range perms {
		m.put(e, p)
	}
	return nil
}

func (m *authorizationManager) RemoveEntityPermission(ctx *simulator.Context, req *types.RemoveEntityPermission) soap.HasFault {
	body := &methods.RemoveEntityPermissionBody{}
	if f := entityFault(ctx.Map, req.Entity); f != nil {
		body.Fault_ = f
		return body
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	want := types.Permission{Principal: req.User, Group: req.IsGroup}
	list := m.perms[req.Entity]
	i := slices.IndexFunc(list, func(p types.Permission) bool { return samePrincipal(want, p) })
	if i < 0 {
		body.Fault_ = authzFault("no permission for "+req.User+" on "+req.Entity.Value, &types.NotFound{})
		return body
	}
	m.perms[req.Entity] = slices.Delete(list, i, i+1)
	body.Res = &types.RemoveEntityPermissionResponse{}
	return body
}

// ancestors are every object e inherits from, nearest first, each once.
func ancestors(reg *simulator.Registry, e types.ManagedObjectReference) []types.ManagedObjectReference {
	var out []types.ManagedObjectReference
	for _, start := range parents(reg, e) {
		for o := &start; o != nil; o = parentOf(reg, *o) {
			if !slices.Contains(out, *o) {
				out = append(out, *o)
			}
		}
	}
	return out
}

func (m *authorizationManager) RetrieveEntityPermissions(ctx *simulator.Context, req *types.RetrieveEntityPermissions) soap.HasFault {
	body := &methods.RetrieveEntityPermissionsBody{}
	if f := entityFault(ctx.Map, req.Entity); f != nil {
		body.Fault_ = f
		return body
	}
	var up []types.ManagedObjectReference
	if req.Inherited {
		up = ancestors(ctx.Map, req.Entity)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.perms[req.Entity])
	for _, a := range up {
		for _, p := range m.perms[a] {
			if p.Propagate {
				out = append(out, p)
			}
		}
	}
	body.Res = &types.RetrieveEntityPermissionsResponse{Returnval: out}
	return body
}

// all is every permission, in a stable order; called with m.mu held.
func (m *authorizationManager) all() []types.Permission {
	var out []types.Permission
	for _, list := range m.perms {
		out = append(out, list...)
	}
	slices.SortFunc(out, func(a, b types.Permission) int {
		return cmp.Or(strings.Compare(a.Entity.Type, b.Entity.Type), strings.Compare(a.Entity.Value, b.Entity.Value), strings.Compare(a.Principal, b.Principal))
	})
	return out
}

func (m *authorizationManager) RetrieveAllPermissions(*types.RetrieveAllPermissions) soap.HasFault {
	m.mu.Lock()
	defer m.mu.Unlock()
	return &methods.RetrieveAllPermissionsBody{Res: &types.RetrieveAllPermissionsResponse{Returnval: m.all()}}
}

func (m *authorizationManager) RetrieveRolePermissions(req *types.RetrieveRolePermissions) soap.HasFault {
	body := &methods.RetrieveRolePermissionsBody{}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.role(req.RoleId) == nil {
		body.Fault_ = authzFault(fmt.Sprintf("role %d not found", req.RoleId), &types.NotFound{})
		return body
	}
	out := slices.DeleteFunc(m.all(), func(p types.Permission) bool { return p.RoleId != req.RoleId })
	body.Res = &types.RetrieveRolePermissionsResponse{Returnval: out}
	return body
}

// privileges checks ids against the privilege list and adds the system
// privileges, as vCenter does to every role it is given; called with the
// object locked by vcsim.
func (m *authorizationManager) privileges(ids []string) ([]string, *soap.Fault) {
	out := slices.Clone(systemPrivileges)
	for _, id := range ids {
		if !m.defined(id) {
			return nil, authzFault("privilege "+id+" not defined", &types.InvalidArgument{InvalidProperty: "privIds"})
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

func (m *authorizationManager) AddAuthorizationRole(req *types.AddAuthorizationRole) soap.HasFault {
	body := &methods.AddAuthorizationRoleBody{}
	if strings.TrimSpace(req.Name) == "" {
		body.Fault_ = authzFault("empty role name", &types.InvalidName{Name: req.Name})
		return body
	}
	ids, f := m.privileges(req.PrivIds)
	if f != nil {
		body.Fault_ = f
		return body
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.roleNamed(req.Name) != nil {
		body.Fault_ = authzFault("role "+req.Name+" exists", &types.AlreadyExists{Name: req.Name})
		return body
	}
	id := m.nextRole
	m.nextRole++
	m.RoleList = append(m.RoleList, types.AuthorizationRole{
		RoleId:    id,
		Name:      req.Name,
		Info:      &types.Description{Label: req.Name, Summary: req.Name},
		Privilege: ids,
	})
	body.Res = &types.AddAuthorizationRoleResponse{Returnval: id}
	return body
}

// system reports whether a role is one of vCenter's own, which cannot be
// changed or removed.
func systemRole(r *types.AuthorizationRole) bool { return r.System || r.RoleId < 0 }

func (m *authorizationManager) UpdateAuthorizationRole(req *types.UpdateAuthorizationRole) soap.HasFault {
	body := &methods.UpdateAuthorizationRoleBody{}
	if strings.TrimSpace(req.NewName) == "" {
		body.Fault_ = authzFault("empty role name", &types.InvalidName{Name: req.NewName})
		return body
	}
	var ids []string
	if len(req.PrivIds) > 0 {
		var f *soap.Fault
		if ids, f = m.privileges(req.PrivIds); f != nil {
			body.Fault_ = f
			return body
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, f := m.customRole(req.RoleId, "changed")
	if f != nil {
		body.Fault_ = f
		return body
	}
	if o := m.roleNamed(req.NewName); o != nil && o.RoleId != req.RoleId {
		body.Fault_ = authzFault("role "+req.NewName+" exists", &types.AlreadyExists{Name: req.NewName})
		return body
	}
	r.Name = req.NewName
	r.Info = &types.Description{Label: req.NewName, Summary: req.NewName}
	if ids != nil {
		r.Privilege = ids
	}
	body.Res = &types.UpdateAuthorizationRoleResponse{}
	return body
}

// customRole is the role id names, which a call may change or remove
// (verb): NotFound for no such role, InvalidArgument for a system role, as
// vCenter answers. The caller holds m.mu.
func (m *authorizationManager) customRole(id int32, verb string) (*types.AuthorizationRole, *soap.Fault) {
	r := m.role(id)
	switch {
	case r == nil:
		return nil, authzFault(fmt.Sprintf("role %d not found", id), &types.NotFound{})
	case systemRole(r):
		return nil, authzFault("a system role cannot be "+verb, &types.InvalidArgument{InvalidProperty: "roleId"})
	}
	return r, nil
}

// RemoveAuthorizationRole refuses a role in use with RemoveFailed when
// failIfUsed is set; otherwise the permissions using it go with it.
func (m *authorizationManager) RemoveAuthorizationRole(req *types.RemoveAuthorizationRole) soap.HasFault {
	body := &methods.RemoveAuthorizationRoleBody{}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, f := m.customRole(req.RoleId, "removed")
	if f != nil {
		body.Fault_ = f
		return body
	}
	used := func(p types.Permission) bool { return p.RoleId == req.RoleId }
	if req.FailIfUsed && slices.ContainsFunc(m.all(), used) {
		body.Fault_ = authzFault(fmt.Sprintf("role %s is in use", r.Name), &types.RemoveFailed{})
		return body
	}
	for e, list := range m.perms {
		m.perms[e] = slices.DeleteFunc(list, used)
	}
	m.RoleList = slices.DeleteFunc(m.RoleList, func(r types.AuthorizationRole) bool { return r.RoleId == req.RoleId })
	body.Res = &types.RemoveAuthorizationRoleResponse{}
	return body
}

// Permission is one permission as PermissionsOf reports it.
type Permission struct {
	Path      string // inventory path, "/" for the root folder
	Role      string // the role's name
	Propagate bool
}

// PermissionsOf lists the permissions of a user principal (either
// spelling), sorted by path: what a test asserts a grant left behind.
func (s *Server) PermissionsOf(_ context.Context, principal string) ([]Permission, error) {
	reg := s.Model.Service.Context.Map
	m := s.authz
	key := principalKey(principal)
	type found struct {
		e    types.ManagedObjectReference
		role string
		prop bool
	}
	var fs []found
	m.mu.Lock()
	for e, list := range m.perms {
		for _, p := range list {
			if !p.Group && principalKey(p.Principal) == key {
				name := fmt.Sprintf("role %d", p.RoleId)
				if r := m.role(p.RoleId); r != nil {
					name = r.Name
				}
				fs = append(fs, found{e, name, p.Propagate})
			}
		}
	}
	m.mu.Unlock()
	out := make([]Permission, 0, len(fs))
	for _, f := range fs {
		path, err := inventoryPath(reg, f.e)
		if err != nil {
			return nil, err
		}
		out = append(out, Permission{Path: path, Role: f.role, Propagate: f.prop})
	}
	slices.SortFunc(out, func(a, b Permission) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// AddForeignPermission gives principal (a user, "DOMAIN\\name" or
// "name@domain") the role named roleName on the object at path (see Ref),
// propagating, as an administrator other than the charm would: a test then
// shows the charm leaves it alone.
func (s *Server) AddForeignPermission(ctx context.Context, path, principal, roleName string) error {
	ref, err := s.Ref(ctx, path)
	if err != nil {
		return err
	}
	m := s.authz
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.roleNamed(roleName)
	if r == nil {
		return fmt.Errorf("vspheretest: no role %s", roleName)
	}
	m.put(ref, types.Permission{Principal: principal, RoleId: r.RoleId, Propagate: true})
	return nil
}

// inventoryPath is the path of e as FindByInventoryPath takes it.
func inventoryPath(reg *simulator.Registry, e types.ManagedObjectReference) (string, error) {
	var names []string
	for o := &e; o != nil; {
		ent, ok := reg.Get(*o).(mo.Entity)
		if !ok {
			return "", fmt.Errorf("vspheretest: %s is not in the inventory", o.Value)
		}
		parent := ent.Entity().Parent
		if parent == nil {
			break // the root folder, whose name is not in paths
		}
		names = append(names, ent.Entity().Name)
		o = parent
	}
	slices.Reverse(names)
	return "/" + strings.Join(names, "/"), nil
}
