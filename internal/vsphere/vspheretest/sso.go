package vspheretest

import (
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vmware/govmomi/lookup"
	"github.com/vmware/govmomi/simulator"
	ssosim "github.com/vmware/govmomi/ssoadmin/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest/internal/ssowire"

	// The lookup service registers itself as a vcsim endpoint.
	_ "github.com/vmware/govmomi/lookup/simulator"
)

// ssoDomain is the local SSO domain vcsim's SSO admin service has, as a
// default vCenter does.
var ssoDomain = ssosim.IdentitySources.System.Name

// ssoState is the SSO the simulator serves when Options.SSO is set: the
// lookup service, STS and the SSO admin service of vcsim, with what
// vspheretest adds so that they behave like vCenter's (docs/vcenter.md,
// "The simulator's SSO, made to behave like vCenter").
type ssoState struct {
	requests atomic.Int64 // lookup, STS and SSO admin requests
	denied   atomic.Bool  // DenySSOAdmin

	mu sync.Mutex
	// users made through SSO admin, by CanonicalPrincipal; each with its
	// passwords, the current one last, as many as the policy remembers.
	users map[string][]string
	// trustedGone: the trusted account was deleted through SSO admin.
	trustedGone bool
}

// starting maps a simulator service to the Server being started on it,
// while Start runs NewServer: vcsim calls the endpoint below from there.
var starting sync.Map

func init() {
	// Registered after the lookup, STS and SSO admin simulators' own
	// endpoints (their packages are initialised first), so it sees what
	// they installed.
	simulator.RegisterEndpoint(func(svc *simulator.Service, r *simulator.Registry) {
		if v, ok := starting.Load(svc); ok {
			v.(*Server).installSSO(svc, r)
		}
	})
}

// prepareSSO readies svc to serve the SSO endpoints when opts.SSO is set;
// the returned func is called once NewServer has returned.
func (s *Server) prepareSSO(svc *simulator.Service, opts Options) (started func()) {
	if !opts.SSO {
		return func() {}
	}
	svc.Listen.User = ssoListenUser(opts.User, opts.Password)
	svc.RegisterEndpoints = true
	starting.Store(svc, s)
	return func() { starting.Delete(svc) }
}

// ssoListenUser is the user vcsim's SSO admin service makes its one person
// user from. vcsim takes the whole "user@domain" as the user's name; the
// trusted account is a user of the local domain by its name alone.
func ssoListenUser(user, password string) *url.Userinfo {
	if name, domain, ok := splitPrincipal(user); ok && domain == ssoDomain {
		user = name
	}
	return url.UserPassword(user, password)
}

// installSSO runs inside vcsim's NewServer, before it serves: it wraps the
// SSO endpoints vcsim registered and takes over the login check.
func (s *Server) installSSO(svc *simulator.Service, r *simulator.Registry) {
	s.sso = &ssoState{users: map[string][]string{}}
	settings := r.OptionManager().Setting
	counted := func(_ *simulator.Context, m *simulator.Method) {
		s.sso.requests.Add(1)
		s.wait()
		s.holdCall(m.Name)
	}

	if lookup := svc.Context.For(lookup.Path).Map; lookup != nil {
		lookup.Handler = func(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
			counted(ctx, m)
			return nil, nil
		}
	}
	if admin := svc.Context.For(uriPath(settings, "config.vpxd.sso.admin.uri")).Map; admin != nil {
		admin.Handler = func(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
			counted(ctx, m)
			if f := s.ssoAdminFault(ctx, m); f != nil {
				return nil, f
			}
			return nil, nil
		}
		s.installSSOAdmin(admin)
	}
	s.installSTS(svc, settings)
	// vcsim's SSO admin endpoint set its own check, which knows only the
	// password a user was made with.
	r.SessionManager().ValidLogin = s.validLogin
}

// uriPath is the path of a URL-valued vCenter setting.
func uriPath(settings []types.BaseOptionValue, key string) string {
	for _, o := range settings {
		v := o.GetOptionValue()
		if v.Key != key {
			continue
		}
		if str, ok := v.Value.(string); ok {
			if u, err := url.Parse(str); err == nil {
				return u.Path
			}
		}
	}
	return ""
}

// validLogin is vim25's login check: the trusted account with its current
// password, or a user made through SSO admin with its own, under any
// spelling of the principal.
func (s *Server) validLogin(req *types.Login) bool {
	_, ok := s.authenticate(req.UserName, req.Password)
	return ok
}

