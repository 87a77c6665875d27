package vspheretest_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

const (
	dedicated   = "k8s-dedicated@vsphere.local"
	dedicatedPw = "Dedicated-Passw0rd!"
	readOnly    = int32(-2)
	noAccess    = int32(-5)
	adminRole   = int32(-1)
)

func authzCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// loginAs opens a session over HTTPS as user, as the charm's consumers do.
func loginAs(t *testing.T, ctx context.Context, srv *vspheretest.Server, user, password string) (*vim25.Client, *session.Manager) {
	t.Helper()
	sc := soap.NewClient(srv.URL, false)
	sc.SetThumbprint(srv.URL.Host, srv.SHA256)
	c, err := vim25.NewClient(ctx, sc)
	require.NoError(t, err)
	m := session.NewManager(c)
	require.NoError(t, m.Login(ctx, url.UserPassword(user, password)))
	t.Cleanup(func() { _ = m.Logout(context.Background()) })
	return c, m
}

func ref(t *testing.T, ctx context.Context, srv *vspheretest.Server, name string) types.ManagedObjectReference {
	t.Helper()
	r, err := srv.Ref(ctx, name)
	require.NoError(t, err)
	return r
}

func grant(t *testing.T, ctx context.Context, am *object.AuthorizationManager, e types.ManagedObjectReference, principal string, role int32, propagate bool) {
	t.Helper()
	require.NoError(t, am.SetEntityPermissions(ctx, e, []types.Permission{{Principal: principal, RoleId: role, Propagate: propagate}}))
}

// noPermission asserts err is the NoPermission vCenter sends for priv on
// obj.
func noPermission(t *testing.T, err error, obj types.ManagedObjectReference, priv string) {
	t.Helper()
	require.Error(t, err)
	var np *types.NoPermission
	if _, ok := fault.As(err, &np); !ok {
		t.Fatalf("want NoPermission, got %v", err)
	}
	assert.Equal(t, priv, np.PrivilegeId)
	require.NotNil(t, np.Object)
	assert.Equal(t, obj, *np.Object)
}

func principals(perms []types.Permission) map[string]types.Permission {
	out := map[string]types.Permission{}
	for _, p := range perms {
		out[p.Principal] = p
	}
	return out
}

