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
