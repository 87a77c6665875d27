package vspheretest

import (
	"reflect"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/ssoadmin"
	ssomethods "github.com/vmware/govmomi/ssoadmin/methods"
	ssosim "github.com/vmware/govmomi/ssoadmin/simulator"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest/internal/ssowire"
)

func init() {
	// The SOAP element of GetDefaultDomains is IdS_getDefaultDomains;
	// govmomi's types know the method only by its Go name, so vcsim could
	// not decode the request.
	types.Add("sso:IdS_getDefaultDomains", reflect.TypeOf((*ssotypes.GetDefaultDomains)(nil)).Elem())
}

// installSSOAdmin replaces vcsim's principal services and identity source
// service in the SSO admin registry with the wrappers below.
func (s *Server) installSSOAdmin(reg *simulator.Registry) {
	si, ok := reg.Get(ssoadmin.ServiceInstance).(*ssosim.ServiceInstance)
	if !ok {
		return
	}
	body, ok := si.SsoAdminServiceInstance(nil, nil).(*ssomethods.SsoAdminServiceInstanceBody)
	if !ok || body.Res == nil {
		return
	}
	content := body.Res.Returnval
	if pm, ok := reg.Get(content.PrincipalManagementService).(*ssosim.PrincipalManagementService); ok {
		reg.Put(&principalManagement{PrincipalManagementService: pm, s: s})
	}
	if pd, ok := reg.Get(content.PrincipalDiscoveryService).(*ssosim.PrincipalDiscoveryService); ok {
		reg.Put(&principalDiscovery{PrincipalDiscoveryService: pd})
	}
	if is, ok := reg.Get(content.IdentitySourceManagementService).(*ssosim.IdentitySourceManagementService); ok {
		reg.Put(&identitySources{IdentitySourceManagementService: is})
	}
}

// principalManagement is vcsim's principal management with vCenter's
// password policy, names in either spelling, and passwords that are kept:
// vcsim's ResetLocalPersonUserPassword changes a copy and stores nothing.
type principalManagement struct {
	*ssosim.PrincipalManagementService
	s *Server
}

func policyFault(why string) *soap.Fault {
	return simulator.Fault("Password policy violation: "+why, &ssowire.SsoAdminFaultPasswordPolicyViolationFault{})
}

func notFound(name string) *soap.Fault {
	return simulator.Fault("principal "+name+" not found", &types.NotFound{})
}

func (m *principalManagement) CreateLocalPersonUser(ctx *simulator.Context, req *ssotypes.CreateLocalPersonUser) soap.HasFault {
	body := new(ssomethods.CreateLocalPersonUserBody)
	// vCenter makes users of the local domain by name alone.
	if req.UserName == "" || strings.ContainsAny(req.UserName, `@\`) {
		body.Fault_ = simulator.Fault("user name "+req.UserName+" is not a bare name", &types.InvalidArgument{InvalidProperty: "userName"})
		return body
	}
	if why := passwordPolicyViolation(req.Password); why != "" {
		body.Fault_ = policyFault(why)
		return body
	}
	res := m.PrincipalManagementService.CreateLocalPersonUser(ctx, req)
	if res.Fault() == nil {
		m.s.sso.addUser(req.UserName+"@"+ssoDomain, req.Password)
	}
	return res
}

func (m *principalManagement) ResetLocalPersonUserPassword(_ *simulator.Context, req *ssotypes.ResetLocalPersonUserPassword) soap.HasFault {
	body := new(ssomethods.ResetLocalPersonUserPasswordBody)
	user, ok := localUser(req.UserName)
	if !ok {
		body.Fault_ = notFound(req.UserName)
		return body
	}
	why, found := m.s.resetPassword(user+"@"+ssoDomain, req.NewPassword)
	switch {
	case !found:
		body.Fault_ = notFound(req.UserName)
	case why != "":
		body.Fault_ = policyFault(why)
	default:
		body.Res = new(ssotypes.ResetLocalPersonUserPasswordResponse)
	}
	return body
}

func (m *principalManagement) DeleteLocalPrincipal(ctx *simulator.Context, req *ssotypes.DeleteLocalPrincipal) soap.HasFault {
	user, ok := localUser(req.PrincipalName)
	if !ok {
		return &ssomethods.DeleteLocalPrincipalBody{Fault_: notFound(req.PrincipalName)}
	}
	local := *req
	local.PrincipalName = user
	res := m.PrincipalManagementService.DeleteLocalPrincipal(ctx, &local)
	if res.Fault() == nil {
		m.s.removeUser(user + "@" + ssoDomain)
	}
	return res
}

func (m *principalManagement) UpdateLocalPersonUserDetails(ctx *simulator.Context, req *ssotypes.UpdateLocalPersonUserDetails) soap.HasFault {
	user, ok := localUser(req.UserName)
	if !ok {
		return &ssomethods.UpdateLocalPersonUserDetailsBody{Fault_: notFound(req.UserName)}
	}
	local := *req
	local.UserName = user
	return m.PrincipalManagementService.UpdateLocalPersonUserDetails(ctx, &local)
}

// principalDiscovery is vcsim's principal discovery finding a principal
// under either spelling, the domain in any case.
type principalDiscovery struct {
	*ssosim.PrincipalDiscoveryService
}

// principalID is id as vcsim's directory keys it: the name without a
// domain, the domain in lower case. govmomi's client puts a "DOMAIN\user"
// name whole in Name.
func principalID(id ssotypes.PrincipalId) ssotypes.PrincipalId {
	if user, domain, ok := splitPrincipal(id.Name); ok {
		return ssotypes.PrincipalId{Name: user, Domain: domain}
	}
	return ssotypes.PrincipalId{Name: id.Name, Domain: strings.ToLower(id.Domain)}
}

func (d *principalDiscovery) FindPersonUser(ctx *simulator.Context, req *ssotypes.FindPersonUser) soap.HasFault {
	local := *req
	local.UserId = principalID(req.UserId)
	return d.PrincipalDiscoveryService.FindPersonUser(ctx, &local)
}

func (d *principalDiscovery) FindUser(ctx *simulator.Context, req *ssotypes.FindUser) soap.HasFault {
	local := *req
	local.UserId = principalID(req.UserId)
	return d.PrincipalDiscoveryService.FindUser(ctx, &local)
}

func (d *principalDiscovery) FindPersonUsers(ctx *simulator.Context, req *ssotypes.FindPersonUsers) soap.HasFault {
	local := *req
	local.Criteria.Domain = strings.ToLower(req.Criteria.Domain)
	return d.PrincipalDiscoveryService.FindPersonUsers(ctx, &local)
}

// identitySources is vcsim's identity source service with GetDefaultDomains,
// which vcsim lacks: a default vCenter's default domain is its local one.
type identitySources struct {
	*ssosim.IdentitySourceManagementService
}

// IdS_getDefaultDomains is named as the SOAP element is: vcsim dispatches
// on it.
func (*identitySources) IdS_getDefaultDomains(*simulator.Context, *ssotypes.GetDefaultDomains) soap.HasFault {
	return &defaultDomainsBody{Res: &ssowire.IdS_getDefaultDomainsResponse{Returnval: []string{ssoDomain}}}
}

// defaultDomainsBody is GetDefaultDomains' response body: vcsim names the
// response element after its Res type.
type defaultDomainsBody struct {
	Res   *ssowire.IdS_getDefaultDomainsResponse
	fault *soap.Fault
}

func (b *defaultDomainsBody) Fault() *soap.Fault { return b.fault }
