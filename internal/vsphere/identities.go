package vsphere

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/vmware/govmomi/vim25/types"
)

// Identity is one dedicated SSO user and the permissions it holds.
type Identity struct {
	User        string // "name@domain"
	Description string
	Objects     []Permission
}

// Identities lists the local SSO users whose name starts with userPrefix,
// with their permissions, sorted by user; each user's permissions in the
// order of the kinds, then by path. The report holds the counts and the
// Domain only. It takes the Target's credentials and TLS settings; the
// Target's inventory settings are not looked up.
//
// Requests: vim25 service content, login, permissions, roles, inventory,
// the VMs' names (only when a permission is on a VM), logout; SSO: the
// lookup service (2), STS, the SSO admin service content, login, the user
// search, logout.
func Identities(ctx context.Context, t Target, userPrefix string) ([]Identity, *DedicateReport, error) {
	rep := &DedicateReport{}
	if strings.TrimSpace(userPrefix) == "" {
		// An empty prefix would list every local user, the administrator
		// included, as the charm's.
		return nil, rep, &TargetError{Field: "user prefix", Err: errors.New("empty")}
	}
	var out []Identity
	requests, _, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) (err error) {
		d := &dedication{s: s, rep: rep}
		out, err = d.identities(ctx, userPrefix)
		return err
	})
	rep.Requests = requests
	if err != nil {
		return nil, rep, err
	}
	return out, rep, nil
}

func (d *dedication) identities(ctx context.Context, prefix string) (_ []Identity, err error) {
	s := d.s
	d.sso, err = s.openSSO(ctx)
	defer func() {
		d.sso.close(ctx)
		d.rep.SSORequests = d.sso.requests()
	}()
	if err != nil {
		return nil, err
	}
	d.rep.Domain = d.sso.domain
	users, err := d.sso.users(ctx, prefix)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	perms, err := d.allPermissions(ctx)
	if err != nil {
		return nil, err
	}
	table, err := s.readRoles(ctx)
	if err != nil {
		return nil, err
	}
	if d.inv, err = s.readInventory(ctx, false); err != nil {
		return nil, err
	}

	var out []Identity
	var unnamed []types.ManagedObjectReference
	mine := map[string][]types.Permission{}
	for _, u := range users {
		pr := principal{name: u.Id.Name, domain: u.Id.Domain}
		mine[pr.key()] = permissionsOf(perms, pr)
		for _, p := range mine[pr.key()] {
			if d.inv.get(*p.Entity) == nil && !slices.Contains(unnamed, *p.Entity) {
				unnamed = append(unnamed, *p.Entity)
			}
		}
	}
	if err := d.namePaths(ctx, unnamed); err != nil {
		return nil, err
	}
	kinds := grantKinds()
	for _, u := range users {
		pr := principal{name: u.Id.Name, domain: u.Id.Domain}
		id := Identity{User: pr.String(), Description: d.s.p.secrets.Server(u.Details.Description, maxServerText)}
		for _, p := range mine[pr.key()] {
			name := table.nameOf(p.RoleId)
			id.Objects = append(id.Objects, Permission{
				Kind:      kindOf(name, *p.Entity),
				Object:    d.s.p.secrets.Server(d.pathOf(*p.Entity), maxPathText),
				Role:      d.s.p.secrets.Server(name, maxServerText),
				Propagate: p.Propagate,
			})
		}
		slices.SortFunc(id.Objects, func(a, b Permission) int {
			if c := slices.Index(kinds, a.Kind) - slices.Index(kinds, b.Kind); c != 0 {
				return c
			}
			return strings.Compare(a.Object, b.Object)
		})
		out = append(out, id)
	}
	slices.SortFunc(out, func(a, b Identity) int { return strings.Compare(a.User, b.User) })
	return out, nil
}

// namePaths reads, in one request, the name and parent of objects the
// inventory does not hold (VMs), and gives each a path.
func (d *dedication) namePaths(ctx context.Context, refs []types.ManagedObjectReference) error {
	if len(refs) == 0 {
		return nil
	}
	spec := types.PropertyFilterSpec{PropSet: []types.PropertySpec{{Type: "ManagedEntity", PathSet: []string{"name", "parent"}}}}
	for _, ref := range refs {
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: ref})
	}
	objects, err := d.s.retrieve(ctx, spec)
	if err != nil {
		if isFault(err) {
			// The objects are gone, or vCenter would not name them: they
			// are listed by reference.
			return nil
		}
		return d.s.fail(ctx, "read object names", err)
	}
	if d.paths == nil {
		d.paths = map[types.ManagedObjectReference]string{}
	}
	for _, oc := range objects {
		vm := &vmInfo{ref: oc.Obj}
		for _, p := range oc.PropSet {
			switch v := p.Val.(type) {
			case string:
				if p.Name == "name" {
					vm.name = v
				}
			case types.ManagedObjectReference:
				if p.Name == "parent" {
					vm.parent = &v
				}
			}
		}
		if vm.name != "" {
			d.paths[oc.Obj] = d.inv.vmPath(vm)
		}
	}
	return nil
}

// kindOf is the kind of object a permission is for, from the role the charm
// gives that kind; "" for a role it does not give.
func kindOf(roleName string, ref types.ManagedObjectReference) string {
	if roleName == readOnlyRole && ref.Type == "Datacenter" {
		return ObjectDatacenter
	}
	if slug, ok := strings.CutPrefix(roleName, RolePrefix); ok {
		for kind, g := range grants {
			if g.slug == slug {
				return kind
			}
		}
	}
	return ""
}