// TestPermissionsPerPrincipal: SetEntityPermissions adds or updates the
// principals it is given and keeps every other's, as vCenter does; vcsim
// replaces the whole list.
func TestPermissionsPerPrincipal(t *testing.T) {
	ctx := authzCtx(t)
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	am := object.NewAuthorizationManager(srv.Client())
	ds := ref(t, ctx, srv, "/DC0/datastore/LocalDS_0")
	dc := ref(t, ctx, srv, "/DC0")

	roleA, err := am.AddRole(ctx, "test-a", []string{"Datastore.FileManagement"})
	require.NoError(t, err)
	roleB, err := am.AddRole(ctx, "test-b", []string{"Datastore.AllocateSpace"})
	require.NoError(t, err)

	grant(t, ctx, am, ds, "k8s-a@vsphere.local", roleA, false)
	grant(t, ctx, am, ds, `VSPHERE.LOCAL\k8s-b`, roleB, false)
	perms, err := am.RetrieveEntityPermissions(ctx, ds, false)
	require.NoError(t, err)
	assert.Len(t, perms, 2, "the second grant kept the first")

	// The same principal spelled the other way, domain in another case:
	// updated, not added.
	grant(t, ctx, am, ds, `vsphere.local\k8s-a`, roleB, true)
	perms, err = am.RetrieveEntityPermissions(ctx, ds, false)
	require.NoError(t, err)
	require.Len(t, perms, 2)
	for _, p := range perms {
		assert.Equal(t, roleB, p.RoleId, p.Principal)
		assert.Equal(t, ds, *p.Entity)
	}

	t.Run("remove takes one principal's", func(t *testing.T) {
		require.NoError(t, am.RemoveEntityPermission(ctx, ds, "k8s-a@VSPHERE.LOCAL", false))
		perms, err := am.RetrieveEntityPermissions(ctx, ds, false)
		require.NoError(t, err)
		assert.Equal(t, []string{`VSPHERE.LOCAL\k8s-b`}, slices.Collect(func(yield func(string) bool) {
			for _, p := range perms {
				yield(p.Principal)
			}
		}))
		err = am.RemoveEntityPermission(ctx, ds, "k8s-a@vsphere.local", false)
		assert.True(t, fault.Is(err, &types.NotFound{}), "gone already: %v", err)
		err = am.RemoveEntityPermission(ctx, ds, "k8s-b@vsphere.local", true)
		assert.True(t, fault.Is(err, &types.NotFound{}), "a user is not a group: %v", err)
	})

	t.Run("inherited are the propagating ones above", func(t *testing.T) {
		grant(t, ctx, am, dc, "k8s-up@vsphere.local", readOnly, true)
		grant(t, ctx, am, dc, "k8s-here@vsphere.local", readOnly, false)
		perms, err := am.RetrieveEntityPermissions(ctx, ds, true)
		require.NoError(t, err)
		got := principals(perms)
		assert.Contains(t, got, "k8s-up@vsphere.local")
		assert.NotContains(t, got, "k8s-here@vsphere.local")
		assert.Contains(t, got, `VSPHERE.LOCAL\k8s-b`)
	})

	t.Run("all and by role", func(t *testing.T) {
		all, err := am.RetrieveAllPermissions(ctx)
		require.NoError(t, err)
		got := principals(all)
		for _, p := range []string{"admin", `VSPHERE.LOCAL\k8s-b`, "k8s-up@vsphere.local", "k8s-here@vsphere.local"} {
			assert.Contains(t, got, p)
		}
		byRole, err := am.RetrieveRolePermissions(ctx, roleB)
		require.NoError(t, err)
		require.Len(t, byRole, 1)
		assert.Equal(t, `VSPHERE.LOCAL\k8s-b`, byRole[0].Principal)
		_, err = am.RetrieveRolePermissions(ctx, 9999)
		assert.True(t, fault.Is(err, &types.NotFound{}), "%v", err)
	})

	t.Run("refused lists", func(t *testing.T) {
		err := am.SetEntityPermissions(ctx, ds, []types.Permission{{Principal: "k8s-x@vsphere.local", RoleId: 9999}})
		assert.True(t, fault.Is(err, &types.NotFound{}), "unknown role: %v", err)
		err = am.SetEntityPermissions(ctx, ds, []types.Permission{{Principal: "k8s-x@vsphere.local", RoleId: -3}})
		assert.True(t, fault.Is(err, &types.InvalidArgument{}), "the View role: %v", err)
	})
}

// TestForeignPermissionHelpers: a permission of another administrator
// survives the charm's grants on the same object, and PermissionsOf reports
// each principal's.
func TestForeignPermissionHelpers(t *testing.T) {
	ctx := authzCtx(t)
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	am := object.NewAuthorizationManager(srv.Client())
	require.NoError(t, srv.AddForeignPermission(ctx, "/DC0", `VSPHERE.LOCAL\backup-admin`, "Admin"))
	require.Error(t, srv.AddForeignPermission(ctx, "/DC0", `VSPHERE.LOCAL\backup-admin`, "no-such-role"))

	roleID, err := am.AddRole(ctx, "test-ds", []string{"Datastore.FileManagement"})
	require.NoError(t, err)
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0"), dedicated, readOnly, true)
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0/datastore/LocalDS_0"), dedicated, roleID, false)

	foreign, err := srv.PermissionsOf(ctx, "backup-admin@vsphere.local")
	require.NoError(t, err)
	assert.Equal(t, []vspheretest.Permission{{Path: "/DC0", Role: "Admin", Propagate: true}}, foreign)
	ours, err := srv.PermissionsOf(ctx, `VSPHERE.LOCAL\k8s-dedicated`)
	require.NoError(t, err)
	assert.Equal(t, []vspheretest.Permission{
		{Path: "/DC0", Role: "ReadOnly", Propagate: true},
		{Path: "/DC0/datastore/LocalDS_0", Role: "test-ds"},
	}, ours)
}

