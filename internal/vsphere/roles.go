package vsphere

import (
	"context"
	"slices"
	"strings"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// RolePrefix starts the name of every role the charm makes.
const RolePrefix = "vsphere-integrator-"

// readOnlyRole is vCenter's built-in ReadOnly role; its id is fixed.
const (
	readOnlyRole   = "ReadOnly"
	readOnlyRoleID = int32(-2)
)

// role is a vCenter role as Dedicate grants it.
type role struct {
	id   int32
	name string
}

// roleTable is vCenter's roles and privilege ids, as one request reads them.
type roleTable struct {
	roles []types.AuthorizationRole
	// defined is the privilege ids vCenter defines; nil when it shows none.
	defined map[string]bool
}

// readRoles reads the role list and the privilege list together: a second
// request for the list alone would cost more than its bytes.
func (s *session) readRoles(ctx context.Context) (*roleTable, error) {
	authz := s.client.ServiceContent.AuthorizationManager
	if authz == nil {
		return nil, &BadAnswerError{Server: s.p.url.Host, Op: "read roles", What: "no authorization manager in the service content"}
	}
	objects, err := s.retrieve(ctx, types.PropertyFilterSpec{
		ObjectSet: []types.ObjectSpec{{Obj: *authz}},
		PropSet:   []types.PropertySpec{{Type: "AuthorizationManager", PathSet: []string{"roleList", "privilegeList"}}},
	})
	if err != nil {
		return nil, s.fail(ctx, "read roles", err)
	}
	t := &roleTable{}
	for _, oc := range objects {
		for _, p := range oc.PropSet {
			switch v := p.Val.(type) {
			case types.ArrayOfAuthorizationRole:
				t.roles = v.AuthorizationRole
			case types.ArrayOfAuthorizationPrivilege:
				for _, priv := range v.AuthorizationPrivilege {
					if t.defined == nil {
						t.defined = map[string]bool{}
					}
					t.defined[priv.PrivId] = true
				}
			}
		}
	}
	return t, nil
}

// byName is the role named name, in the table (a change to it is kept), or
// nil.
func (t *roleTable) byName(name string) *types.AuthorizationRole {
	for i := range t.roles {
		if t.roles[i].Name == name {
			return &t.roles[i]
		}
	}
	return nil
}

// nameOf is the name of the role with id, or "" when there is none.
func (t *roleTable) nameOf(id int32) string {
	for _, r := range t.roles {
		if r.RoleId == id {
			return r.Name
		}
	}
	return ""
}

// grantKinds are the kinds Dedicate grants on, from vCenter itself down to
// the node VMs.
func grantKinds() []string {
	return []string{ObjectRoot, ObjectDatacenter, ObjectDatastore, ObjectFolder, ObjectPool, ObjectNodeVM}
}

// roleFor is the role kind is granted with, and the privileges it holds
// (those of needs that this vCenter defines). ReadOnly when they are all
// system privileges (every role holds them).
func (t *roleTable) roleFor(kind string) (name string, ids, unknown []string) {
	for _, id := range privilegesOf(kind) {
		if t.defined != nil && !t.defined[id] {
			unknown = append(unknown, id)
			continue
		}
		ids = append(ids, id)
	}
	if isSubset(ids, systemPrivileges) {
		return readOnlyRole, nil, unknown
	}
	return RolePrefix + grants[kind].slug, ids, unknown
}

func isSubset(a, b []string) bool {
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// samePrivileges compares two privilege sets, the system privileges aside
// (vCenter adds them to every role).
func samePrivileges(a, b []string) bool {
	norm := func(ids []string) []string {
		out := slices.Clone(ids)
		for _, id := range systemPrivileges {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return slices.Equal(norm(a), norm(b))
}

// ensureRoles makes the roles each kind is granted with, looked up by name
// (a role's id differs between vCenters), and updates one whose privileges
// differ from what needs lists now (an upgrade changed the list).
func (d *dedication) ensureRoles(ctx context.Context, t *roleTable) (map[string]role, error) {
	s := d.s
	authz := object.NewAuthorizationManager(s.client)
	out := map[string]role{}
	for _, kind := range grantKinds() {
		name, ids, unknown := t.roleFor(kind)
		for _, id := range unknown {
			if !slices.Contains(d.rep.Unknown, id) {
				d.rep.Unknown = append(d.rep.Unknown, id)
			}
		}
		if name == readOnlyRole {
			id := readOnlyRoleID
			if r := t.byName(readOnlyRole); r != nil {
				id = r.RoleId
			}
			out[kind] = role{id: id, name: readOnlyRole}
			continue
		}
		existing := t.byName(name)
		switch {
		case existing == nil:
			id, err := authz.AddRole(ctx, name, ids)
			if err != nil {
				return nil, d.roleFail(ctx, "make role "+name, err)
			}
			t.roles = append(t.roles, types.AuthorizationRole{RoleId: id, Name: name, Privilege: ids})
			out[kind] = role{id: id, name: name}
			d.rep.RolesChanged = append(d.rep.RolesChanged, name)
		case !samePrivileges(existing.Privilege, ids):
			if err := authz.UpdateRole(ctx, existing.RoleId, name, ids); err != nil {
				return nil, d.roleFail(ctx, "update role "+name, err)
			}
			existing.Privilege = ids
			out[kind] = role{id: existing.RoleId, name: name}
			d.rep.RolesChanged = append(d.rep.RolesChanged, name)
		default:
			out[kind] = role{id: existing.RoleId, name: name}
		}
		d.rep.Roles = append(d.rep.Roles, name)
	}
	slices.Sort(d.rep.Roles)
	slices.Sort(d.rep.RolesChanged)
	slices.Sort(d.rep.Unknown)
	return out, nil
}

// roleFail names the missing right when vCenter refused a role change.
func (d *dedication) roleFail(ctx context.Context, op string, err error) error {
	if isFault(err) && fault.Is(err, &types.NoPermission{}) {
		return &MissingRightError{Server: d.s.p.url.Host, User: d.s.p.target.User, Right: RightModifyRoles, Err: err}
	}
	return d.s.fail(ctx, op, err)
}

// removeRoles deletes the RolePrefix roles no permission uses, each with
// failIfUsed so that one granted meanwhile stays; a role vCenter says is in
// use is kept and reported.
func (d *dedication) removeRoles(ctx context.Context, t *roleTable, perms []types.Permission) error {
	used := map[int32]bool{}
	for _, p := range perms {
		used[p.RoleId] = true
	}
	var ours []types.AuthorizationRole
	for _, r := range t.roles {
		if strings.HasPrefix(r.Name, RolePrefix) {
			ours = append(ours, r)
		}
	}
	slices.SortFunc(ours, func(a, b types.AuthorizationRole) int { return strings.Compare(a.Name, b.Name) })
	for _, r := range ours {
		if used[r.RoleId] {
			d.rep.RolesKept = append(d.rep.RolesKept, r.Name)
			continue
		}
		err := object.NewAuthorizationManager(d.s.client).RemoveRole(ctx, r.RoleId, true)
		switch {
		case err == nil:
			d.rep.RolesRemoved = append(d.rep.RolesRemoved, r.Name)
		case isFault(err) && fault.Is(err, &types.NotFound{}):
			// Gone already: what was asked for.
		case isFault(err) && (fault.Is(err, &types.RemoveFailed{}) || fault.Is(err, &types.ResourceInUse{})):
			d.rep.RolesKept = append(d.rep.RolesKept, r.Name)
		default:
			return d.roleFail(ctx, "delete role "+r.Name, err)
		}
	}
	return nil
}
