package vsphere

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/vmware/govmomi/fault"
	lookupsvc "github.com/vmware/govmomi/lookup"
	lookupmethods "github.com/vmware/govmomi/lookup/methods"
	lookuptypes "github.com/vmware/govmomi/lookup/types"
	"github.com/vmware/govmomi/ssoadmin"
	ssomethods "github.com/vmware/govmomi/ssoadmin/methods"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/sts"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// maxSSOUsers bounds the users one listing asks the SSO for: far more than
// a charm makes, and the answer caps bound the bytes anyway.
const maxSSOUsers = 10000

// ssoSession is one SSO admin login on the vCenter of a vim25 session. Its
// requests go to the same host, through the same guard (TLS verification
// or pin, answer caps, no redirects) and the same checks of each answer as
// the vim25 ones, and are counted apart.
//
// The lookup service says where STS and the SSO admin service are; only the
// path of what it says is used, on the host the target names (docs/vcenter.md,
// "Dedicated identities"). Its answer is as untrusted as any other, and the
// STS request carries the trusted password: it must go nowhere the vim25
// login did not.
type ssoSession struct {
	s        *session
	counters []*checked
	admin    *ssoadmin.Client
	domain   string // the local SSO domain ("vsphere.local")
	loggedIn bool
}

// SSO endpoints as the lookup service registers them.
var (
	stsEndpoint   = lookuptypes.LookupServiceRegistrationEndpointType{Protocol: "wsTrust", Type: "com.vmware.cis.cs.identity.sso"}
	adminEndpoint = lookuptypes.LookupServiceRegistrationEndpointType{Protocol: "vmomi", Type: "com.vmware.cis.cs.identity.admin"}
)

// openSSO finds the SSO endpoints, gets a token from STS for the trusted
// user and logs in to the SSO admin service with it. On error nothing is
// left logged in; requests made are counted all the same (see requests).
func (s *session) openSSO(ctx context.Context) (*ssoSession, error) {
	o := &ssoSession{s: s}
	stsPath, adminPath, err := o.endpoints(ctx)
	if err != nil {
		return o, err
	}

	stsClient, stsRT := o.client(stsPath, sts.Namespace)
	signer, err := (&sts.Client{Client: stsClient, RoundTripper: stsRT}).Issue(ctx, sts.TokenRequest{
		Userinfo: url.UserPassword(s.p.target.User, s.p.target.Password),
	})
	if err != nil {
		return o, o.fail(ctx, "get an SSO token", err)
	}

	adminClient, adminRT := o.client(adminPath, ssoadmin.Namespace)
	adminClient.Version = ssoadmin.Version
	o.admin = &ssoadmin.Client{Client: adminClient, RoundTripper: adminRT, Limit: maxSSOUsers}
	// Raw, not ssoadmin.NewClient: that wrapper finds the endpoint (host
	// and all) itself and builds its own round tripper, past the guard and
	// the pinned host.
	res, err := ssomethods.SsoAdminServiceInstance(ctx, o.admin, &ssotypes.SsoAdminServiceInstance{This: ssoadmin.ServiceInstance})
	if err != nil {
		return o, o.fail(ctx, "connect to SSO admin", err)
	}
	o.admin.ServiceContent = res.Returnval
	if o.admin.ServiceContent.SessionManager.Value == "" || o.admin.ServiceContent.PrincipalManagementService.Value == "" {
		return o, &BadAnswerError{Server: s.p.url.Host, Op: "connect to SSO admin", What: "no session or principal management service in the SSO admin service content"}
	}
	if err := o.admin.Login(o.admin.WithHeader(ctx, soap.Header{Security: signer})); err != nil {
		return o, o.fail(ctx, "log in to SSO admin", err)
	}
	o.loggedIn = true

	o.domain = tenant(adminPath, "sdk")
	if o.domain == "" {
		o.domain = tenant(stsPath, "STSService")
	}
	if o.domain == "" {
		// A path without the tenant: ask the SSO which domain is its own.
		src, err := o.admin.IdentitySources(ctx)
		if err != nil {
			return o, o.fail(ctx, "read SSO identity sources", err)
		}
		if src != nil && validDomain(src.System.Name) {
			o.domain = src.System.Name
		}
	}
	if o.domain == "" {
		return o, &BadAnswerError{Server: s.p.url.Host, Op: "read SSO identity sources", What: "no local SSO domain"}
	}
	o.admin.Domain = o.domain
	return o, nil
}

// endpoints asks the lookup service, in two requests, for the paths of STS
// and of the SSO admin service.
func (o *ssoSession) endpoints(ctx context.Context) (stsPath, adminPath string, err error) {
	sc, rt := o.client(lookupsvc.Path, lookupsvc.Namespace)
	sc.Version = lookupsvc.Version
	lc := &lookupsvc.Client{Client: sc, RoundTripper: rt}
	// Raw, not lookup.NewClient, for the same reason as in openSSO.
	res, err := lookupmethods.RetrieveServiceContent(ctx, lc, &lookuptypes.RetrieveServiceContent{This: lookupsvc.ServiceInstance})
	if err != nil {
		return "", "", o.fail(ctx, "connect to the lookup service", err)
	}
	if res.Returnval.ServiceRegistration == nil {
		return "", "", &BadAnswerError{Server: o.s.p.url.Host, Op: "connect to the lookup service", What: "no service registration in the lookup service content"}
	}
	lc.ServiceContent = res.Returnval
	infos, err := lc.List(ctx, &lookuptypes.LookupServiceRegistrationFilter{
		ServiceType: &lookuptypes.LookupServiceRegistrationServiceType{Product: "com.vmware.cis", Type: "cs.identity"},
	})
	if err != nil {
		return "", "", o.fail(ctx, "list SSO endpoints", err)
	}
	for _, info := range infos {
		for _, ep := range info.ServiceEndpoints {
			switch ep.EndpointType {
			case stsEndpoint:
				if stsPath == "" {
					stsPath = endpointPath(ep.Url, "/sts/")
				}
			case adminEndpoint:
				if adminPath == "" {
					adminPath = endpointPath(ep.Url, "/sso-adminserver/")
				}
			}
		}
	}
	if stsPath == "" || adminPath == "" {
		return "", "", &BadAnswerError{Server: o.s.p.url.Host, Op: "list SSO endpoints", What: "the lookup service names no STS or no SSO admin endpoint (vCenter 6.5 or later has both)"}
	}
	return stsPath, adminPath, nil
}