// TestRoles: each new role has its own positive id, and removing one in use
// honours failIfUsed; vcsim gives every role id 0 and removes regardless.
func TestRoles(t *testing.T) {
	ctx := authzCtx(t)
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	am := object.NewAuthorizationManager(srv.Client())
	ds := ref(t, ctx, srv, "/DC0/datastore/LocalDS_0")

	a, err := am.AddRole(ctx, "test-a", []string{"Datastore.FileManagement"})
	require.NoError(t, err)
	b, err := am.AddRole(ctx, "test-b", nil)
	require.NoError(t, err)
	assert.Positive(t, a)
	assert.Positive(t, b)
	assert.NotEqual(t, a, b)

	_, err = am.AddRole(ctx, "test-a", nil)
	assert.True(t, fault.Is(err, &types.AlreadyExists{}), "%v", err)
	_, err = am.AddRole(ctx, "test-c", []string{"No.Such.Privilege"})
	assert.True(t, fault.Is(err, &types.InvalidArgument{}), "%v", err)

	roles, err := am.RoleList(ctx)
	require.NoError(t, err)
	ra := roles.ById(a)
	require.NotNil(t, ra)
	assert.Equal(t, "test-a", ra.Name)
	assert.Subset(t, ra.Privilege, []string{"Datastore.FileManagement", "System.Anonymous", "System.Read", "System.View"})

	t.Run("update by id", func(t *testing.T) {
		require.NoError(t, am.UpdateRole(ctx, a, "test-a2", []string{"Datastore.AllocateSpace"}))
		roles, err := am.RoleList(ctx)
		require.NoError(t, err)
		r := roles.ById(a)
		require.NotNil(t, r)
		assert.Equal(t, "test-a2", r.Name)
		assert.Contains(t, r.Privilege, "Datastore.AllocateSpace")
		assert.NotContains(t, r.Privilege, "Datastore.FileManagement")
		assert.True(t, fault.Is(am.UpdateRole(ctx, a, "test-b", nil), &types.AlreadyExists{}))
		assert.True(t, fault.Is(am.UpdateRole(ctx, 9999, "x", nil), &types.NotFound{}))
		assert.True(t, fault.Is(am.UpdateRole(ctx, adminRole, "x", nil), &types.InvalidArgument{}))
	})

	t.Run("remove honours failIfUsed", func(t *testing.T) {
		grant(t, ctx, am, ds, dedicated, a, false)
		err := am.RemoveRole(ctx, a, true)
		assert.True(t, fault.Is(err, &types.RemoveFailed{}), "in use: %v", err)
		roles, err := am.RoleList(ctx)
		require.NoError(t, err)
		require.NotNil(t, roles.ById(a), "kept")

		require.NoError(t, am.RemoveRole(ctx, a, false))
		roles, err = am.RoleList(ctx)
		require.NoError(t, err)
		assert.Nil(t, roles.ById(a))
		perms, err := am.RetrieveEntityPermissions(ctx, ds, false)
		require.NoError(t, err)
		assert.Empty(t, perms, "its permission went with it")

		require.NoError(t, am.RemoveRole(ctx, b, true), "unused")
		assert.True(t, fault.Is(am.RemoveRole(ctx, b, false), &types.NotFound{}))
		assert.True(t, fault.Is(am.RemoveRole(ctx, readOnly, false), &types.InvalidArgument{}))

		c, err := am.AddRole(ctx, "test-c", nil)
		require.NoError(t, err)
		assert.NotContains(t, []int32{a, b}, c, "ids are not reused")
	})
}

// dedicatedServer is a two-datacenter simulator where the dedicated user
// reads DC0 (ReadOnly, propagating), may attach disks to and set options of
// DC0_H0_VM0, and manage files on DC0's datastore. It returns the server
// and the user's client.
func dedicatedServer(t *testing.T, ctx context.Context) (*vspheretest.Server, *vim25.Client, *session.Manager) {
	t.Helper()
	m := simulator.VPX()
	m.Datacenter = 2
	srv := vspheretest.NewServer(t, vspheretest.Options{Model: m})
	srv.AllowLogin(dedicated, dedicatedPw)
	am := object.NewAuthorizationManager(srv.Client())
	vmRole, err := am.AddRole(ctx, "test-node-vm", []string{
		"VirtualMachine.Config.AddExistingDisk", "VirtualMachine.Config.AddRemoveDevice", "VirtualMachine.Config.AdvancedConfig",
	})
	require.NoError(t, err)
	dsRole, err := am.AddRole(ctx, "test-datastore", []string{"Datastore.FileManagement"})
	require.NoError(t, err)
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0"), `VSPHERE.LOCAL\k8s-dedicated`, readOnly, true)
	grant(t, ctx, am, ref(t, ctx, srv, "DC0_H0_VM0"), `VSPHERE.LOCAL\k8s-dedicated`, vmRole, false)
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0/datastore/LocalDS_0"), `VSPHERE.LOCAL\k8s-dedicated`, dsRole, false)
	c, sm := loginAs(t, ctx, srv, dedicated, dedicatedPw)
	return srv, c, sm
}

