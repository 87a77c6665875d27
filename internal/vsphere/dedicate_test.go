package vsphere_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// The dedicated users of these tests; the passwords meet SSO's default
// policy, which the simulator enforces.
var (
	alice = vsphere.NewUser{Name: "juju-m-alice-1", Password: "Kq7#vR2!pLx9", Description: "vsphere-integrator m/alice"}
	bob   = vsphere.NewUser{Name: "juju-m-bob-1", Password: "Zt4$wN8@cMe3", Description: "vsphere-integrator m/bob"}
)

func full(u vsphere.NewUser) string { return u.Name + "@vsphere.local" }

// ssoVCenter starts a simulator with SSO and two datacenters, DC0 and DC1,
// and returns it with a target on DC0 (LocalDS_0, the VM folder itself)
// whose two nodes are DC0_C0_RP0_VM0 and DC0_C0_RP0_VM1, in cluster
// DC0_C0's root pool.
func ssoVCenter(t *testing.T) (*vspheretest.Server, vsphere.Target) {
	t.Helper()
	m := simulator.VPX()
	m.Datacenter = 2
	m.Machine = 2
	srv := vspheretest.NewServer(t, vspheretest.Options{Model: m, SSO: true})
	tg := target(srv)
	tg.Folder = ""
	tg.Nodes = workers(t, srv, 2)
	require.Equal(t, []string{"10.0.0.10", "10.0.0.11"}, []string{tg.Nodes[0].Address, tg.Nodes[1].Address})
	return srv, tg
}

// wantObjects is what a user granted on ssoVCenter's target holds.
var wantObjects = []vspheretest.Permission{
	{Path: "/", Role: vsphere.RolePrefix + "root"},
	{Path: "/DC0", Role: "ReadOnly", Propagate: true},
	{Path: "/DC0/datastore/LocalDS_0", Role: vsphere.RolePrefix + "datastore"},
	{Path: "/DC0/host/DC0_C0/Resources", Role: vsphere.RolePrefix + "resource-pool", Propagate: true},
	{Path: "/DC0/vm", Role: vsphere.RolePrefix + "vm-folder", Propagate: true},
	{Path: "/DC0/vm/DC0_C0_RP0_VM0", Role: vsphere.RolePrefix + "node-vm"},
	{Path: "/DC0/vm/DC0_C0_RP0_VM1", Role: vsphere.RolePrefix + "node-vm"},
}

// counted runs f and checks the requests it reports against what the
// simulator served.
func counted(t *testing.T, srv *vspheretest.Server, f func() *vsphere.DedicateReport) *vsphere.DedicateReport {
	t.Helper()
	vim, sso := srv.Requests(), srv.SSORequests()
	rep := f()
	require.NotNil(t, rep)
	assert.Equal(t, srv.Requests()-vim, rep.Requests, "vim25 requests reported")
	assert.Equal(t, srv.SSORequests()-sso, rep.SSORequests, "SSO requests reported")
	return rep
}

func permissionsOf(t *testing.T, srv *vspheretest.Server, principal string) []vspheretest.Permission {
	t.Helper()
	perms, err := srv.PermissionsOf(timeout(t, 10*time.Second), principal)
	require.NoError(t, err)
	return perms
}

// roles are the simulator's RolePrefix roles by name, with their
// privileges.
func roles(t *testing.T, srv *vspheretest.Server) map[string][]string {
	t.Helper()
	list, err := object.NewAuthorizationManager(srv.Client()).RoleList(timeout(t, 10*time.Second))
	require.NoError(t, err)
	out := map[string][]string{}
	for _, r := range list {
		if strings.HasPrefix(r.Name, vsphere.RolePrefix) {
			out[r.Name] = r.Privilege
		}
	}
	return out
}

// loginAs is a vim25 session of user on srv.
func loginAs(t *testing.T, ctx context.Context, srv *vspheretest.Server, user, password string) *vim25.Client {
	t.Helper()
	sc := soap.NewClient(srv.URL, false)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM([]byte(srv.CA)))
	sc.DefaultTransport().TLSClientConfig.RootCAs = roots
	c, err := vim25.NewClient(ctx, sc)
	require.NoError(t, err)
	m := session.NewManager(c)
	require.NoError(t, m.Login(ctx, url.UserPassword(user, password)))
	t.Cleanup(func() { _ = m.Logout(context.Background()) })
	return c
}

