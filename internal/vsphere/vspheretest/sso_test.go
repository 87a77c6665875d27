package vspheretest_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/ssoadmin"
	ssomethods "github.com/vmware/govmomi/ssoadmin/methods"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/sts"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// A password the default policy accepts, and another.
const (
	goodPassword  = "Dedicated-1x"
	otherPassword = "Rotated#2yZ"
)

func TestCanonicalPrincipal(t *testing.T) {
	for in, want := range map[string]string{
		"k8s@vsphere.local":  "k8s@vsphere.local",
		"k8s@VSPHERE.Local":  "k8s@vsphere.local",
		`VSPHERE.LOCAL\k8s`:  "k8s@vsphere.local",
		`vsphere.local\K8s`:  "K8s@vsphere.local",
		"K8s@vsphere.local":  "K8s@vsphere.local",
		"root":               "root",
		"@vsphere.local":     "@vsphere.local",
		`a@b\c`:              `a@b\c`,
		"a@b@c":              "a@b@c",
		`VSPHERE.LOCAL\`:     `VSPHERE.LOCAL\`,
		"user@Example.COM":   "user@example.com",
		`EXAMPLE.COM\user.x`: "user.x@example.com",
	} {
		assert.Equal(t, want, vspheretest.CanonicalPrincipal(in), in)
	}
}

// ssoClients logs user in to vim25 over HTTPS, gets an STS token for it and
// logs in to SSO admin with the token, all through govmomi's own clients
// and the lookup service, as a vCenter client does.
func ssoClients(ctx context.Context, t *testing.T, srv *vspheretest.Server, user, password string) (*vim25.Client, *ssoadmin.Client) {
	t.Helper()
	c := vimClient(ctx, t, srv)
	require.NoError(t, session.NewManager(c).Login(ctx, url.UserPassword(user, password)))
	stsc, err := sts.NewClient(ctx, c)
	require.NoError(t, err)
	signer, err := stsc.Issue(ctx, sts.TokenRequest{Userinfo: url.UserPassword(user, password)})
	require.NoError(t, err)
	admin, err := ssoadmin.NewClient(ctx, c)
	require.NoError(t, err)
	require.NoError(t, admin.Login(admin.WithHeader(ctx, soap.Header{Security: signer})))
	return c, admin
}

func vimClient(ctx context.Context, t *testing.T, srv *vspheretest.Server) *vim25.Client {
	t.Helper()
	sc := soap.NewClient(srv.URL, false)
	sc.SetThumbprint(srv.URL.Host, srv.SHA256)
	c, err := vim25.NewClient(ctx, sc)
	require.NoError(t, err)
	return c
}

// issue asks STS for a token for user.
func issue(ctx context.Context, t *testing.T, srv *vspheretest.Server, user, password string) (*sts.Signer, error) {
	t.Helper()
	stsc, err := sts.NewClient(ctx, vimClient(ctx, t, srv))
	require.NoError(t, err)
	return stsc.Issue(ctx, sts.TokenRequest{Userinfo: url.UserPassword(user, password)})
}

// sessionUsers are the canonical user names of the simulator's sessions.
func sessionUsers(ctx context.Context, t *testing.T, srv *vspheretest.Server) []string {
	t.Helper()
	c := srv.Client()
	var sm mo.SessionManager
	require.NoError(t, property.DefaultCollector(c).RetrieveOne(ctx, *c.ServiceContent.SessionManager, []string{"sessionList"}, &sm))
	var out []string
	for _, s := range sm.SessionList {
		out = append(out, vspheretest.CanonicalPrincipal(s.UserName))
	}
	return out
}

func isNoPermission(err error) bool {
	return err != nil && fault.Is(err, &types.NoPermission{})
}

// TestSSOUsers: a user made through SSO admin logs in under every spelling
// of its name, its reset password replaces the old one, and once deleted it
// no longer logs in while a session it opened before stays, as on vCenter.
func TestSSOUsers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	_, admin := ssoClients(ctx, t, srv, srv.User, srv.Password())

	require.NoError(t, admin.CreatePersonUser(ctx, "csi-a", ssotypes.AdminPersonDetails{Description: "test"}, goodPassword))
	assert.Equal(t, []string{"csi-a@vsphere.local"}, srv.SSOUsers())
	for _, name := range []string{"csi-a@vsphere.local", "csi-a@VSPHERE.LOCAL", `VSPHERE.LOCAL\csi-a`, `vsphere.local\csi-a`} {
		assert.True(t, srv.CanLogin(ctx, name, goodPassword), name)
	}
	assert.False(t, srv.CanLogin(ctx, "csi-a@vsphere.local", "Wrong-pass1"))
	assert.False(t, srv.CanLogin(ctx, "CSI-A@vsphere.local", goodPassword), "the user part is matched as made")
	assert.True(t, srv.CanLogin(ctx, srv.User, srv.Password()), "the trusted account still logs in")

	t.Run("duplicate", func(t *testing.T) {
		err := admin.CreatePersonUser(ctx, "csi-a", ssotypes.AdminPersonDetails{}, goodPassword)
		assert.True(t, fault.Is(err, &types.DuplicateName{}), "%v", err)
		err = admin.CreatePersonUser(ctx, "k8s", ssotypes.AdminPersonDetails{}, goodPassword)
		assert.True(t, fault.Is(err, &types.DuplicateName{}), "the trusted account is a local user: %v", err)
	})

	t.Run("a name with a domain is refused", func(t *testing.T) {
		err := admin.CreatePersonUser(ctx, "x@vsphere.local", ssotypes.AdminPersonDetails{}, goodPassword)
		assert.True(t, fault.Is(err, &types.InvalidArgument{}), "%v", err)
		assert.Equal(t, []string{"csi-a@vsphere.local"}, srv.SSOUsers())
	})

	t.Run("reset stores the password", func(t *testing.T) {
		require.NoError(t, admin.ResetPersonPassword(ctx, `VSPHERE.LOCAL\csi-a`, otherPassword))
		assert.False(t, srv.CanLogin(ctx, "csi-a@vsphere.local", goodPassword), "old password")
		assert.True(t, srv.CanLogin(ctx, "csi-a@vsphere.local", otherPassword), "new password")
		err := admin.ResetPersonPassword(ctx, "nobody", otherPassword)
		assert.True(t, fault.Is(err, &types.NotFound{}), "%v", err)
	})

	t.Run("found under either spelling", func(t *testing.T) {
		for _, name := range []string{"csi-a@vsphere.local", "csi-a@VSPHERE.LOCAL", `VSPHERE.LOCAL\csi-a`} {
			u, err := admin.FindPersonUser(ctx, name)
			require.NoError(t, err)
			require.NotNil(t, u, name)
			assert.Equal(t, ssotypes.PrincipalId{Name: "csi-a", Domain: "vsphere.local"}, u.Id)
		}
		u, err := admin.FindPersonUser(ctx, "csi-a@example.com")
		require.NoError(t, err)
		assert.Nil(t, u, "another domain's user")
	})

	t.Run("deleted", func(t *testing.T) {
		c := vimClient(ctx, t, srv)
		require.NoError(t, session.NewManager(c).Login(ctx, url.UserPassword("csi-a@vsphere.local", otherPassword)))
		require.NoError(t, admin.DeletePrincipal(ctx, "csi-a@VSPHERE.LOCAL"))
		assert.Empty(t, srv.SSOUsers())
		assert.False(t, srv.CanLogin(ctx, "csi-a@vsphere.local", otherPassword))
		_, err := issue(ctx, t, srv, "csi-a@vsphere.local", otherPassword)
		assert.Error(t, err, "no token for a deleted user")
		u, err := admin.FindPersonUser(ctx, "csi-a@vsphere.local")
		require.NoError(t, err)
		assert.Nil(t, u)
		// vCenter ends no session when a user is deleted: it lasts until
		// logout or expiry.
		_, err = session.NewManager(c).UserSession(ctx)
		assert.NoError(t, err, "the session opened before stays")
		err = admin.DeletePrincipal(ctx, "csi-a")
		assert.True(t, fault.Is(err, &types.NotFound{}), "%v", err)
	})
}

// TestSTS: a token only for a known user's current password, answered
// otherwise with the fault vCenter's STS gives; the token names its user.
func TestSTS(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})

	_, err := issue(ctx, t, srv, srv.User, "Wrong-pass1")
	require.Error(t, err)
	require.True(t, soap.IsSoapFault(err), "%v", err)
	f := soap.ToSoapFault(err)
	assert.Equal(t, "ns0:FailedAuthentication", f.Code)
	assert.Equal(t, "Invalid credentials", f.String)
	assert.NotContains(t, err.Error(), "Wrong-pass1")
	_, err = issue(ctx, t, srv, "nobody@vsphere.local", goodPassword)
	assert.Error(t, err, "unknown user")

	_, err = issue(ctx, t, srv, `VSPHERE.LOCAL\k8s`, srv.Password())
	require.NoError(t, err, "the trusted account under the other spelling")
	old := srv.Password()
	srv.SetPassword(otherPassword)
	_, err = issue(ctx, t, srv, srv.User, old)
	assert.Error(t, err, "the password before SetPassword")
	_, admin := ssoClients(ctx, t, srv, srv.User, otherPassword)

	require.NoError(t, admin.CreatePersonUser(ctx, "csi-b", ssotypes.AdminPersonDetails{}, goodPassword))
	signer, err := issue(ctx, t, srv, "csi-b@vsphere.local", goodPassword)
	require.NoError(t, err)
	c := vimClient(ctx, t, srv)
	require.NoError(t, session.NewManager(c).LoginByToken(c.WithHeader(ctx, soap.Header{Security: signer})))
	assert.Contains(t, sessionUsers(ctx, t, srv), "csi-b@vsphere.local", "the token's subject is its user")
}

// TestDenySSOAdmin: without SSO admin rights the trusted account logs in
// and gets a token, and every directory call faults with NoPermission; a
// user made through SSO admin has no such rights either.
func TestDenySSOAdmin(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	_, admin := ssoClients(ctx, t, srv, srv.User, srv.Password())
	require.NoError(t, admin.CreatePersonUser(ctx, "csi-c", ssotypes.AdminPersonDetails{}, goodPassword))

	srv.DenySSOAdmin()
	assert.True(t, srv.CanLogin(ctx, srv.User, srv.Password()))
	_, denied := ssoClients(ctx, t, srv, srv.User, srv.Password()) // login and token still work
	for name, call := range map[string]func(*ssoadmin.Client) error{
		"CreateLocalPersonUser": func(a *ssoadmin.Client) error {
			return a.CreatePersonUser(ctx, "csi-d", ssotypes.AdminPersonDetails{}, goodPassword)
		},
		"ResetLocalPersonUserPassword": func(a *ssoadmin.Client) error { return a.ResetPersonPassword(ctx, "csi-c", otherPassword) },
		"DeleteLocalPrincipal":         func(a *ssoadmin.Client) error { return a.DeletePrincipal(ctx, "csi-c") },
		"FindPersonUser": func(a *ssoadmin.Client) error {
			_, err := a.FindPersonUser(ctx, "csi-c@vsphere.local")
			return err
		},
		"FindPersonUsers": func(a *ssoadmin.Client) error {
			_, err := a.FindPersonUsers(ctx, "csi")
			return err
		},
		"GetDefaultDomains": func(a *ssoadmin.Client) error {
			_, err := a.GetDefaultDomains(ctx)
			return err
		},
	} {
		err := call(denied)
		assert.True(t, isNoPermission(err), "%s: %v", name, err)
	}
	assert.Equal(t, []string{"csi-c@vsphere.local"}, srv.SSOUsers(), "nothing changed")
	assert.True(t, srv.CanLogin(ctx, "csi-c@vsphere.local", goodPassword))

	srv.AllowSSOAdmin()
	require.NoError(t, denied.ResetPersonPassword(ctx, "csi-c", otherPassword))

	// A made user is in no SSO group: it logs in, and may not manage.
	_, user := ssoClients(ctx, t, srv, "csi-c@vsphere.local", otherPassword)
	err := user.CreatePersonUser(ctx, "csi-e", ssotypes.AdminPersonDetails{}, goodPassword)
	assert.True(t, isNoPermission(err), "%v", err)
}

// TestGetDefaultDomains: vcsim does not implement it; a default vCenter
// answers its local domain.
func TestGetDefaultDomains(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	_, admin := ssoClients(ctx, t, srv, srv.User, srv.Password())
	domains, err := admin.GetDefaultDomains(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"vsphere.local"}, domains)
}

// TestPasswordPolicy: vCenter's default local password policy, on making a
// user and on resetting its password, with its policy fault.
func TestPasswordPolicy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	_, admin := ssoClients(ctx, t, srv, srv.User, srv.Password())

	refused := func(t *testing.T, err error, why string) {
		t.Helper()
		require.Error(t, err)
		require.True(t, soap.IsSoapFault(err), "%v", err)
		f := soap.ToSoapFault(err)
		assert.Equal(t, "Password policy violation: "+why, f.String)
		assert.Nil(t, f.Detail.Fault, "govmomi has no type for the SSO admin's policy fault")
	}
	n := 0
	for pw, why := range map[string]string{
		"Aa1!abcd":                  "", // 8, the shortest
		"Aa1!567":                   "shorter than 8 characters",
		"Aa1!5678901234567890":      "", // 20, the longest
		"Aa1!56789012345678901":     "longer than 20 characters",
		"aa1!bcde":                  "no upper-case letter",
		"AA1!BCDE":                  "no lower-case letter",
		"Aab!cdef":                  "no digit",
		"Aa1bcdef":                  "no special character",
		"Aa1 bcde":                  "no special character", // a space is not one
		"Aa1ébcde":                  "no special character", // nor is a letter outside ASCII
		"Aa1!bbbx":                  "",                     // three identical adjacent
		"Aa1!bbbb":                  "more than 3 identical adjacent characters",
		"Zz9~`|\\(){}[]:;\"'<>,.?/": "longer than 20 characters",
		"Zz9/abcd":                  "",
		"Zz9\\abcd":                 "", // every character of the set counts
	} {
		n++
		name := "pw-" + string(rune('a'+n))
		err := admin.CreatePersonUser(ctx, name, ssotypes.AdminPersonDetails{}, pw)
		if why == "" {
			assert.NoError(t, err, "%q", pw)
			continue
		}
		refused(t, err, why)
		assert.NotContains(t, err.Error(), pw)
		u, ferr := admin.FindPersonUser(ctx, name+"@vsphere.local")
		require.NoError(t, ferr)
		assert.Nil(t, u, "%q made no user", pw)
	}

	require.NoError(t, admin.CreatePersonUser(ctx, "csi-f", ssotypes.AdminPersonDetails{}, goodPassword))
	refused(t, admin.ResetPersonPassword(ctx, "csi-f", "Sh0rt!"), "shorter than 8 characters")
	refused(t, admin.ResetPersonPassword(ctx, "csi-f", goodPassword), "one of the last 5 passwords")
	assert.True(t, srv.CanLogin(ctx, "csi-f@vsphere.local", goodPassword), "a refused reset changes nothing")
	history := []string{otherPassword, "Third#3pass", "Fourth#4pass", "Fifth#5pass"}
	for _, pw := range history {
		require.NoError(t, admin.ResetPersonPassword(ctx, "csi-f", pw))
	}
	refused(t, admin.ResetPersonPassword(ctx, "csi-f", goodPassword), "one of the last 5 passwords") // fifth before
	require.NoError(t, admin.ResetPersonPassword(ctx, "csi-f", "Sixth#6pass"))
	require.NoError(t, admin.ResetPersonPassword(ctx, "csi-f", goodPassword), "sixth before: reusable")
}