// TestEnforced: a user other than the trusted account may do what its
// permissions allow and nothing else; vcsim lets it do everything.
func TestEnforced(t *testing.T) {
	ctx := authzCtx(t)
	srv, c, _ := dedicatedServer(t, ctx)
	vm0 := ref(t, ctx, srv, "DC0_H0_VM0")
	vm1 := ref(t, ctx, srv, "DC0_H0_VM1")

	t.Run("power", func(t *testing.T) {
		_, err := object.NewVirtualMachine(c, vm0).PowerOff(ctx)
		noPermission(t, err, vm0, "VirtualMachine.Interact.PowerOff")
		_, err = object.NewVirtualMachine(c, vm0).PowerOn(ctx)
		noPermission(t, err, vm0, "VirtualMachine.Interact.PowerOn")
	})

	t.Run("reconfigure", func(t *testing.T) {
		opt := types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: "disk.enableUUID", Value: "TRUE"}}}
		task, err := object.NewVirtualMachine(c, vm0).Reconfigure(ctx, opt)
		require.NoError(t, err)
		require.NoError(t, task.Wait(ctx), "granted on its VM")
		_, err = object.NewVirtualMachine(c, vm1).Reconfigure(ctx, opt)
		noPermission(t, err, vm1, "VirtualMachine.Config.AdvancedConfig")
		_, err = object.NewVirtualMachine(c, vm0).Reconfigure(ctx, types.VirtualMachineConfigSpec{NumCPUs: 4})
		noPermission(t, err, vm0, "VirtualMachine.Config.CPUCount")
	})

	t.Run("disks on its datastore only", func(t *testing.T) {
		finder := find.NewFinder(srv.Client())
		dc0, err := finder.Datacenter(ctx, "DC0")
		require.NoError(t, err)
		dc1, err := finder.Datacenter(ctx, "DC1")
		require.NoError(t, err)
		require.NoError(t, object.NewFileManager(c).MakeDirectory(ctx, "[LocalDS_0] b2", dc0, true))
		vdm := object.NewVirtualDiskManager(c)
		spec := &types.FileBackedVirtualDiskSpec{VirtualDiskSpec: types.VirtualDiskSpec{DiskType: "thin", AdapterType: "lsiLogic"}, CapacityKb: 1024}
		task, err := vdm.CreateVirtualDisk(ctx, "[LocalDS_0] b2/d.vmdk", dc0, spec)
		require.NoError(t, err)
		require.NoError(t, task.Wait(ctx))
		task, err = vdm.DeleteVirtualDisk(ctx, "[LocalDS_0] b2/d.vmdk", dc0)
		require.NoError(t, err)
		require.NoError(t, task.Wait(ctx))

		_, err = vdm.CreateVirtualDisk(ctx, "[LocalDS_0] b2/d.vmdk", dc1, spec)
		noPermission(t, err, ref(t, ctx, srv, "/DC1/datastore/LocalDS_0"), "Datastore.FileManagement")
	})

	t.Run("authorization", func(t *testing.T) {
		_, err := object.NewAuthorizationManager(c).AddRole(ctx, "test-mine", nil)
		noPermission(t, err, srv.Client().ServiceContent.RootFolder, "Authorization.ModifyRoles")
		err = object.NewAuthorizationManager(c).SetEntityPermissions(ctx, vm1, []types.Permission{{Principal: dedicated, RoleId: adminRole}})
		noPermission(t, err, vm1, "Authorization.ModifyPermissions")
	})
}