// authenticate returns the canonical name of the principal user names when
// password is its current password.
func (s *Server) authenticate(user, password string) (string, bool) {
	name := CanonicalPrincipal(user)
	if name == CanonicalPrincipal(s.User) {
		trusted := s.Password()
		if s.sso != nil {
			s.sso.mu.Lock()
			gone := s.sso.trustedGone
			s.sso.mu.Unlock()
			if gone {
				return "", false
			}
		}
		return name, password == trusted
	}
	if s.sso == nil {
		return "", false
	}
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	pw := s.sso.users[name]
	return name, len(pw) > 0 && pw[len(pw)-1] == password
}

// ssoOpen are the SSO admin objects anyone logged in may call: the service
// contents and the session manager. Every other call manages or reads the
// directory, which vCenter leaves to SSO administrators.
var ssoOpen = []string{"SsoAdminServiceInstance", "SsoGroupcheckServiceInstance", "SsoSessionManager"}

// ssoAdminFault is the fault vCenter's SSO admin service answers a caller
// who is not an SSO administrator with, nil when the call may go on. vcsim
// ties SSO admin calls to the vim25 session whose cookie they carry; the
// caller is that session's user. A call without a session is left to vcsim,
// which answers NotAuthenticated.
func (s *Server) ssoAdminFault(ctx *simulator.Context, m *simulator.Method) types.BaseMethodFault {
	if slices.Contains(ssoOpen, m.This.Type) || m.Name == "GetTrustedCertificates" || ctx.Session == nil {
		return nil
	}
	if s.ssoAdmin(ctx.Session.UserName) {
		return nil
	}
	this := m.This
	return &ssowire.SsoFaultNoPermission{NoPermission: types.NoPermission{Object: &this}}
}

// ssoAdmin reports whether user is an SSO administrator: the trusted
// account is, unless DenySSOAdmin; users made through SSO admin are in no
// group, so are not.
func (s *Server) ssoAdmin(user string) bool {
	if s.sso.denied.Load() || CanonicalPrincipal(user) != CanonicalPrincipal(s.User) {
		return false
	}
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	return !s.sso.trustedGone
}

// DenySSOAdmin makes the trusted account no SSO administrator, as a vCenter
// user with vCenter roles but outside the SSO Administrators group: it
// still logs in to vim25 and gets STS tokens, and every SSO admin call past
// the login faults with NoPermission. AllowSSOAdmin undoes it. Without
// Options.SSO it does nothing.
func (s *Server) DenySSOAdmin() {
	if s.sso != nil {
		s.sso.denied.Store(true)
	}
}

// AllowSSOAdmin undoes DenySSOAdmin.
func (s *Server) AllowSSOAdmin() {
	if s.sso != nil {
		s.sso.denied.Store(false)
	}
}

// SSORequests is the number of lookup service, STS and SSO admin requests
// served so far (Requests counts vim25 ones).
func (s *Server) SSORequests() int {
	if s.sso == nil {
		return 0
	}
	return int(s.sso.requests.Load())
}

// SSOUsers are the canonical names (CanonicalPrincipal) of the local person
// users made through SSO admin and not deleted, sorted.
func (s *Server) SSOUsers() []string {
	if s.sso == nil {
		return nil
	}
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	out := make([]string, 0, len(s.sso.users))
	for name := range s.sso.users {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// addUser records a user SSO admin made.
func (st *ssoState) addUser(name, password string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.users[name] = []string{password}
}

// removeUser forgets a deleted user; the trusted account is marked gone.
func (s *Server) removeUser(name string) {
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	delete(s.sso.users, name)
	if name == CanonicalPrincipal(s.User) {
		s.sso.trustedGone = true
	}
}

// resetPassword gives a user a new password. It returns why the policy
// refuses it ("" when not), and false when there is no such user.
func (s *Server) resetPassword(name, password string) (refused string, found bool) {
	if why := passwordPolicyViolation(password); why != "" {
		return why, true
	}
	if name == CanonicalPrincipal(s.User) {
		s.sso.mu.Lock()
		gone := s.sso.trustedGone
		s.sso.mu.Unlock()
		if gone {
			return "", false
		}
		if password == s.Password() {
			return "one of the last 5 passwords", true
		}
		s.SetPassword(password)
		return "", true
	}
	s.sso.mu.Lock()
	defer s.sso.mu.Unlock()
	old, ok := s.sso.users[name]
	if !ok {
		return "", false
	}
	if slices.Contains(old, password) {
		return "one of the last 5 passwords", true
	}
	old = append(old, password)
	if len(old) > passwordHistory {
		old = old[len(old)-passwordHistory:]
	}
	s.sso.users[name] = old
	return "", true
}

// localUser is the user part of name when it names a principal of the
// local SSO domain ("user", "user@vsphere.local", "VSPHERE.LOCAL\user").
func localUser(name string) (string, bool) {
	if user, domain, ok := splitPrincipal(name); ok {
		return user, domain == ssoDomain
	}
	if name == "" || strings.ContainsAny(name, `@\`) {
		return "", false
	}
	return name, true
}
