package vspheretest

import (
	"context"
	"slices"
	"sync"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// authorizationManager is vcsim's AuthorizationManager with denials and a
// privilege list. vcsim grants every privilege to everyone and publishes no
// privilegeList, so a test of a missing or unknown privilege needs this
// override, registered in the simulator's registry under vcsim's own
// reference (docs/vcenter.md, "Privileges").
type authorizationManager struct {
	*simulator.AuthorizationManager
	s *Server

	// mu guards perms and nextRole, and RoleList against the enforcement
	// hook, which runs outside vcsim's lock on this object (every write to
	// RoleList also holds that lock, so property reads stay safe).
	mu       sync.Mutex
	perms    map[types.ManagedObjectReference][]types.Permission // by entity
	nextRole int32                                               // the id AddAuthorizationRole gives next
}

// installAuthorization replaces vcsim's AuthorizationManager, before the
// server starts, and gives it the privilege list a vCenter has: every id
// of the Admin role. It also installs what makes the simulator authorize
// as vCenter does: the permission store, the hook that refuses calls the
// session's user lacks a privilege for, and the property collector and
// search index that hide what the user may not read.
func (s *Server) installAuthorization(m *simulator.Model) {
	reg := m.Service.Context.Map
	orig := reg.Get(*m.ServiceContent.AuthorizationManager).(*simulator.AuthorizationManager)
	admin := object.AuthorizationRoleList(orig.RoleList).ByName("Admin")
	orig.PrivilegeList = nil
	for _, id := range admin.Privilege {
		orig.PrivilegeList = append(orig.PrivilegeList, types.AuthorizationPrivilege{PrivId: id, Name: id})
	}
	s.authz = &authorizationManager{AuthorizationManager: orig, s: s}
	s.authz.seedPermissions()
	reg.Put(s.authz)

	prev := reg.Handler
	reg.Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if prev != nil {
			if h, f := prev(ctx, method); h != nil || f != nil {
				return h, f
			}
		}
		return nil, s.authz.enforce(ctx, method)
	}
	installVisibility(m)
}

// DenyPrivilege makes the simulator answer that the user lacks privID on
// object (a VM name, an inventory path, or "/" for the root), to every
// privilege query. vCenter would also deny it below a non-propagating
// permission; tests name each object they mean.
func (s *Server) DenyPrivilege(ctx context.Context, obj, privID string) error {
	ref, err := s.Ref(ctx, obj)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied == nil {
		s.denied = map[types.ManagedObjectReference][]string{}
	}
	s.denied[ref] = append(s.denied[ref], privID)
	return nil
}

// ForgetPrivilege removes privID from the simulator's privilege list, as
// on a vCenter release that predates it; a query naming it then fails with
// InvalidArgument (or, after AnswerUnknownPrivileges, says it is not
// granted).
func (s *Server) ForgetPrivilege(privID string) {
	ctx := s.Model.Service.Context
	ctx.WithLock(s.authz, func() {
		s.authz.PrivilegeList = slices.DeleteFunc(s.authz.PrivilegeList, func(p types.AuthorizationPrivilege) bool {
			return p.PrivId == privID
		})
	})
}

// AnswerUnknownPrivileges makes a query naming a privilege the simulator
// does not define answer "not granted" for it instead of failing: which of
// the two a vCenter release does is not documented, and the check must
// handle both.
func (s *Server) AnswerUnknownPrivileges() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answerUnknown = true
}

// FaultMethod makes every later call of a SOAP method fail with f (for
// example HasUserPrivilegeOnEntities with NotSupported, as an old vCenter
// answers); ClearFaults undoes it.
func (s *Server) FaultMethod(method string, f types.BaseMethodFault) {
	s.Model.Service.AddFaultRule(&simulator.FaultInjectionRule{
		MethodName:  method,
		ObjectType:  "*",
		ObjectName:  "*",
		Probability: 1,
		FaultType:   simulator.FaultTypeCustom,
		Fault:       f,
		Enabled:     true,
	})
}

// FaultMethodTimes is FaultMethod for the next n calls only: a fault
// that a retry gets past.
func (s *Server) FaultMethodTimes(method string, f types.BaseMethodFault, n int) {
	s.Model.Service.AddFaultRule(&simulator.FaultInjectionRule{
		MethodName:  method,
		ObjectType:  "*",
		ObjectName:  "*",
		Probability: 1,
		FaultType:   simulator.FaultTypeCustom,
		Fault:       f,
		MaxCount:    n,
		Enabled:     true,
	})
}

// ClearFaults removes every fault rule.
func (s *Server) ClearFaults() { s.Model.Service.ClearFaultRules() }

func (s *Server) isDenied(e types.ManagedObjectReference, id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.denied[e], id)
}

// defined reports whether id is in the privilege list; called with the
// object locked by vcsim.
func (m *authorizationManager) defined(id string) bool {
	return slices.ContainsFunc(m.PrivilegeList, func(p types.AuthorizationPrivilege) bool { return p.PrivId == id })
}

