package vsphere

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/vim25/types"
)

// NewUser is an SSO user for Dedicate to make. Name is the local part: the
// user is made in the local SSO domain.
type NewUser struct{ Name, Password, Description string }

// DedicateRequest is what one Dedicate call does, in this order: make
// users, ensure the roles, grant, remove, remove the roles.
type DedicateRequest struct {
	// Make are users to make; each is granted too.
	Make []NewUser
	// Grant are existing principals ("name@domain") whose permissions to
	// (re)apply on the objects of the Target, its node VMs included.
	Grant []string
	// Remove are principals to delete: their permissions on every object,
	// then the SSO user. A user already gone is not an error.
	Remove []string
	// RemoveRoles: then delete the RolePrefix roles no permission uses. A
	// role in use stays and is reported (RolesKept).
	RemoveRoles bool
}

// Grant is the permissions one principal holds after Dedicate.
type Grant struct {
	Principal string // "name@domain"
	Objects   []Permission
}

// Permission is one permission of a dedicated identity. Kind is one of
// ObjectRoot, ObjectDatacenter, ... ("" when Identities finds one the
// charm would not have set); Object is an inventory path ("/" for the
// root).
type Permission struct {
	Kind, Object, Role string
	Propagate          bool
}

// DedicateReport is what Dedicate (or Identities: the counts and Domain
// only) did.
type DedicateReport struct {
	Domain       string   // the local SSO domain; "" when no SSO session was needed
	Made         []string // full principal names made
	Granted      []Grant
	Removed      []string
	Roles        []string // RolePrefix roles ensured, sorted
	RolesChanged []string // created or updated this time
	RolesKept    []string // RemoveRoles: in use, left
	RolesRemoved []string // RemoveRoles: deleted
	// Unknown are privilege ids of needs this vCenter does not define (an
	// older release); the roles were made without them.
	Unknown []string
	// Changes counts the permissions set or removed: 0 for a repeat of a
	// grant that holds already.
	Changes     int
	Requests    int // vim25 SOAP requests, logout included
	SSORequests int // lookup, STS and SSO admin requests, logout included
}

// Dedicate makes, grants and deletes dedicated identities (docs/vcenter.md,
// "Dedicated identities") with the Target's credentials, which must be
// those of an account that may administer SSO users (only when Make or
// Remove is given), roles and permissions. It resolves the Target as Check
// does, in one vim25 session, and opens one SSO admin session only when
// Make or Remove is given.
//
// Nothing is left half-made: when a step fails after users were made, those
// users and their permissions are deleted again before Dedicate returns
// (what could not be is in a *LeftoverError). Errors are Check's, plus
// *MissingRightError naming the right the trusted account lacks, and
// *TargetError for a request that cannot be carried out as given. The
// report is never nil: on error it says what was done before it.
//
// Requests (vim25): service content, login, inventory, node VMs (none
// without nodes), roles, permissions (only to grant or remove an existing
// principal), one per role made or updated, one per permission set or
// removed, logout: 7 for a repeat of a grant that holds already. SSO, with
// Make or Remove: lookup service (2), STS, SSO admin service content, login,
// one per user made, two per user removed, logout.
func Dedicate(ctx context.Context, t Target, req DedicateRequest) (*DedicateReport, error) {
	rep := &DedicateReport{}
	if err := req.validate(); err != nil {
		return rep, err
	}
	requests, _, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) error {
		d := &dedication{s: s, rep: rep}
		return d.run(ctx, req)
	})
	rep.Requests = requests
	return rep, err
}

// dedication is one Dedicate or Identities call inside its session.
type dedication struct {
	s   *session
	sso *ssoSession
	rep *DedicateReport
	// inv and subjects are the Target resolved; paths names the subjects.
	inv      *inventory
	subjects []Subject
	paths    map[types.ManagedObjectReference]string
	// perms is every permission vCenter holds, read once when an existing
	// principal is granted or removed.
	perms []types.Permission
	// set lists, per principal key, the objects this call gave a
	// permission, for undo.
	set map[string][]types.ManagedObjectReference
}