// TestHidden: the property collector and the search index show the user
// only what it may read: DC0's datastore, not DC1's.
func TestHidden(t *testing.T) {
	ctx := authzCtx(t)
	srv, c, _ := dedicatedServer(t, ctx)
	ds0 := ref(t, ctx, srv, "/DC0/datastore/LocalDS_0")
	ds1 := ref(t, ctx, srv, "/DC1/datastore/LocalDS_0")

	list, err := find.NewFinder(c).DatastoreList(ctx, "/*/datastore/*")
	require.NoError(t, err)
	var paths []string
	for _, d := range list {
		paths = append(paths, d.InventoryPath)
	}
	assert.Equal(t, []string{"/DC0/datastore/LocalDS_0"}, paths)

	res, err := methods.RetrieveProperties(ctx, c, &types.RetrieveProperties{
		This: c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{Obj: ds0}, {Obj: ds1}},
			PropSet:   []types.PropertySpec{{Type: "Datastore", PathSet: []string{"name"}}},
		}},
	})
	require.NoError(t, err)
	var got []types.ManagedObjectReference
	for _, oc := range res.Returnval {
		got = append(got, oc.Obj)
	}
	assert.Equal(t, []types.ManagedObjectReference{ds0}, got)

	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"Datastore"}, true)
	require.NoError(t, err)
	var dss []mo.Datastore
	require.NoError(t, v.Retrieve(ctx, []string{"Datastore"}, []string{"name"}, &dss))
	require.Len(t, dss, 1)
	assert.Equal(t, ds0, dss[0].Self)
	var cv mo.ContainerView
	require.NoError(t, methodsRetrieveOne(ctx, c, v.Reference(), "view", &cv))
	assert.Equal(t, []types.ManagedObjectReference{ds0}, cv.View)

	si := object.NewSearchIndex(c)
	found, err := si.FindByInventoryPath(ctx, "/DC1/datastore/LocalDS_0")
	require.NoError(t, err)
	assert.Nil(t, found)
	found, err = si.FindByInventoryPath(ctx, "/DC0/datastore/LocalDS_0")
	require.NoError(t, err)
	require.NotNil(t, found)

	// WaitForUpdatesEx: the hidden datastore's update is left out.
	pc, err := methods.CreatePropertyCollector(ctx, c, &types.CreatePropertyCollector{This: c.ServiceContent.PropertyCollector})
	require.NoError(t, err)
	_, err = methods.CreateFilter(ctx, c, &types.CreateFilter{
		This: pc.Returnval,
		Spec: types.PropertyFilterSpec{
			ObjectSet: []types.ObjectSpec{{Obj: ds0}, {Obj: ds1}},
			PropSet:   []types.PropertySpec{{Type: "Datastore", PathSet: []string{"name"}}},
		},
	})
	require.NoError(t, err)
	zero := int32(0)
	upd, err := methods.WaitForUpdatesEx(ctx, c, &types.WaitForUpdatesEx{This: pc.Returnval, Options: &types.WaitOptions{MaxWaitSeconds: &zero}})
	require.NoError(t, err)
	require.NotNil(t, upd.Returnval)
	got = nil
	for _, fs := range upd.Returnval.FilterSet {
		for _, u := range fs.ObjectSet {
			got = append(got, u.Obj)
		}
	}
	assert.Equal(t, []types.ManagedObjectReference{ds0}, got)

	// The trusted account still sees both.
	found, err = object.NewSearchIndex(srv.Client()).FindByInventoryPath(ctx, "/DC1/datastore/LocalDS_0")
	require.NoError(t, err)
	assert.NotNil(t, found)
}

func methodsRetrieveOne(ctx context.Context, c *vim25.Client, obj types.ManagedObjectReference, prop string, dst any) error {
	res, err := methods.RetrieveProperties(ctx, c, &types.RetrieveProperties{
		This: c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{Obj: obj}},
			PropSet:   []types.PropertySpec{{Type: obj.Type, PathSet: []string{prop}}},
		}},
	})
	if err != nil {
		return err
	}
	if len(res.Returnval) == 0 {
		return errors.New("not shown")
	}
	return mo.LoadObjectContent(res.Returnval, dst)
}