// endpointPath is the path of an endpoint URL the lookup service gave, when
// it is a plain path under prefix; "" otherwise.
func endpointPath(raw, prefix string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Path == "" || path.Clean(u.Path) != u.Path || !strings.HasPrefix(u.Path, prefix) {
		return ""
	}
	return u.Path
}

// tenant is the last element of an SSO endpoint path when it names the
// domain ("/sso-adminserver/sdk/vsphere.local"), "" when the path ends with
// base (no tenant) or the element is not a domain name.
func tenant(p, base string) string {
	t := path.Base(p)
	if t == base || !validDomain(t) {
		return ""
	}
	return t
}

// validDomain: a DNS-like name, the form an SSO domain takes.
func validDomain(d string) bool {
	if d == "" || len(d) > 253 {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return false
		}
	}
	return true
}

// client is a SOAP client for an SSO service at p on the vim25 session's
// host: the same transport and guard, the vim25 session's cookie (the same
// host set it; vcsim wants it on SSO admin calls), and a checked round
// tripper counting its requests.
func (o *ssoSession) client(p, namespace string) (*soap.Client, *checked) {
	s := o.s
	sc := s.soap.NewServiceClient(p, namespace)
	sc.Client.Transport = s.soap.Client.Transport
	sc.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c := &checked{rt: sc, sec: s.p.secrets, server: s.p.url.Host}
	o.counters = append(o.counters, c)
	return sc, c
}

// requests counts the SSO requests made (lookup, STS, SSO admin).
func (o *ssoSession) requests() int {
	if o == nil {
		return 0
	}
	n := 0
	for _, c := range o.counters {
		n += int(c.n.Load())
	}
	return n
}

// close logs out of SSO admin when logged in, with a context that outlives
// ctx by up to logoutGrace.
func (o *ssoSession) close(ctx context.Context) {
	if o == nil || !o.loggedIn {
		return
	}
	o.loggedIn = false
	lctx, cancel := graceContext(ctx, logoutGrace)
	defer cancel()
	// A failed logout leaves nothing to do: the SSO session expires.
	_ = o.admin.Logout(lctx)
}

// fail is session.fail for the SSO services: NoPermission, or a refused
// SSO admin login, means the trusted account is no SSO administrator.
func (o *ssoSession) fail(ctx context.Context, op string, err error) error {
	if isFault(err) && (fault.Is(err, &types.NoPermission{}) || (op == "log in to SSO admin" && fault.Is(err, &types.NotAuthenticated{}))) {
		return o.missingRight(err)
	}
	return o.s.fail(ctx, op, err)
}

func (o *ssoSession) missingRight(err error) error {
	return &MissingRightError{Server: o.s.p.url.Host, User: o.s.p.target.User, Right: RightSSOAdmin, Err: err}
}

// principal is the local-domain principal named name.
func (o *ssoSession) principal(name string) principal { return principal{name: name, domain: o.domain} }

// local reports whether p is in the local SSO domain.
func (o *ssoSession) local(p principal) bool { return strings.EqualFold(p.domain, o.domain) }

// makeUser makes a person user in the local domain.
func (o *ssoSession) makeUser(ctx context.Context, u NewUser) error {
	err := o.admin.CreatePersonUser(ctx, u.Name, ssotypes.AdminPersonDetails{Description: u.Description}, u.Password)
	if err != nil {
		return o.fail(ctx, "make SSO user "+u.Name, err)
	}
	return nil
}

// deleteUser deletes a local person user; one already gone is not an error.
// It looks first: how a vCenter release answers the deletion of a user it
// does not have is not documented.
func (o *ssoSession) deleteUser(ctx context.Context, p principal) (deleted bool, err error) {
	found, err := o.admin.FindPersonUser(ctx, p.String())
	if err != nil {
		return false, o.fail(ctx, "find SSO user "+p.String(), err)
	}
	if found == nil {
		return false, nil
	}
	if err := o.admin.DeletePrincipal(ctx, p.name); err != nil {
		if isFault(err) && fault.Is(err, &types.NotFound{}) {
			return false, nil
		}
		return false, o.fail(ctx, "delete SSO user "+p.String(), err)
	}
	return true, nil
}

// users lists the local person users whose name starts with prefix.
func (o *ssoSession) users(ctx context.Context, prefix string) ([]ssotypes.AdminPersonUser, error) {
	found, err := o.admin.FindPersonUsers(ctx, prefix)
	if err != nil {
		return nil, o.fail(ctx, "list SSO users", err)
	}
	var out []ssotypes.AdminPersonUser
	for _, u := range found {
		// The search matches anywhere in the name, in any domain.
		if strings.HasPrefix(u.Id.Name, prefix) && strings.EqualFold(u.Id.Domain, o.domain) {
			out = append(out, u)
		}
	}
	return out, nil
}