func (d *dedication) run(ctx context.Context, req DedicateRequest) (err error) {
	s, p := d.s, d.s.p
	for _, u := range req.Make {
		p.secrets.Add(u.Password)
	}
	if err := d.notTrusted(req); err != nil {
		return err
	}
	if err := d.resolve(ctx); err != nil {
		return err
	}
	if len(req.Make) > 0 || len(req.Remove) > 0 {
		d.sso, err = s.openSSO(ctx)
		defer func() {
			d.sso.close(ctx)
			d.rep.SSORequests = d.sso.requests()
		}()
		if err != nil {
			return err
		}
		d.rep.Domain = d.sso.domain
	}
	grantTo, _ := parsePrincipals(req.Grant)
	remove, _ := parsePrincipals(req.Remove)
	for _, pr := range remove {
		if !d.sso.local(pr) {
			return &TargetError{Field: "principal to remove", Err: fmt.Errorf("%s is not in the local SSO domain %s", pr, d.sso.domain)}
		}
	}

	var made []principal
	defer func() {
		if err != nil && len(made) > 0 {
			err = d.undo(ctx, made, err)
		}
	}()
	for _, u := range req.Make {
		if err := d.sso.makeUser(ctx, u); err != nil {
			return err
		}
		pr := d.sso.principal(u.Name)
		made = append(made, pr)
		d.rep.Made = append(d.rep.Made, pr.String())
	}

	var table *roleTable
	var roles map[string]role
	if len(made)+len(grantTo) > 0 {
		if table, err = s.readRoles(ctx); err != nil {
			return err
		}
		if roles, err = d.ensureRoles(ctx, table); err != nil {
			return err
		}
	}
	if len(grantTo)+len(remove) > 0 {
		if d.perms, err = d.allPermissions(ctx); err != nil {
			return err
		}
	}
	for _, pr := range append(slices.Clone(made), grantTo...) {
		if err := d.grant(ctx, pr, roles); err != nil {
			return err
		}
	}
	for _, pr := range remove {
		if err := d.remove(ctx, pr); err != nil {
			return err
		}
	}
	if req.RemoveRoles {
		if table == nil {
			if table, err = s.readRoles(ctx); err != nil {
				return err
			}
		}
		// Read again: the grants and removals above changed them.
		perms, err := d.allPermissions(ctx)
		if err != nil {
			return err
		}
		if err := d.removeRoles(ctx, table, perms); err != nil {
			return err
		}
	}
	return nil
}

// resolve finds the Target's objects as the check does, and the objects to
// grant on as the privilege check lists them.
func (d *dedication) resolve(ctx context.Context) error {
	s, t := d.s, d.s.p.target
	inv, err := s.readInventory(ctx, len(t.Nodes) > 0)
	if err != nil {
		return err
	}
	r, err := resolve(inv, s.client.ServiceContent.RootFolder, s.p)
	if err != nil {
		return err
	}
	var nodes []NodeReport
	if len(t.Nodes) > 0 {
		if nodes, err = s.readNodes(ctx, inv, t.Nodes, nil); err != nil {
			return err
		}
	}
	d.inv = inv
	d.subjects = privilegeSubjects(inv, r, nodes)
	d.paths = map[types.ManagedObjectReference]string{}
	for _, sub := range d.subjects {
		d.paths[sub.ref] = sub.Object
	}
	return nil
}

// notTrusted refuses a request that would grant or remove the trusted
// account itself: its own permissions are not the charm's to change.
func (d *dedication) notTrusted(req DedicateRequest) error {
	trusted := []string{keyOf(d.s.p.target.User), keyOf(d.s.user)}
	for _, name := range slices.Concat(req.Grant, req.Remove) {
		if slices.Contains(trusted, keyOf(name)) {
			return &TargetError{Field: "principal", Err: fmt.Errorf("%s is the trusted account", name)}
		}
	}
	return nil
}

