package vspheretest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// TestHelpers checks the setup helpers through govmomi's own client: what a
// test sets is what vCenter's API then shows.
func TestHelpers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	c := srv.Client()

	t.Run("guest IP is what FindAllByIp matches", func(t *testing.T) {
		require.NoError(t, srv.SetGuestIP(ctx, "DC0_H0_VM0", "10.1.2.3"))
		refs, err := object.NewSearchIndex(c).FindAllByIp(ctx, nil, "10.1.2.3", true)
		require.NoError(t, err)
		require.Len(t, refs, 1)
		want, err := srv.Ref(ctx, "DC0_H0_VM0")
		require.NoError(t, err)
		assert.Equal(t, want, refs[0].Reference())
		var vm mo.VirtualMachine
		require.NoError(t, property.DefaultCollector(c).RetrieveOne(ctx, want, []string{"guest.ipAddress"}, &vm))
		assert.Equal(t, "10.1.2.3", vm.Guest.IpAddress)
	})

	t.Run("extra config set, read and removed", func(t *testing.T) {
		require.NoError(t, srv.SetExtraConfig(ctx, "/DC0/vm/DC0_H0_VM1", "disk.enableUUID", "TRUE"))
		v, ok, err := srv.ExtraConfig(ctx, "DC0_H0_VM1", "disk.enableUUID")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "TRUE", v)
		require.NoError(t, srv.SetExtraConfig(ctx, "DC0_H0_VM1", "disk.enableUUID", ""))
		_, ok, err = srv.ExtraConfig(ctx, "DC0_H0_VM1", "disk.enableUUID")
		require.NoError(t, err)
		assert.False(t, ok)
	})

	t.Run("denied and forgotten privileges", func(t *testing.T) {
		ds, err := srv.Ref(ctx, "/DC0/datastore/LocalDS_0")
		require.NoError(t, err)
		root, err := srv.Ref(ctx, "/")
		require.NoError(t, err)
		require.NoError(t, srv.DenyPrivilege(ctx, "/DC0/datastore/LocalDS_0", "Datastore.AllocateSpace"))
		am := object.NewAuthorizationManager(c)
		res, err := am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{ds, root}, srv.User, []string{"Datastore.AllocateSpace", "System.Read"})
		require.NoError(t, err)
		got := map[types.ManagedObjectReference]map[string]bool{}
		for _, ep := range res {
			got[ep.Entity] = map[string]bool{}
			for _, pa := range ep.PrivAvailability {
				got[ep.Entity][pa.PrivId] = pa.IsGranted
			}
		}
		assert.Equal(t, map[string]bool{"Datastore.AllocateSpace": false, "System.Read": true}, got[ds])
		assert.Equal(t, map[string]bool{"Datastore.AllocateSpace": true, "System.Read": true}, got[root])

		var m mo.AuthorizationManager
		require.NoError(t, property.DefaultCollector(c).RetrieveOne(ctx, am.Reference(), []string{"privilegeList"}, &m))
		assert.NotEmpty(t, m.PrivilegeList, "a vCenter publishes its privilege ids")

		srv.ForgetPrivilege("Cns.Searchable")
		_, err = am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{root}, srv.User, []string{"Cns.Searchable"})
		assert.True(t, fault.Is(err, &types.InvalidArgument{}), "%v", err)
		srv.AnswerUnknownPrivileges()
		res, err = am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{root}, srv.User, []string{"Cns.Searchable"})
		require.NoError(t, err)
		assert.False(t, res[0].PrivAvailability[0].IsGranted)

		srv.FaultMethod("HasUserPrivilegeOnEntities", &types.NotSupported{})
		_, err = am.HasUserPrivilegeOnEntities(ctx, []types.ManagedObjectReference{root}, srv.User, []string{"System.Read"})
		assert.True(t, fault.Is(err, &types.NotSupported{}), "%v", err)
		srv.ClearFaults()
	})
}

// TestStorageHelpers checks the storage setters the same way: through
// govmomi's client, as a check reads them.
func TestStorageHelpers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	c := srv.Client()
	pc := property.DefaultCollector(c)
	const ds = "/DC0/datastore/LocalDS_0"

	vmRef, err := srv.Ref(ctx, "DC0_H0_VM0")
	require.NoError(t, err)
	require.NoError(t, srv.SetHardwareVersion(ctx, "DC0_H0_VM0", "vmx-11"))
	require.NoError(t, srv.SetBIOSUUID(ctx, "DC0_H0_VM0", "42000000-0000-0000-0000-000000000001"))
	var vm mo.VirtualMachine
	require.NoError(t, pc.RetrieveOne(ctx, vmRef, []string{"config.version", "config.uuid", "runtime.host"}, &vm))
	assert.Equal(t, "vmx-11", vm.Config.Version)
	assert.Equal(t, "42000000-0000-0000-0000-000000000001", vm.Config.Uuid)

	host, err := srv.VMHost(ctx, "DC0_H0_VM0")
	require.NoError(t, err)
	assert.Equal(t, "/DC0/host/DC0_H0/DC0_H0", host)
	hostRef, err := srv.Ref(ctx, host)
	require.NoError(t, err)
	assert.Equal(t, hostRef, *vm.Runtime.Host)
	require.NoError(t, srv.SetHostVersion(ctx, host, "6.5.0", "6.5"))
	var h mo.HostSystem
	require.NoError(t, pc.RetrieveOne(ctx, hostRef, []string{"summary.config.product"}, &h))
	assert.Equal(t, "6.5", h.Summary.Config.Product.ApiVersion)
	other, err := srv.Ref(ctx, "/DC0/host/DC0_C0/DC0_C0_H0")
	require.NoError(t, err)
	require.NoError(t, pc.RetrieveOne(ctx, other, []string{"summary.config.product"}, &h))
	assert.NotEqual(t, "6.5", h.Summary.Config.Product.ApiVersion, "other hosts keep theirs")

	dsRef, err := srv.Ref(ctx, ds)
	require.NoError(t, err)
	require.NoError(t, srv.SetDatastoreSummary(ctx, ds, func(s *types.DatastoreSummary) { s.MaintenanceMode = "inMaintenance" }))
	require.NoError(t, srv.SetDatastoreMount(ctx, ds, host, nil))
	var d mo.Datastore
	require.NoError(t, pc.RetrieveOne(ctx, dsRef, []string{"summary", "host"}, &d))
	assert.Equal(t, "inMaintenance", d.Summary.MaintenanceMode)
	for _, m := range d.Host {
		assert.NotEqual(t, hostRef, m.Key, "unmounted")
	}

	srv.SetVCenterVersion("7.0.3", "7.0.3.0")
	sc, err := methods.RetrieveServiceContent(ctx, c, &types.RetrieveServiceContent{This: vim25.ServiceInstance})
	require.NoError(t, err)
	assert.Equal(t, "7.0.3.0", sc.Returnval.About.ApiVersion)

	files, err := srv.DatastoreFiles(ctx, ds, "nowhere")
	require.NoError(t, err)
	assert.Empty(t, files)
}