func TestDedicateMakesAndGrants(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	// An administrator's own permission on objects the charm grants on.
	require.NoError(t, srv.AddForeignPermission(ctx, "/DC0/datastore/LocalDS_0", `VSPHERE.LOCAL\ops`, "Admin"))
	require.NoError(t, srv.AddForeignPermission(ctx, "DC0_C0_RP0_VM0", "ops@vsphere.local", "ReadOnly"))
	foreign := permissionsOf(t, srv, "ops@vsphere.local")
	require.Len(t, foreign, 2)

	rep := counted(t, srv, func() *vsphere.DedicateReport {
		rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
		require.NoError(t, err)
		return rep
	})
	assert.Equal(t, "vsphere.local", rep.Domain)
	assert.Equal(t, []string{full(alice)}, rep.Made)
	assert.Equal(t, []string{vspheretest.CanonicalPrincipal(full(alice))}, srv.SSOUsers())
	assert.True(t, srv.CanLogin(ctx, full(alice), alice.Password), "the made user logs in")

	t.Run("roles hold exactly the needs", func(t *testing.T) {
		kinds := map[string]string{
			"root": vsphere.ObjectRoot, "datastore": vsphere.ObjectDatastore, "vm-folder": vsphere.ObjectFolder,
			"resource-pool": vsphere.ObjectPool, "node-vm": vsphere.ObjectNodeVM,
		}
		got := roles(t, srv)
		var names []string
		for slug, kind := range kinds {
			name := vsphere.RolePrefix + slug
			names = append(names, name)
			privs := slices.DeleteFunc(slices.Clone(got[name]), func(id string) bool {
				return slices.Contains([]string{"System.Anonymous", "System.Read", "System.View"}, id)
			})
			slices.Sort(privs)
			assert.Equal(t, vsphere.NeedsOf(kind), privs, name)
			assert.NotEmpty(t, privs, name)
		}
		slices.Sort(names)
		assert.Len(t, got, len(kinds))
		assert.Equal(t, names, rep.Roles)
		assert.Equal(t, names, rep.RolesChanged)
		assert.Equal(t, []string{"System.Read"}, vsphere.NeedsOf(vsphere.ObjectDatacenter), "the datacenter gets ReadOnly, which holds it")
	})

	t.Run("permissions on the listed objects only", func(t *testing.T) {
		assert.Equal(t, wantObjects, permissionsOf(t, srv, full(alice)))
		require.Len(t, rep.Granted, 1)
		g := rep.Granted[0]
		assert.Equal(t, full(alice), g.Principal)
		var got []vspheretest.Permission
		for _, p := range g.Objects {
			got = append(got, vspheretest.Permission{Path: p.Object, Role: p.Role, Propagate: p.Propagate})
		}
		slices.SortFunc(got, func(a, b vspheretest.Permission) int { return strings.Compare(a.Path, b.Path) })
		assert.Equal(t, wantObjects, got, "the report says what was granted")
		assert.Equal(t, len(wantObjects), rep.Changes)
	})

	t.Run("another principal's permissions stay", func(t *testing.T) {
		assert.Equal(t, foreign, permissionsOf(t, srv, "ops@vsphere.local"))
	})

	t.Run("a quiet repeat changes nothing", func(t *testing.T) {
		before := roles(t, srv)
		rep := counted(t, srv, func() *vsphere.DedicateReport {
			rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Grant: []string{`VSPHERE.LOCAL\` + alice.Name}})
			require.NoError(t, err)
			return rep
		})
		assert.Zero(t, rep.Changes)
		assert.Empty(t, rep.RolesChanged)
		assert.Zero(t, rep.SSORequests, "granting an existing user needs no SSO session")
		assert.Empty(t, rep.Domain)
		// Service content, login, inventory, node VMs, roles, permissions,
		// logout.
		assert.Equal(t, 7, rep.Requests)
		assert.Equal(t, wantObjects, permissionsOf(t, srv, full(alice)))
		assert.Equal(t, foreign, permissionsOf(t, srv, "ops@vsphere.local"))
		assert.Equal(t, before, roles(t, srv))
	})

	t.Run("a departed node loses its permission", func(t *testing.T) {
		one := tg
		one.Nodes = tg.Nodes[:1]
		rep, err := vsphere.Dedicate(ctx, one, vsphere.DedicateRequest{Grant: []string{full(alice)}})
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Changes)
		want := slices.DeleteFunc(slices.Clone(wantObjects), func(p vspheretest.Permission) bool { return p.Path == "/DC0/vm/DC0_C0_RP0_VM1" })
		assert.Equal(t, want, permissionsOf(t, srv, full(alice)))

		rep, err = vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Grant: []string{full(alice)}})
		require.NoError(t, err)
		assert.Equal(t, 1, rep.Changes, "a node that joins gets its VM's permission")
		assert.Equal(t, wantObjects, permissionsOf(t, srv, full(alice)))
		assert.Equal(t, foreign, permissionsOf(t, srv, "ops@vsphere.local"))
	})

	t.Run("a role changed by an upgrade is updated", func(t *testing.T) {
		am := object.NewAuthorizationManager(srv.Client())
		list, err := am.RoleList(ctx)
		require.NoError(t, err)
		r := list.ByName(vsphere.RolePrefix + "datastore")
		require.NotNil(t, r)
		require.NoError(t, am.UpdateRole(ctx, r.RoleId, r.Name, []string{"Datastore.Browse"}))
		rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Grant: []string{full(alice)}})
		require.NoError(t, err)
		assert.Equal(t, []string{vsphere.RolePrefix + "datastore"}, rep.RolesChanged)
		assert.NotContains(t, roles(t, srv)[r.Name], "Datastore.Browse")
		assert.Zero(t, rep.Changes, "the permissions name the role, which kept its id")
	})
}

// TestDedicatedUserCan: the dedicated user has what the storage providers
// need, as the charm's own check sees it, and nothing more.
func TestDedicatedUserCan(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	_, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
	require.NoError(t, err)
	as := tg
	as.User, as.Password = full(alice), alice.Password

	t.Run("the check finds no privilege missing", func(t *testing.T) {
		rep, err := vsphere.Check(ctx, as)
		require.NoError(t, err)
		require.NoError(t, rep.Privileges.Err)
		assert.Empty(t, rep.Privileges.Missing)
		assert.Len(t, rep.Privileges.Checked, 7)
		for _, n := range rep.Nodes {
			assert.True(t, n.Found, n.Name)
		}
	})

	c := loginAs(t, ctx, srv, full(alice), alice.Password)
	t.Run("no power off", func(t *testing.T) {
		vm, err := srv.Ref(ctx, "DC0_C0_RP0_VM0")
		require.NoError(t, err)
		_, err = object.NewVirtualMachine(c, vm).PowerOff(ctx)
		require.Error(t, err)
		assert.True(t, fault.Is(err, &types.NoPermission{}), "%v", err)
	})

	t.Run("another datacenter is invisible", func(t *testing.T) {
		other := as
		other.Datacenter = "DC1"
		_, err := vsphere.Check(ctx, other)
		var nf *vsphere.NotFoundError
		require.True(t, errors.As(err, &nf), "%v", err)
		assert.Equal(t, "datacenter", nf.Kind)
		assert.Equal(t, []string{"DC0"}, nf.Available)

		_, err = find.NewFinder(c).Datastore(ctx, "/DC1/datastore/LocalDS_0")
		assert.Error(t, err, "DC1's datastore is not shown")
		_, err = find.NewFinder(c).Datastore(ctx, "/DC0/datastore/LocalDS_0")
		assert.NoError(t, err, "DC0's is")
	})
}

func TestDedicateWithoutSSOAdmin(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	srv.DenySSOAdmin()
	rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
	var mr *vsphere.MissingRightError
	require.True(t, errors.As(err, &mr), "%v", err)
	assert.Equal(t, vsphere.RightSSOAdmin, mr.Right)
	assert.Contains(t, err.Error(), "membership of the SSO Administrators group")
	assert.Contains(t, err.Error(), tg.User)
	assert.True(t, fault.Is(err, &types.NoPermission{}), "the fault stays reachable")
	assert.NotContains(t, err.Error(), alice.Password)
	assert.NotContains(t, err.Error(), tg.Password)

	assert.Empty(t, srv.SSOUsers(), "no user made")
	assert.Empty(t, roles(t, srv), "no role made")
	assert.Empty(t, permissionsOf(t, srv, full(alice)))
	assert.Empty(t, rep.Made)
	assert.Positive(t, rep.SSORequests)
}

// TestDedicateUndoes: a step that fails after a user was made deletes the
// user again, with the permissions it was given.
func TestDedicateUndoes(t *testing.T) {
	for _, c := range []struct {
		name, object, privilege, right string
	}{
		{name: "roles", object: "/", privilege: "Authorization.ModifyRoles", right: vsphere.RightModifyRoles},
		{
			name: "permissions", object: "/DC0/datastore/LocalDS_0", privilege: "Authorization.ModifyPermissions",
			right: vsphere.RightModifyPermissions + " on /DC0/datastore/LocalDS_0",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, tg := ssoVCenter(t)
			ctx := timeout(t, 30*time.Second)
			require.NoError(t, srv.DenyPrivilege(ctx, c.object, c.privilege))
			rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
			var mr *vsphere.MissingRightError
			require.True(t, errors.As(err, &mr), "%v", err)
			assert.Equal(t, c.right, mr.Right)
			assert.Contains(t, err.Error(), c.right)
			var left *vsphere.LeftoverError
			assert.False(t, errors.As(err, &left), "everything was undone")
			assert.NotContains(t, err.Error(), alice.Password)

			assert.Empty(t, srv.SSOUsers(), "the made user is deleted again")
			assert.False(t, srv.CanLogin(ctx, full(alice), alice.Password))
			assert.Empty(t, permissionsOf(t, srv, full(alice)), "with its permissions")
			assert.Empty(t, rep.Made)
			assert.Empty(t, rep.Granted)
		})
	}
}

func TestDedicateRemoves(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	// Alice is granted on the node VMs and their pool; Bob, on a target
	// without nodes, is not: the node-vm and resource-pool roles are then
	// used by Alice alone.
	_, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
	require.NoError(t, err)
	noNodes := tg
	noNodes.Nodes = nil
	_, err = vsphere.Dedicate(ctx, noNodes, vsphere.DedicateRequest{Make: []vsphere.NewUser{bob}})
	require.NoError(t, err)
	require.NoError(t, srv.AddForeignPermission(ctx, "/DC0/datastore/LocalDS_0", `VSPHERE.LOCAL\ops`, "Admin"))
	bobs := permissionsOf(t, srv, full(bob))
	require.Len(t, bobs, 4)

	rep := counted(t, srv, func() *vsphere.DedicateReport {
		rep, err := vsphere.Dedicate(ctx, noNodes, vsphere.DedicateRequest{Remove: []string{`VSPHERE.LOCAL\` + alice.Name}, RemoveRoles: true})
		require.NoError(t, err)
		return rep
	})
	assert.Equal(t, []string{full(alice)}, rep.Removed)
	assert.Empty(t, permissionsOf(t, srv, full(alice)))
	assert.Equal(t, []string{vspheretest.CanonicalPrincipal(full(bob))}, srv.SSOUsers())
	assert.False(t, srv.CanLogin(ctx, full(alice), alice.Password))
	assert.True(t, srv.CanLogin(ctx, full(bob), bob.Password))
	assert.Equal(t, bobs, permissionsOf(t, srv, full(bob)), "Bob keeps his")
	assert.Len(t, permissionsOf(t, srv, "ops@vsphere.local"), 1)

	assert.Equal(t, []string{vsphere.RolePrefix + "node-vm", vsphere.RolePrefix + "resource-pool"}, rep.RolesRemoved)
	assert.Equal(t, []string{vsphere.RolePrefix + "datastore", vsphere.RolePrefix + "root", vsphere.RolePrefix + "vm-folder"}, rep.RolesKept, "roles in use stay")
	var left []string
	for name := range roles(t, srv) {
		left = append(left, name)
	}
	slices.Sort(left)
	assert.Equal(t, rep.RolesKept, left)

	t.Run("a user already gone is not an error", func(t *testing.T) {
		rep, err := vsphere.Dedicate(ctx, noNodes, vsphere.DedicateRequest{Remove: []string{full(alice)}})
		require.NoError(t, err)
		assert.Equal(t, []string{full(alice)}, rep.Removed)
		assert.Zero(t, rep.Changes)
	})
}

func TestIdentities(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	_, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{bob, alice}})
	require.NoError(t, err)

	var ids []vsphere.Identity
	rep := counted(t, srv, func() *vsphere.DedicateReport {
		var rep *vsphere.DedicateReport
		ids, rep, err = vsphere.Identities(ctx, tg, "juju-")
		require.NoError(t, err)
		return rep
	})
	assert.Equal(t, "vsphere.local", rep.Domain)
	require.Len(t, ids, 2)
	assert.Equal(t, full(alice), ids[0].User)
	assert.Equal(t, alice.Description, ids[0].Description)
	assert.Equal(t, full(bob), ids[1].User)
	for _, id := range ids {
		var got []vspheretest.Permission
		kinds := map[string]string{}
		for _, p := range id.Objects {
			got = append(got, vspheretest.Permission{Path: p.Object, Role: p.Role, Propagate: p.Propagate})
			kinds[p.Object] = p.Kind
		}
		slices.SortFunc(got, func(a, b vspheretest.Permission) int { return strings.Compare(a.Path, b.Path) })
		assert.Equal(t, wantObjects, got, id.User)
		assert.Equal(t, vsphere.ObjectRoot, kinds["/"])
		assert.Equal(t, vsphere.ObjectDatacenter, kinds["/DC0"])
		assert.Equal(t, vsphere.ObjectNodeVM, kinds["/DC0/vm/DC0_C0_RP0_VM1"])
		assert.Equal(t, vsphere.ObjectRoot, id.Objects[0].Kind, "listed in the order of the kinds")
	}

	ids, _, err = vsphere.Identities(ctx, tg, "nobody-")
	require.NoError(t, err)
	assert.Empty(t, ids)
	_, _, err = vsphere.Identities(ctx, tg, "")
	var te *vsphere.TargetError
	assert.True(t, errors.As(err, &te), "an empty prefix would list the administrator too")
}

// TestDedicateRefuses: requests the charm must never send are refused
// before anything is changed.
func TestDedicateRefuses(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	for name, req := range map[string]vsphere.DedicateRequest{
		"the trusted account granted": {Grant: []string{tg.User}},
		"the trusted account removed": {Remove: []string{`VSPHERE.LOCAL\k8s`}},
		"a user of another domain":    {Remove: []string{"someone@example.com"}},
		"a name with a domain":        {Make: []vsphere.NewUser{{Name: "a@vsphere.local", Password: alice.Password}}},
	} {
		_, err := vsphere.Dedicate(ctx, tg, req)
		var te *vsphere.TargetError
		assert.True(t, errors.As(err, &te), "%s: %v", name, err)
	}
	assert.Empty(t, srv.SSOUsers())
	assert.Empty(t, roles(t, srv))
	assert.True(t, srv.CanLogin(ctx, tg.User, tg.Password))
}

// TestDedicateRedacts: a fault that quotes the request, the new user's
// password in it, does not carry the password into the error.
func TestDedicateRedacts(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	srv.Model.Service.AddFaultRule(&simulator.FaultInjectionRule{
		MethodName: "CreateLocalPersonUser", ObjectType: "*", ObjectName: "*", Probability: 1,
		FaultType: simulator.FaultTypeCustom, Fault: &types.InvalidArgument{},
		Message: "refused <password>" + alice.Password + "</password> for " + alice.Name, Enabled: true,
	})
	_, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), alice.Name, "the fault is quoted")
	assert.NotContains(t, err.Error(), alice.Password)
	assert.Empty(t, srv.SSOUsers())
}

// TestDedicateBehindProxy: the lookup service names STS and SSO admin at
// the simulator's own address, past the proxy the target names; Dedicate
// takes only the paths, so the trusted password goes to STS through the
// proxy, under the proxy's pinned certificate, and nowhere else.
func TestDedicateBehindProxy(t *testing.T) {
	srv, tg := ssoVCenter(t)
	ctx := timeout(t, 30*time.Second)
	roots := x509.NewCertPool()
	require.True(t, roots.AppendCertsFromPEM([]byte(srv.CA)))
	var mu sync.Mutex
	var paths []string
	proxy := httptest.NewTLSServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			mu.Lock()
			paths = append(paths, pr.In.URL.Path)
			mu.Unlock()
			pr.SetURL(&url.URL{Scheme: "https", Host: srv.URL.Host})
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}},
	})
	t.Cleanup(func() {
		proxy.CloseClientConnections()
		proxy.Close()
	})
	tg.Server = strings.TrimPrefix(proxy.URL, "https://")
	tg.TLS = vsphere.TLS{Thumbprint: soap.ThumbprintSHA256(proxy.Certificate())}

	sso := srv.SSORequests()
	rep, err := vsphere.Dedicate(ctx, tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{alice}})
	require.NoError(t, err)
	assert.Equal(t, []string{full(alice)}, rep.Made)
	mu.Lock()
	defer mu.Unlock()
	through := 0
	for _, p := range paths {
		if !strings.HasPrefix(p, "/sdk") {
			through++
		}
	}
	assert.Equal(t, srv.SSORequests()-sso, through, "every SSO request went through the proxy")
	assert.Equal(t, rep.SSORequests, through)
	for _, prefix := range []string{"/lookupservice/", "/sts/", "/sso-adminserver/"} {
		assert.True(t, slices.ContainsFunc(paths, func(p string) bool { return strings.HasPrefix(p, prefix) }), prefix)
	}
}