// TestPrivilegeQueries: the three privilege queries answer for another
// user from its permissions, the nearest one winning.
func TestPrivilegeQueries(t *testing.T) {
	ctx := authzCtx(t)
	srv, c, sm := dedicatedServer(t, ctx)
	am := object.NewAuthorizationManager(srv.Client())
	vm0 := ref(t, ctx, srv, "DC0_H0_VM0")
	vm1 := ref(t, ctx, srv, "DC0_H0_VM1")
	const attach, power = "VirtualMachine.Config.AddExistingDisk", "VirtualMachine.Interact.PowerOff"

	granted := func(res []types.EntityPrivilege) map[types.ManagedObjectReference]map[string]bool {
		out := map[types.ManagedObjectReference]map[string]bool{}
		for _, ep := range res {
			out[ep.Entity] = map[string]bool{}
			for _, pa := range ep.PrivAvailability {
				out[ep.Entity][pa.PrivId] = pa.IsGranted
			}
		}
		return out
	}
	want := map[types.ManagedObjectReference]map[string]bool{
		vm0: {attach: true, power: false, "System.Read": true},
		vm1: {attach: false, power: false, "System.Read": true},
	}
	ids := []string{attach, power, "System.Read"}

	res, err := am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{vm0, vm1}, `VSPHERE.LOCAL\k8s-dedicated`, ids)
	require.NoError(t, err)
	assert.Equal(t, want, granted(res))

	us, err := sm.UserSession(ctx)
	require.NoError(t, err)
	own, err := methods.HasPrivilegeOnEntities(ctx, c, &types.HasPrivilegeOnEntities{
		This: *c.ServiceContent.AuthorizationManager, Entity: []types.ManagedObjectReference{vm0, vm1}, SessionId: us.Key, PrivId: ids,
	})
	require.NoError(t, err)
	assert.Equal(t, want, granted(own.Returnval))

	fetched, err := am.FetchUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{vm0}, dedicated)
	require.NoError(t, err)
	require.Len(t, fetched, 1)
	assert.Contains(t, fetched[0].Privileges, attach)
	assert.NotContains(t, fetched[0].Privileges, power)

	// Admin on the datacenter, propagating; NoAccess on one VM overrides
	// it there, the user's own permission on a VM overrides it too, and a
	// permission that does not propagate stops at its object.
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0"), dedicated, adminRole, true)
	grant(t, ctx, am, vm1, dedicated, noAccess, false)
	grant(t, ctx, am, ref(t, ctx, srv, "/DC1"), dedicated, adminRole, false)
	dc1vm := ref(t, ctx, srv, "DC1_H0_VM0")
	res, err = am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{vm0, vm1, ref(t, ctx, srv, "DC0_C0_RP0_VM0"), dc1vm}, dedicated, []string{power, "System.Read"})
	require.NoError(t, err)
	assert.Equal(t, map[types.ManagedObjectReference]map[string]bool{
		vm0:                                {power: false, "System.Read": true},
		vm1:                                {power: false, "System.Read": false},
		ref(t, ctx, srv, "DC0_C0_RP0_VM0"): {power: true, "System.Read": true},
		dc1vm:                              {power: false, "System.Read": false},
	}, granted(res))
	_, err = object.NewVirtualMachine(c, ref(t, ctx, srv, "DC0_C0_RP0_VM0")).PowerOff(ctx)
	require.NoError(t, err, "Admin inherited")
}

// TestTrustedDenied: the trusted account may manage roles and permissions
// until a test denies it the right, and is then refused as vCenter refuses.
func TestTrustedDenied(t *testing.T) {
	ctx := authzCtx(t)
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	c, _ := loginAs(t, ctx, srv, srv.User, srv.Password())
	am := object.NewAuthorizationManager(c)
	root := c.ServiceContent.RootFolder
	ds := ref(t, ctx, srv, "/DC0/datastore/LocalDS_0")

	id, err := am.AddRole(ctx, "test-ok", nil)
	require.NoError(t, err)
	require.NoError(t, srv.DenyPrivilege(ctx, "/", "Authorization.ModifyRoles"))
	_, err = am.AddRole(ctx, "test-refused", nil)
	noPermission(t, err, root, "Authorization.ModifyRoles")
	noPermission(t, am.RemoveRole(ctx, id, false), root, "Authorization.ModifyRoles")

	grant(t, ctx, am, ds, dedicated, readOnly, false)
	require.NoError(t, srv.DenyPrivilege(ctx, "/DC0/datastore/LocalDS_0", "Authorization.ModifyPermissions"))
	noPermission(t, am.SetEntityPermissions(ctx, ds, []types.Permission{{Principal: dedicated, RoleId: id}}), ds, "Authorization.ModifyPermissions")
	noPermission(t, am.RemoveEntityPermission(ctx, ds, dedicated, false), ds, "Authorization.ModifyPermissions")
	grant(t, ctx, am, ref(t, ctx, srv, "/DC0"), dedicated, readOnly, false) // elsewhere: allowed

	// Only the authorization manager's calls are refused it: the trusted
	// account's other denials are for the privilege check to report.
	require.NoError(t, srv.DenyPrivilege(ctx, "DC0_H0_VM0", "VirtualMachine.Interact.PowerOff"))
	task, err := object.NewVirtualMachine(c, ref(t, ctx, srv, "DC0_H0_VM0")).PowerOff(ctx)
	require.NoError(t, err)
	require.NoError(t, task.Wait(ctx))
}
