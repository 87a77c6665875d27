package vsphere

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// TestReadVMsWholeExtraConfig: the fallback for a vCenter that refuses the
// indexed ExtraConfig path reads the same values from the whole ExtraConfig.
func TestReadVMsWholeExtraConfig(t *testing.T) {
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	values := map[string]string{"DC0_H0_VM0": "TRUE", "DC0_H0_VM1": "", "DC0_C0_RP0_VM0": "false"}
	p, err := prepare(Target{
		Server: srv.URL.Host, User: srv.User, Password: srv.Password(), Datacenter: "DC0", Datastore: "LocalDS_0",
		TLS: TLS{CAs: []string{srv.CA}},
	})
	require.NoError(t, err)
	s, err := openSession(ctx, p)
	require.NoError(t, err)
	defer s.close(ctx)

	for vm, v := range values {
		if v != "" {
			require.NoError(t, srv.SetExtraConfig(ctx, vm, DiskUUIDOption, v))
		}
		require.NoError(t, srv.SetExtraConfig(ctx, vm, "guestinfo.other", "x"))
		ref, err := srv.Ref(ctx, vm)
		require.NoError(t, err)
		for _, indexed := range []bool{true, false} {
			got, err := s.readVMs(ctx, []types.ManagedObjectReference{ref}, indexed, nil)
			require.NoError(t, err)
			assert.Nil(t, got.mounts, "no datastore asked about")
			info := got.vms[ref]
			require.NotNil(t, info, vm)
			assert.Equal(t, vm, info.name)
			assert.Equal(t, DiskUUID{Known: true, Enabled: v == "TRUE", Value: v}, info.diskUUID, "%s indexed=%v", vm, indexed)
		}
	}
}