// pathOf names an object for reports and errors.
func (d *dedication) pathOf(ref types.ManagedObjectReference) string {
	if p, ok := d.paths[ref]; ok {
		return p
	}
	if ref == d.s.client.ServiceContent.RootFolder {
		return "/"
	}
	if d.inv != nil {
		if e := d.inv.get(ref); e != nil {
			return e.path
		}
	}
	return ref.Type + " " + ref.Value
}

// allPermissions reads every permission vCenter holds, in one request.
func (d *dedication) allPermissions(ctx context.Context) ([]types.Permission, error) {
	perms, err := object.NewAuthorizationManager(d.s.client).RetrieveAllPermissions(ctx)
	if err != nil {
		return nil, d.s.fail(ctx, "read permissions", err)
	}
	return slices.DeleteFunc(perms, func(p types.Permission) bool { return p.Entity == nil }), nil
}

// permissionsOf are pr's own permissions (not its groups') among perms.
func permissionsOf(perms []types.Permission, pr principal) []types.Permission {
	var out []types.Permission
	for _, p := range perms {
		if !p.Group && keyOf(p.Principal) == pr.key() {
			out = append(out, p)
		}
	}
	return out
}

// grant gives pr the role of each subject's kind on it, for pr alone
// (SetEntityPermissions adds or updates the principals it is given, and is
// given pr only), and removes pr's permissions on objects no longer among
// the subjects (a departed node VM). A permission that holds already is
// not set again.
func (d *dedication) grant(ctx context.Context, pr principal, roles map[string]role) error {
	authz := object.NewAuthorizationManager(d.s.client)
	have := map[types.ManagedObjectReference]types.Permission{}
	for _, p := range permissionsOf(d.perms, pr) {
		have[*p.Entity] = p
	}
	g := Grant{Principal: pr.String()}
	wanted := map[types.ManagedObjectReference]bool{}
	for _, sub := range d.subjects {
		if wanted[sub.ref] {
			continue
		}
		wanted[sub.ref] = true
		r, on := roles[sub.Kind], grants[sub.Kind]
		g.Objects = append(g.Objects, Permission{Kind: sub.Kind, Object: sub.Object, Role: r.name, Propagate: on.propagate})
		if h, ok := have[sub.ref]; ok && h.RoleId == r.id && h.Propagate == on.propagate {
			continue
		}
		ref := sub.ref
		err := authz.SetEntityPermissions(ctx, ref, []types.Permission{{
			Entity: &ref, Principal: pr.vcenter(), RoleId: r.id, Propagate: on.propagate,
		}})
		if err != nil {
			return d.permissionFail(ctx, "grant "+pr.String()+" on "+sub.Object, ref, err)
		}
		if d.set == nil {
			d.set = map[string][]types.ManagedObjectReference{}
		}
		d.set[pr.key()] = append(d.set[pr.key()], ref)
		d.rep.Changes++
	}
	for ref, h := range have {
		if wanted[ref] {
			continue
		}
		if err := d.removePermission(ctx, authz, h); err != nil {
			return err
		}
	}
	d.rep.Granted = append(d.rep.Granted, g)
	return nil
}

// removePermission removes one permission; one already gone is not an
// error.
func (d *dedication) removePermission(ctx context.Context, authz *object.AuthorizationManager, p types.Permission) error {
	err := authz.RemoveEntityPermission(ctx, *p.Entity, p.Principal, p.Group)
	switch {
	case err == nil:
		d.rep.Changes++
		return nil
	case isFault(err) && fault.Is(err, &types.NotFound{}):
		return nil
	}
	return d.permissionFail(ctx, "remove the permission of "+p.Principal+" on "+d.pathOf(*p.Entity), *p.Entity, err)
}

// permissionFail names the missing right when vCenter refused a permission
// change on ref.
func (d *dedication) permissionFail(ctx context.Context, op string, ref types.ManagedObjectReference, err error) error {
	if isFault(err) && fault.Is(err, &types.NoPermission{}) {
		return &MissingRightError{Server: d.s.p.url.Host, User: d.s.p.target.User, Right: RightModifyPermissions + " on " + d.s.p.secrets.Server(d.pathOf(ref), maxPathText), Err: err}
	}
	return d.s.fail(ctx, op, err)
}

