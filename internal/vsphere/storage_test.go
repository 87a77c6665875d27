package vsphere_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

const ds0 = "/DC0/datastore/LocalDS_0"

// storageVCenter is nodesVCenter where storage has nothing to complain
// about: vCenter 8.0.2, node VMs at vmx-19, and four units on them, two on
// the standalone host DC0_H0 and two in cluster DC0_C0, plus a subordinate
// on kubernetes-worker/0's VM.
func storageVCenter(t *testing.T) (*vspheretest.Server, vsphere.Target) {
	t.Helper()
	srv := nodesVCenter(t)
	srv.SetVCenterVersion("8.0.2", "8.0.2.0")
	ctx := timeout(t, 10*time.Second)
	tg := target(srv)
	tg.Folder = ""
	for i, vm := range []string{"DC0_H0_VM0", "DC0_H0_VM1", "DC0_C0_RP0_VM0", "DC0_C0_RP0_VM1"} {
		ip := fmt.Sprintf("10.0.0.%d", 10+i)
		guest(t, srv, vm, ip, "TRUE")
		require.NoError(t, srv.SetHardwareVersion(ctx, vm, "vmx-19"))
		tg.Nodes = append(tg.Nodes, vsphere.Node{Name: fmt.Sprintf("kubernetes-worker/%d", i), Address: ip})
	}
	tg.Nodes = append(tg.Nodes, vsphere.Node{Name: "vsphere-cloud-provider/0", Address: "10.0.0.10"})
	return srv, tg
}

func hostOf(t *testing.T, srv *vspheretest.Server, vm string) string {
	t.Helper()
	h, err := srv.VMHost(timeout(t, 10*time.Second), vm)
	require.NoError(t, err)
	return h
}

func mount(mounted, accessible bool, reason string) *types.HostMountInfo {
	return &types.HostMountInfo{AccessMode: "readWrite", Mounted: &mounted, Accessible: &accessible, InaccessibleReason: reason}
}

// finding is a Finding without its message, for comparing.
type finding struct {
	kind     string
	severity vsphere.Severity
	object   string
	units    string // comma separated
}

