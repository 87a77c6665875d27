package vsphere_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// nodesVCenter starts a simulator with 12 VMs (DC0_H0_VM0..5 on a
// standalone host, DC0_C0_RP0_VM0..5 in cluster DC0_C0), none reporting an
// IP yet.
func nodesVCenter(t testing.TB) *vspheretest.Server {
	t.Helper()
	m := simulator.VPX()
	m.Machine = 6
	return vspheretest.NewServer(t, vspheretest.Options{Model: m})
}

// guest sets what a VM's VMware Tools report and its disk.enableUUID ("" for
// absent).
func guest(t testing.TB, srv *vspheretest.Server, vm, ip, diskUUID string) {
	t.Helper()
	ctx := timeout(t, 10*time.Second)
	if ip != "" {
		require.NoError(t, srv.SetGuestIP(ctx, vm, ip))
	}
	if diskUUID != "" {
		require.NoError(t, srv.SetExtraConfig(ctx, vm, vsphere.DiskUUIDOption, diskUUID))
	}
}

// workers gives n VMs of srv an IP each (10.0.0.10, ...) and returns the
// nodes that find them, kubernetes-worker/0, ...
func workers(t testing.TB, srv *vspheretest.Server, n int) []vsphere.Node {
	t.Helper()
	names, err := srv.VMNames(timeout(t, 10*time.Second))
	require.NoError(t, err)
	slices.Sort(names)
	require.GreaterOrEqual(t, len(names), n)
	var nodes []vsphere.Node
	for i := range n {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		guest(t, srv, names[i], ip, "TRUE")
		nodes = append(nodes, vsphere.Node{Name: fmt.Sprintf("kubernetes-worker/%d", i), Address: ip})
	}
	return nodes
}

func byName(rep *vsphere.Report) map[string]vsphere.NodeReport {
	out := map[string]vsphere.NodeReport{}
	for _, n := range rep.Nodes {
		out[n.Name] = n
	}
	return out
}