// remove deletes every permission of pr, then the SSO user.
func (d *dedication) remove(ctx context.Context, pr principal) error {
	authz := object.NewAuthorizationManager(d.s.client)
	for _, p := range permissionsOf(d.perms, pr) {
		if err := d.removePermission(ctx, authz, p); err != nil {
			return err
		}
	}
	if _, err := d.sso.deleteUser(ctx, pr); err != nil {
		return err
	}
	d.rep.Removed = append(d.rep.Removed, pr.String())
	return nil
}

// undo deletes the users this call made, and the permissions it gave them,
// with a context that outlives ctx by up to cleanupGrace: the call failed,
// and must not leave them behind.
func (d *dedication) undo(ctx context.Context, made []principal, cause error) error {
	ctx, cancel := graceContext(ctx, cleanupGrace)
	defer cancel()
	authz := object.NewAuthorizationManager(d.s.client)
	var left []string
	for _, pr := range made {
		for _, ref := range d.set[pr.key()] {
			if err := authz.RemoveEntityPermission(ctx, ref, pr.vcenter(), false); err != nil && !(isFault(err) && fault.Is(err, &types.NotFound{})) {
				left = append(left, "permission of "+pr.String()+" on "+d.pathOf(ref))
			}
		}
		if _, err := d.sso.deleteUser(ctx, pr); err != nil {
			left = append(left, "user "+pr.String())
		}
	}
	d.rep.Made = nil
	d.rep.Granted = slices.DeleteFunc(d.rep.Granted, func(g Grant) bool {
		return slices.ContainsFunc(made, func(pr principal) bool { return pr.String() == g.Principal })
	})
	if len(left) > 0 {
		return &LeftoverError{Err: cause, Leftover: left}
	}
	return cause
}

// validate checks a request before any I/O: user names of the form the
// consumers accept, passwords given, principals with a domain, no
// principal both granted and removed.
func (req DedicateRequest) validate() error {
	var names []string
	for _, u := range req.Make {
		if err := validUserName(u.Name); err != nil {
			return &TargetError{Field: "new user name", Err: err}
		}
		if u.Password == "" {
			return &TargetError{Field: "password of new user " + u.Name, Err: errors.New("empty")}
		}
		if slices.Contains(names, u.Name) {
			return &TargetError{Field: "new user name", Err: fmt.Errorf("%s given twice", u.Name)}
		}
		names = append(names, u.Name)
	}
	grantTo, err := parsePrincipals(req.Grant)
	if err != nil {
		return &TargetError{Field: "principal to grant", Err: err}
	}
	remove, err := parsePrincipals(req.Remove)
	if err != nil {
		return &TargetError{Field: "principal to remove", Err: err}
	}
	for _, r := range remove {
		for _, g := range grantTo {
			if r.key() == g.key() {
				return &TargetError{Field: "principal to remove", Err: fmt.Errorf("%s is also to be granted", r)}
			}
		}
		if slices.Contains(names, r.name) {
			return &TargetError{Field: "principal to remove", Err: fmt.Errorf("%s is also to be made", r)}
		}
	}
	return nil
}

// validUserName: the characters the CSI driver accepts in a user name
// (docs/consumers.md), and no domain (the user is made in the local one).
func validUserName(name string) error {
	if name == "" {
		return errors.New("empty")
	}
	if len(name) > 255 {
		return fmt.Errorf("%d bytes, at most 255", len(name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Errorf("%q: only letters, digits, '.', '_' and '-'", name)
		}
	}
	return nil
}

func parsePrincipals(names []string) ([]principal, error) {
	var out []principal
	for _, n := range names {
		p, err := parsePrincipal(n)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(q principal) bool { return q.key() == p.key() }) {
			out = append(out, p)
		}
	}
	return out, nil
}