// TestCheckStorageFindings sets one property a real vCenter can have and
// vcsim's defaults do not, and checks that exactly the findings it causes
// come out; the first case, and each boundary case, keeps every one of them
// quiet.
func TestCheckStorageFindings(t *testing.T) {
	const (
		w0, w3 = "kubernetes-worker/0", "kubernetes-worker/3"
		sub    = "vsphere-cloud-provider/0"
		h0     = "/DC0/host/DC0_H0/DC0_H0" // the standalone host: w0, w1 and sub
		vm0    = "/DC0/vm/DC0_H0_VM0"      // w0 and sub
	)
	tests := []struct {
		name string
		// setup changes srv and returns the block and warn findings it
		// causes; every check also has the datastore-space information.
		// vcsim places the cluster's VMs on hosts at random, so findings
		// on their hosts are worked out from where the VMs run (p).
		setup func(t *testing.T, srv *vspheretest.Server, p placement) []finding
	}{{
		name:  "nothing to find",
		setup: func(*testing.T, *vspheretest.Server, placement) []finding { return nil },
	}, {
		name: "hardware version below vmx-15",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetHardwareVersion(context.Background(), "DC0_H0_VM0", "vmx-13"))
			return []finding{{vsphere.FindingHardwareVersion, vsphere.Warn, vm0, w0 + "," + sub}}
		},
	}, {
		name: "hardware version vmx-15 is enough",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetHardwareVersion(context.Background(), "DC0_H0_VM0", "vmx-15"))
			return nil
		},
	}, {
		name: "vCenter 6.5",
		setup: func(_ *testing.T, srv *vspheretest.Server, _ placement) []finding {
			srv.SetVCenterVersion("6.5.0", "6.5")
			return []finding{{vsphere.FindingVCenterVersion, vsphere.Warn, "/", ""}}
		},
	}, {
		name: "vCenter 6.7 Update 2: the API version tells it from Update 3",
		setup: func(_ *testing.T, srv *vspheretest.Server, _ placement) []finding {
			srv.SetVCenterVersion("6.7.0", "6.7.2")
			return []finding{{vsphere.FindingVCenterVersion, vsphere.Warn, "/", ""}}
		},
	}, {
		name: "vCenter 6.7 Update 3 is enough",
		setup: func(_ *testing.T, srv *vspheretest.Server, _ placement) []finding {
			srv.SetVCenterVersion("6.7.0", "6.7.3")
			return nil
		},
	}, {
		name: "ESXi 6.5 under three units",
		setup: func(t *testing.T, srv *vspheretest.Server, p placement) []finding {
			require.NoError(t, srv.SetHostVersion(context.Background(), h0, "6.5.0", "6.5"))
			return []finding{{vsphere.FindingHostVersion, vsphere.Warn, h0, p.units(h0)}}
		},
	}, {
		name: "ESXi 6.7 Update 3 is enough",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetHostVersion(context.Background(), h0, "6.7.0", "6.7.3"))
			return nil
		},
	}, {
		name: "two VMs with one BIOS UUID",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			ctx := context.Background()
			uuid, err := srv.BIOSUUID(ctx, "DC0_H0_VM0")
			require.NoError(t, err)
			require.NoError(t, srv.SetBIOSUUID(ctx, "DC0_C0_RP0_VM1", strings.ToUpper(uuid)))
			return []finding{{vsphere.FindingDuplicateUUID, vsphere.Warn, vm0, w0 + "," + w3 + "," + sub}}
		},
	}, {
		name: "datastore not mounted on a node's host",
		setup: func(t *testing.T, srv *vspheretest.Server, p placement) []finding {
			h := p["DC0_C0_RP0_VM0"]
			require.NoError(t, srv.SetDatastoreMount(context.Background(), ds0, h, nil))
			return []finding{{vsphere.FindingDatastoreNotMounted, vsphere.Block, h, p.units(h)}}
		},
	}, {
		name: "datastore listed but unmounted on a node's host",
		setup: func(t *testing.T, srv *vspheretest.Server, p placement) []finding {
			h := p["DC0_C0_RP0_VM1"]
			require.NoError(t, srv.SetDatastoreMount(context.Background(), ds0, h, mount(false, false, "")))
			return []finding{{vsphere.FindingDatastoreNotMounted, vsphere.Block, h, p.units(h)}}
		},
	}, {
		name: "datastore mounted but inaccessible on a node's host",
		setup: func(t *testing.T, srv *vspheretest.Server, p placement) []finding {
			require.NoError(t, srv.SetDatastoreMount(context.Background(), ds0, h0, mount(true, false, "AllPathsDown_Start")))
			return []finding{{vsphere.FindingDatastoreInaccessible, vsphere.Block, h0, p.units(h0)}}
		},
	}, {
		name: "datastore mounted read-only and accessible is fine",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			m := mount(true, true, "")
			m.AccessMode = "readOnly"
			require.NoError(t, srv.SetDatastoreMount(context.Background(), ds0, h0, m))
			return nil
		},
	}, {
		name: "datastore unmounted on a host no node runs on",
		setup: func(t *testing.T, srv *vspheretest.Server, p placement) []finding {
			for _, h := range []string{"/DC0/host/DC0_C0/DC0_C0_H0", "/DC0/host/DC0_C0/DC0_C0_H1", "/DC0/host/DC0_C0/DC0_C0_H2"} {
				if p.units(h) == "" {
					require.NoError(t, srv.SetDatastoreMount(context.Background(), ds0, h, nil))
					return nil
				}
			}
			t.Fatal("every cluster host runs a node: the model has too few hosts")
			return nil
		},
	}, {
		name: "datastore inaccessible",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetDatastoreSummary(context.Background(), ds0, func(s *types.DatastoreSummary) { s.Accessible = false }))
			return []finding{{vsphere.FindingDatastoreInaccessible, vsphere.Block, ds0, ""}}
		},
	}, {
		name: "datastore in maintenance mode",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetDatastoreSummary(context.Background(), ds0, func(s *types.DatastoreSummary) { s.MaintenanceMode = "inMaintenance" }))
			return []finding{{vsphere.FindingDatastoreMaintenance, vsphere.Block, ds0, ""}}
		},
	}, {
		name: "datastore entering maintenance mode",
		setup: func(t *testing.T, srv *vspheretest.Server, _ placement) []finding {
			require.NoError(t, srv.SetDatastoreSummary(context.Background(), ds0, func(s *types.DatastoreSummary) { s.MaintenanceMode = "enteringMaintenance" }))
			return []finding{{vsphere.FindingDatastoreMaintenance, vsphere.Block, ds0, ""}}
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, tg := storageVCenter(t)
			want := tc.setup(t, srv, placed(t, srv))
			rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			require.NoError(t, err, "storage findings never fail the check")
			assert.Equal(t, 6, rep.Requests, "service content, login, inventory, node VMs and mounts, privileges, logout")

			var got []finding
			info := 0
			for _, f := range rep.Findings() {
				assert.NotEmpty(t, f.Message)
				if f.Severity == vsphere.Info {
					info++
					assert.Equal(t, vsphere.FindingDatastoreSpace, f.Kind)
					continue
				}
				got = append(got, finding{f.Kind, f.Severity, f.Object, strings.Join(f.Units, ",")})
				t.Log(f.Severity, f.Message)
			}
			assert.Equal(t, want, got)
			assert.Equal(t, 1, info)
			assert.Zero(t, sessions(t, srv))
		})
	}
}