// unknown returns a fault when an id is not in the privilege list, unless
// AnswerUnknownPrivileges was called.
func (m *authorizationManager) unknown(ids []string) *soap.Fault {
	m.s.mu.Lock()
	answer := m.s.answerUnknown
	m.s.mu.Unlock()
	for _, id := range ids {
		if !answer && !m.defined(id) {
			return simulator.Fault("privilege "+id+" not defined", &types.InvalidArgument{InvalidProperty: "privId"})
		}
	}
	return nil
}

// granter answers whether one user holds a privilege on an entity: the
// trusted account from DenyPrivilege, any other user from the permissions.
func (m *authorizationManager) granter(ctx *simulator.Context, user string) func(types.ManagedObjectReference, string) bool {
	if m.s.trusted(user) {
		return func(e types.ManagedObjectReference, id string) bool {
			return m.defined(id) && !m.s.isDenied(e, id)
		}
	}
	held := map[types.ManagedObjectReference]privSet{}
	return func(e types.ManagedObjectReference, id string) bool {
		p, ok := held[e]
		if !ok {
			p = m.effective(ctx.Map, user, e)
			held[e] = p
		}
		return m.defined(id) && p.has(id)
	}
}

// sessionUser is the user of the session with key id; "" (the trusted
// account, vcsim's answer) when there is none.
func sessionUser(ctx *simulator.Context, id string) string {
	if ctx.Session == nil {
		return ""
	}
	if ctx.Session.Key == id {
		return ctx.Session.UserName
	}
	if sm, ok := ctx.Session.Get(ctx.Map.SessionManager().Reference()).(*simulator.SessionManager); ok {
		for _, us := range sm.SessionList {
			if us.Key == id {
				return us.UserName
			}
		}
	}
	return ""
}

func (m *authorizationManager) availability(granted func(types.ManagedObjectReference, string) bool, entities []types.ManagedObjectReference, ids []string) []types.EntityPrivilege {
	var out []types.EntityPrivilege
	for _, e := range entities {
		ep := types.EntityPrivilege{Entity: e}
		for _, id := range ids {
			ep.PrivAvailability = append(ep.PrivAvailability, types.PrivilegeAvailability{PrivId: id, IsGranted: granted(e, id)})
		}
		out = append(out, ep)
	}
	return out
}

func (m *authorizationManager) HasUserPrivilegeOnEntities(ctx *simulator.Context, req *types.HasUserPrivilegeOnEntities) soap.HasFault {
	body := &methods.HasUserPrivilegeOnEntitiesBody{}
	if f := m.unknown(req.PrivId); f != nil {
		body.Fault_ = f
		return body
	}
	body.Res = &types.HasUserPrivilegeOnEntitiesResponse{Returnval: m.availability(m.granter(ctx, req.UserName), req.Entities, req.PrivId)}
	return body
}

func (m *authorizationManager) HasPrivilegeOnEntities(ctx *simulator.Context, req *types.HasPrivilegeOnEntities) soap.HasFault {
	body := &methods.HasPrivilegeOnEntitiesBody{}
	if f := m.unknown(req.PrivId); f != nil {
		body.Fault_ = f
		return body
	}
	granted := m.granter(ctx, sessionUser(ctx, req.SessionId))
	body.Res = &types.HasPrivilegeOnEntitiesResponse{Returnval: m.availability(granted, req.Entity, req.PrivId)}
	return body
}

func (m *authorizationManager) HasPrivilegeOnEntity(ctx *simulator.Context, req *types.HasPrivilegeOnEntity) soap.HasFault {
	body := &methods.HasPrivilegeOnEntityBody{}
	if f := m.unknown(req.PrivId); f != nil {
		body.Fault_ = f
		return body
	}
	granted := m.granter(ctx, sessionUser(ctx, req.SessionId))
	var out []bool
	for _, id := range req.PrivId {
		out = append(out, granted(req.Entity, id))
	}
	body.Res = &types.HasPrivilegeOnEntityResponse{Returnval: out}
	return body
}

func (m *authorizationManager) FetchUserPrivilegeOnEntities(ctx *simulator.Context, req *types.FetchUserPrivilegeOnEntities) soap.HasFault {
	granted := m.granter(ctx, req.UserName)
	m.mu.Lock()
	admin := slices.Clone(object.AuthorizationRoleList(m.RoleList).ByName("Admin").Privilege)
	m.mu.Unlock()
	var out []types.UserPrivilegeResult
	for _, e := range req.Entities {
		var ids []string
		for _, id := range admin {
			if granted(e, id) {
				ids = append(ids, id)
			}
		}
		out = append(out, types.UserPrivilegeResult{Entity: e, Privileges: ids})
	}
	return &methods.FetchUserPrivilegeOnEntitiesBody{Res: &types.FetchUserPrivilegeOnEntitiesResponse{Returnval: out}}
}