func TestCheckNodes(t *testing.T) {
	srv := nodesVCenter(t)
	guest(t, srv, "DC0_H0_VM0", "10.0.0.10", "TRUE")
	guest(t, srv, "DC0_H0_VM1", "10.0.0.11", "")
	guest(t, srv, "DC0_H0_VM2", "10.0.0.12", "FALSE")
	guest(t, srv, "DC0_H0_VM3", "10.0.0.13", "1")
	guest(t, srv, "DC0_C0_RP0_VM0", "10.0.0.20", "")
	guest(t, srv, "DC0_C0_RP0_VM1", "10.0.0.20", "")
	guest(t, srv, "DC0_C0_RP0_VM2", "fd00::5", "TRUE")

	tg := target(srv)
	tg.Folder = ""
	tg.Nodes = []vsphere.Node{
		{Name: "kubernetes-worker/0", Address: "10.0.0.10"},
		{Name: "kubernetes-worker/1", Address: " 10.0.0.11\n"},
		{Name: "kubernetes-worker/2", Address: "10.0.0.12"},
		{Name: "kubernetes-worker/3", Address: "10.0.0.13"},
		{Name: "kubernetes-worker/4", Address: "10.0.0.99"},
		{Name: "kubernetes-worker/5", Address: ""},
		{Name: "kubernetes-worker/6", Address: "node6.maas"},
		{Name: "kubernetes-worker/7", Address: "10.0.0.20"},
		{Name: "kubernetes-worker/8", Address: "[FD00:0::5]"},
		// A subordinate gets its principal's address: same VM.
		{Name: "vsphere-cloud-provider/0", Address: "10.0.0.10"},
	}
	rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
	require.NoError(t, err)
	require.Len(t, rep.Nodes, len(tg.Nodes))
	for i, n := range rep.Nodes {
		assert.Equal(t, tg.Nodes[i], n.Node, "same order as asked")
	}

	tests := []struct {
		unit    string
		found   bool
		vm      string
		enabled bool
		value   string
		lacks   bool
		why     string
	}{
		{unit: "kubernetes-worker/0", found: true, vm: "/DC0/vm/DC0_H0_VM0", enabled: true, value: "TRUE"},
		{unit: "kubernetes-worker/1", found: true, vm: "/DC0/vm/DC0_H0_VM1", lacks: true},
		{unit: "kubernetes-worker/2", found: true, vm: "/DC0/vm/DC0_H0_VM2", value: "FALSE", lacks: true},
		{unit: "kubernetes-worker/3", found: true, vm: "/DC0/vm/DC0_H0_VM3", enabled: true, value: "1"},
		{unit: "kubernetes-worker/4", why: "no VM reports IP 10.0.0.99"},
		{unit: "kubernetes-worker/5", why: "no address"},
		{unit: "kubernetes-worker/6", why: "'node6.maas' is not an IP address"},
		{unit: "kubernetes-worker/7", why: "2 VMs report IP 10.0.0.20 (paths: /DC0/vm/DC0_C0_RP0_VM0, /DC0/vm/DC0_C0_RP0_VM1)"},
		{unit: "kubernetes-worker/8", found: true, vm: "/DC0/vm/DC0_C0_RP0_VM2", enabled: true, value: "TRUE"},
		{unit: "vsphere-cloud-provider/0", found: true, vm: "/DC0/vm/DC0_H0_VM0", enabled: true, value: "TRUE"},
	}
	nodes := byName(rep)
	for _, tc := range tests {
		t.Run(tc.unit, func(t *testing.T) {
			n := nodes[tc.unit]
			assert.Equal(t, tc.found, n.Found, n.Why)
			assert.Equal(t, tc.lacks, n.LacksDiskUUID())
			if !tc.found {
				assert.Contains(t, n.Why, tc.why)
				assert.Empty(t, n.VM)
				return
			}
			assert.Empty(t, n.Why)
			assert.Equal(t, tc.vm, n.VM)
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`, n.UUID)
			assert.Equal(t, "poweredOn", n.PowerState)
			assert.True(t, n.DiskUUID.Known)
			assert.Equal(t, tc.enabled, n.DiskUUID.Enabled)
			assert.Equal(t, tc.value, n.DiskUUID.Value)
		})
	}
	assert.Equal(t, 6, rep.Requests, "service content, login, inventory, node VMs, privileges, logout")
	assert.Zero(t, sessions(t, srv))
}

// TestCheckRequestsWithTenNodes: the VM lookups are batched, so ten related
// units cost one request more than none, whatever their number.
func TestCheckRequestsWithTenNodes(t *testing.T) {
	srv := nodesVCenter(t)
	tg := target(srv)
	tg.Folder = ""
	tg.Nodes = workers(t, srv, 10)
	tg.Nodes = append(tg.Nodes, vsphere.Node{Name: "kubernetes-worker/10", Address: "10.9.9.9"})
	served := srv.Requests()
	rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
	require.NoError(t, err)
	assert.Equal(t, srv.Requests()-served, rep.Requests)
	assert.Less(t, rep.Requests, 12)
	assert.Equal(t, 6, rep.Requests)
	found := 0
	for _, n := range rep.Nodes {
		if n.Found {
			found++
			assert.False(t, n.LacksDiskUUID())
		}
	}
	assert.Equal(t, 10, found)
	assert.Empty(t, rep.Privileges.Missing)
	assert.Zero(t, sessions(t, srv))
	t.Logf("SOAP requests for a check with %d related units: %d", len(tg.Nodes), rep.Requests)

	tg.Nodes = nil
	rep, err = vsphere.Check(timeout(t, 10*time.Second), tg)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Requests, "no nodes: no VM read")
}

func TestCheckPrivileges(t *testing.T) {
	type missing struct {
		kind, object, node, priv string
		essential                bool
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T, srv *vspheretest.Server)
		pool    string
		missing []missing
		unknown []string
		// queryErr: the privileges could not be checked; unsupported says
		// vCenter lacks the method.
		queryErr, unsupported bool
	}{{
		name:  "everything granted",
		setup: func(*testing.T, *vspheretest.Server) {},
	}, {
		name: "datastore AllocateSpace denied",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/DC0/datastore/LocalDS_0", "Datastore.AllocateSpace"))
		},
		missing: []missing{{vsphere.ObjectDatastore, "/DC0/datastore/LocalDS_0", "", "Datastore.AllocateSpace", true}},
	}, {
		name: "AddExistingDisk denied on one node VM",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), "DC0_H0_VM1", "VirtualMachine.Config.AddExistingDisk"))
		},
		missing: []missing{{vsphere.ObjectNodeVM, "/DC0/vm/DC0_H0_VM1", "kubernetes-worker/1", "VirtualMachine.Config.AddExistingDisk", true}},
	}, {
		name: "non-essential ones on root, folder and the nodes' pool",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			ctx := context.Background()
			require.NoError(t, srv.DenyPrivilege(ctx, "/", "StorageProfile.View"))
			require.NoError(t, srv.DenyPrivilege(ctx, "/DC0/vm", "VirtualMachine.Inventory.Create"))
			require.NoError(t, srv.DenyPrivilege(ctx, "/DC0/host/DC0_H0/Resources", "Resource.AssignVMToPool"))
		},
		missing: []missing{
			{vsphere.ObjectRoot, "/", "", "StorageProfile.View", false},
			{vsphere.ObjectFolder, "/DC0/vm", "", "VirtualMachine.Inventory.Create", false},
			{vsphere.ObjectPool, "/DC0/host/DC0_H0/Resources", "", "Resource.AssignVMToPool", false},
		},
	}, {
		name: "configured pool is checked instead of the nodes' pools",
		pool: "DC0_C0",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/DC0/host/DC0_C0/Resources", "Resource.AssignVMToPool"))
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/DC0/host/DC0_H0/Resources", "Resource.AssignVMToPool"))
		},
		missing: []missing{{vsphere.ObjectPool, "/DC0/host/DC0_C0/Resources", "", "Resource.AssignVMToPool", false}},
	}, {
		name:    "privilege this vCenter does not define is reported, not asked",
		setup:   func(_ *testing.T, srv *vspheretest.Server) { srv.ForgetPrivilege("Cns.Searchable") },
		unknown: []string{"Cns.Searchable"},
	}, {
		name: "undefined privilege answered as not granted is still told apart",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.ForgetPrivilege("Cns.Searchable")
			srv.AnswerUnknownPrivileges()
		},
		unknown: []string{"Cns.Searchable"},
	}, {
		name: "undefined and missing together",
		setup: func(t *testing.T, srv *vspheretest.Server) {
			srv.ForgetPrivilege("Cns.Searchable")
			require.NoError(t, srv.DenyPrivilege(context.Background(), "/DC0/datastore/LocalDS_0", "Datastore.FileManagement"))
		},
		missing: []missing{{vsphere.ObjectDatastore, "/DC0/datastore/LocalDS_0", "", "Datastore.FileManagement", true}},
		unknown: []string{"Cns.Searchable"},
	}, {
		name: "query not supported",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("HasUserPrivilegeOnEntities", &types.NotSupported{})
		},
		queryErr:    true,
		unsupported: true,
	}, {
		name: "query refused",
		setup: func(_ *testing.T, srv *vspheretest.Server) {
			srv.FaultMethod("HasUserPrivilegeOnEntities", &types.NoPermission{})
		},
		queryErr: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := nodesVCenter(t)
			tg := target(srv)
			tg.Folder, tg.ResourcePool = "", tc.pool
			guest(t, srv, "DC0_C0_RP0_VM0", "10.0.0.10", "TRUE")
			guest(t, srv, "DC0_H0_VM1", "10.0.0.11", "TRUE")
			guest(t, srv, "DC0_C0_RP0_VM1", "10.0.0.12", "TRUE")
			tg.Nodes = []vsphere.Node{
				{Name: "kubernetes-worker/0", Address: "10.0.0.10"},
				{Name: "kubernetes-worker/1", Address: "10.0.0.11"},
				{Name: "kubernetes-worker/2", Address: "10.0.0.12"},
			}
			tc.setup(t, srv)

			rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			require.NoError(t, err, "privileges never fail the credential check")
			assert.Equal(t, "/DC0/datastore/LocalDS_0", rep.Datastore)
			// At most: the query, the privilege list, the query again.
			assert.LessOrEqual(t, rep.Requests, 8)
			t.Logf("%d requests", rep.Requests)
			p := rep.Privileges
			assert.Equal(t, srv.User, p.User)
			if tc.queryErr {
				var qe *vsphere.PrivilegeQueryError
				require.ErrorAs(t, p.Err, &qe)
				assert.Equal(t, tc.unsupported, qe.Unsupported)
				assert.Empty(t, p.Missing)
				t.Log(p.Err)
				return
			}
			require.NoError(t, p.Err)
			var got []missing
			for _, m := range p.Missing {
				got = append(got, missing{m.Kind, m.Object, m.Node, m.Privilege, m.Essential})
				assert.NotEmpty(t, m.By)
			}
			assert.ElementsMatch(t, tc.missing, got)
			assert.Equal(t, tc.unknown, p.Unknown)

			kinds := map[string]int{}
			for _, s := range p.Checked {
				kinds[s.Kind]++
			}
			pools := 2 // the nodes run in DC0_C0 and on DC0_H0
			if tc.pool != "" {
				pools = 1
			}
			assert.Equal(t, map[string]int{
				vsphere.ObjectRoot: 1, vsphere.ObjectDatacenter: 1, vsphere.ObjectDatastore: 1,
				vsphere.ObjectFolder: 1, vsphere.ObjectPool: pools, vsphere.ObjectNodeVM: 3,
			}, kinds)
		})
	}
}

func TestEnableDiskUUID(t *testing.T) {
	setup := func(t *testing.T) (*vspheretest.Server, vsphere.Target) {
		srv := nodesVCenter(t)
		guest(t, srv, "DC0_H0_VM0", "10.0.0.10", "TRUE")
		guest(t, srv, "DC0_H0_VM1", "10.0.0.11", "")
		guest(t, srv, "DC0_H0_VM2", "10.0.0.12", "FALSE")
		tg := target(srv)
		tg.Folder = ""
		tg.Nodes = []vsphere.Node{
			{Name: "kubernetes-worker/0", Address: "10.0.0.10"},
			{Name: "kubernetes-worker/1", Address: "10.0.0.11"},
			{Name: "kubernetes-worker/2", Address: "10.0.0.12"},
			{Name: "kubernetes-worker/3", Address: "10.0.0.99"},
			{Name: "vsphere-cloud-provider/1", Address: "10.0.0.11"},
		}
		return srv, tg
	}
	value := func(t *testing.T, srv *vspheretest.Server, vm string) string {
		v, ok, err := srv.ExtraConfig(timeout(t, 10*time.Second), vm, vsphere.DiskUUIDOption)
		require.NoError(t, err)
		if !ok {
			return "<unset>"
		}
		return v
	}
	changes := func(rep *vsphere.DiskUUIDReport) map[string]bool {
		out := map[string]bool{}
		for _, n := range rep.Nodes {
			out[n.Name] = n.Change
		}
		return out
	}
	want := map[string]bool{
		"kubernetes-worker/0": false, "kubernetes-worker/1": true, "kubernetes-worker/2": true,
		"kubernetes-worker/3": false, "vsphere-cloud-provider/1": true,
	}

	t.Run("dry run changes nothing", func(t *testing.T) {
		srv, tg := setup(t)
		rep, err := vsphere.EnableDiskUUID(timeout(t, 10*time.Second), tg, true)
		require.NoError(t, err)
		assert.True(t, rep.DryRun)
		assert.Equal(t, want, changes(rep))
		for _, n := range rep.Nodes {
			assert.NoError(t, n.Err)
		}
		assert.Equal(t, "<unset>", value(t, srv, "DC0_H0_VM1"))
		assert.Equal(t, "FALSE", value(t, srv, "DC0_H0_VM2"))
		assert.Equal(t, 5, rep.Requests, "service content, login, inventory, node VMs, logout")
		assert.Zero(t, sessions(t, srv))
	})

	t.Run("real run sets the option once per VM", func(t *testing.T) {
		srv, tg := setup(t)
		rep, err := vsphere.EnableDiskUUID(timeout(t, 10*time.Second), tg, false)
		require.NoError(t, err)
		assert.False(t, rep.DryRun)
		assert.Equal(t, want, changes(rep))
		for _, n := range rep.Nodes {
			assert.NoError(t, n.Err, n.Name)
		}
		assert.Contains(t, rep.Nodes[3].Why, "no VM reports IP 10.0.0.99")
		assert.Equal(t, "TRUE", value(t, srv, "DC0_H0_VM0"))
		assert.Equal(t, "TRUE", value(t, srv, "DC0_H0_VM1"))
		assert.Equal(t, "TRUE", value(t, srv, "DC0_H0_VM2"))
		// 2 VMs: two reconfigures and at least one look at the tasks.
		assert.GreaterOrEqual(t, rep.Requests, 8)
		assert.Zero(t, sessions(t, srv))

		check, err := vsphere.Check(timeout(t, 10*time.Second), tg)
		require.NoError(t, err)
		for _, n := range check.Nodes {
			assert.False(t, n.LacksDiskUUID(), n.Name)
		}
		again, err := vsphere.EnableDiskUUID(timeout(t, 10*time.Second), tg, false)
		require.NoError(t, err)
		for _, n := range again.Nodes {
			assert.False(t, n.Change, "already set: %s", n.Name)
		}
	})

	t.Run("refused reconfiguration is reported per node", func(t *testing.T) {
		srv, tg := setup(t)
		srv.FaultMethod("ReconfigVM_Task", &types.NoPermission{PrivilegeId: "VirtualMachine.Config.AdvancedConfig"})
		rep, err := vsphere.EnableDiskUUID(timeout(t, 10*time.Second), tg, false)
		require.NoError(t, err)
		for _, n := range rep.Nodes {
			if n.Change {
				assert.Error(t, n.Err, n.Name)
			} else {
				assert.NoError(t, n.Err, n.Name)
			}
		}
		srv.ClearFaults()
		assert.Equal(t, "<unset>", value(t, srv, "DC0_H0_VM1"))
		assert.Zero(t, sessions(t, srv))
	})
}