// placement maps the node VMs of storageVCenter to the hosts they run on.
type placement map[string]string

// nodeVMs are storageVCenter's units by VM, in the order of its nodes.
var nodeVMs = []struct{ vm, units string }{
	{"DC0_H0_VM0", "kubernetes-worker/0,vsphere-cloud-provider/0"},
	{"DC0_H0_VM1", "kubernetes-worker/1"},
	{"DC0_C0_RP0_VM0", "kubernetes-worker/2"},
	{"DC0_C0_RP0_VM1", "kubernetes-worker/3"},
}

func placed(t *testing.T, srv *vspheretest.Server) placement {
	p := placement{}
	for _, n := range nodeVMs {
		p[n.vm] = hostOf(t, srv, n.vm)
	}
	return p
}

// units are those on host, comma separated in the order of the nodes.
func (p placement) units(host string) string {
	var units []string
	for _, n := range nodeVMs {
		if p[n.vm] == host {
			units = append(units, strings.Split(n.units, ",")...)
		}
	}
	// Findings list units in the order of Target.Nodes, where the
	// subordinate comes last.
	slices.SortStableFunc(units, func(a, b string) int {
		return boolInt(strings.HasPrefix(a, "vsphere-")) - boolInt(strings.HasPrefix(b, "vsphere-"))
	})
	return strings.Join(units, ",")
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestCheckStorageReport: what the findings are made of is in the report,
// as vCenter says it.
func TestCheckStorageReport(t *testing.T) {
	srv, tg := storageVCenter(t)
	ctx := timeout(t, 10*time.Second)
	uuid, err := srv.BIOSUUID(ctx, "DC0_H0_VM0")
	require.NoError(t, err)
	require.NoError(t, srv.SetBIOSUUID(ctx, "DC0_H0_VM1", uuid))
	require.NoError(t, srv.SetHardwareVersion(ctx, "DC0_C0_RP0_VM1", "vmx-13"))
	require.NoError(t, srv.SetDatastoreSummary(ctx, ds0, func(s *types.DatastoreSummary) {
		s.Url, s.Capacity, s.FreeSpace = "ds:///vmfs/volumes/5e4b6c1a-12345678-abcd-0050569a0001/", 2<<40, 3<<39
	}))
	p := placed(t, srv)
	require.NoError(t, srv.SetHostVersion(ctx, p["DC0_C0_RP0_VM0"], "6.7.0", "6.7.3"))
	hostAPI := func(vm string) string {
		if p[vm] == p["DC0_C0_RP0_VM0"] {
			return "6.7.3"
		}
		return "8.0.2.0"
	}

	rep, err := vsphere.Check(ctx, tg)
	require.NoError(t, err)
	assert.Equal(t, vsphere.DatastoreInfo{
		Name: "LocalDS_0", Path: ds0, Known: true,
		URL:  "ds:///vmfs/volumes/5e4b6c1a-12345678-abcd-0050569a0001/",
		Type: "OTHER", Capacity: 2 << 40, FreeSpace: 3 << 39, Accessible: true, MaintenanceMode: "normal",
	}, rep.DatastoreInfo)
	assert.Equal(t, "8.0.2.0", rep.Product.APIVersion)

	nodes := byName(rep)
	tests := []struct {
		unit, hw, host, hostAPI string
	}{
		{"kubernetes-worker/0", "vmx-19", "/DC0/host/DC0_H0/DC0_H0", "8.0.2.0"},
		{"kubernetes-worker/1", "vmx-19", "/DC0/host/DC0_H0/DC0_H0", "8.0.2.0"},
		{"kubernetes-worker/2", "vmx-19", p["DC0_C0_RP0_VM0"], "6.7.3"},
		{"kubernetes-worker/3", "vmx-13", p["DC0_C0_RP0_VM1"], hostAPI("DC0_C0_RP0_VM1")},
	}
	for _, tc := range tests {
		t.Run(tc.unit, func(t *testing.T) {
			n := nodes[tc.unit]
			require.True(t, n.Found, n.Why)
			assert.Equal(t, tc.hw, n.HardwareVersion)
			assert.Equal(t, tc.host, n.Host)
			assert.Equal(t, tc.hostAPI, n.HostProduct.APIVersion)
			assert.NotEmpty(t, n.HostProduct.Version)
			assert.Equal(t, vsphere.DatastoreMount{Known: true, Mounted: true, Accessible: true, AccessMode: "readWrite"}, n.DatastoreMount)
		})
	}
	require.Len(t, rep.DuplicateUUIDs, 1)
	assert.Equal(t, vsphere.DuplicateUUID{
		UUID:  uuid,
		VMs:   []string{"/DC0/vm/DC0_H0_VM0", "/DC0/vm/DC0_H0_VM1"},
		Units: []string{"kubernetes-worker/0", "kubernetes-worker/1", "vsphere-cloud-provider/0"},
	}, rep.DuplicateUUIDs[0])
}

// TestCheckStorageWithoutNodes: with no related units (the modern overlay)
// the datastore is still looked at, in no more requests than before.
func TestCheckStorageWithoutNodes(t *testing.T) {
	srv := nodesVCenter(t)
	require.NoError(t, srv.SetDatastoreSummary(timeout(t, 10*time.Second), ds0, func(s *types.DatastoreSummary) { s.MaintenanceMode = "inMaintenance" }))
	tg := target(srv)
	tg.Folder = ""
	rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
	require.NoError(t, err)
	assert.Equal(t, 5, rep.Requests)
	var kinds []string
	for _, f := range rep.Findings() {
		kinds = append(kinds, f.Kind)
	}
	// vcsim's vCenter is 6.5.
	assert.Equal(t, []string{vsphere.FindingDatastoreMaintenance, vsphere.FindingVCenterVersion, vsphere.FindingDatastoreSpace}, kinds)
}