// TestSSOCounts: SSO requests are counted apart from vim25 ones, and
// CanLogin counts in neither.
func TestSSOCounts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	_, admin := ssoClients(ctx, t, srv, srv.User, srv.Password())
	vim, sso := srv.Requests(), srv.SSORequests()
	assert.Positive(t, sso, "lookup, STS and SSO admin login")

	res, err := ssomethods.FindPersonUsers(ctx, admin, &ssotypes.FindPersonUsers{
		This:     admin.ServiceContent.PrincipalDiscoveryService,
		Criteria: ssotypes.AdminPrincipalDiscoveryServiceSearchCriteria{Domain: "VSPHERE.LOCAL"},
		Limit:    10,
	})
	require.NoError(t, err)
	assert.Len(t, res.Returnval, 1, "the trusted account, found with the domain in another case")
	assert.Equal(t, sso+1, srv.SSORequests())
	assert.Equal(t, vim, srv.Requests())

	assert.True(t, srv.CanLogin(ctx, srv.User, srv.Password()))
	assert.Equal(t, vim, srv.Requests(), "CanLogin's requests are its own")
	assert.Equal(t, sso+1, srv.SSORequests())

	plain := vspheretest.NewServer(t, vspheretest.Options{})
	assert.Zero(t, plain.SSORequests())
	assert.Nil(t, plain.SSOUsers())
}
