package charm

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// cluster relates a control plane and three workers whose VMs report their
// addresses; worker/1 and worker/2 lack disk.enableUUID, worker/3 has no VM
// the simulator knows, and the vsphere-cloud-provider subordinate shares the
// control plane's address. It returns the relation ids.
func cluster(e *env) (cp, workers, cpi string) {
	vms := e.vmNames() // DC0_C0_RP0_VM0..2, DC0_H0_VM0..2
	cp = e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0")
	workers = e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0", "kubernetes-worker/1", "kubernetes-worker/2", "kubernetes-worker/3")
	cpi = e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0")
	e.place(cp, "kubernetes-control-plane/0", vms[0], "10.0.0.10", "TRUE")
	e.place(workers, "kubernetes-worker/0", vms[1], "10.0.0.11", "TRUE")
	e.place(workers, "kubernetes-worker/1", vms[3], "10.0.0.12", "")
	e.place(workers, "kubernetes-worker/2", vms[4], "10.0.0.13", "FALSE")
	e.place(workers, "kubernetes-worker/3", "", "10.0.0.99", "")
	e.place(cpi, "vsphere-cloud-provider/0", "", "10.0.0.10", "")
	return cp, workers, cpi
}

func TestPrerequisiteStatus(t *testing.T) {
	const lacking = "2 node VMs lack disk.enableUUID: kubernetes-worker/1, kubernetes-worker/2"
	deny := func(obj, priv string) func(e *env) {
		return func(e *env) { require.NoError(e.t, e.vc.DenyPrivilege(context.Background(), obj, priv)) }
	}
	tests := []struct {
		name   string
		setup  func(e *env)
		status string
		msg    string   // exact, when set
		has    []string // else these parts
	}{{
		name:   "node VMs lacking disk.enableUUID warn, unknown VM does not",
		setup:  func(*env) {},
		status: "active",
		msg:    "ready; " + lacking,
	}, {
		name:   "all VMs have it",
		setup:  func(e *env) { e.fixDiskUUID("DC0_H0_VM0", "DC0_H0_VM1") },
		status: "active",
		msg:    "ready",
	}, {
		name:   "datastore AllocateSpace denied blocks, naming privilege and datastore",
		setup:  deny("/DC0/datastore/LocalDS_0", "Datastore.AllocateSpace"),
		status: "blocked",
		msg: "vCenter user 'k8s@vsphere.local' lacks Datastore.AllocateSpace on datastore /DC0/datastore/LocalDS_0: " +
			"volumes cannot work until granted (check-prerequisites action for the full report)",
	}, {
		name:   "datastore FileManagement denied blocks",
		setup:  deny("/DC0/datastore/LocalDS_0", "Datastore.FileManagement"),
		status: "blocked",
		has:    []string{"Datastore.FileManagement on datastore /DC0/datastore/LocalDS_0"},
	}, {
		name:   "AddExistingDisk denied on a node VM blocks, naming the unit",
		setup:  deny("DC0_C0_RP0_VM1", "VirtualMachine.Config.AddExistingDisk"),
		status: "blocked",
		has:    []string{"VirtualMachine.Config.AddExistingDisk on the node VM of kubernetes-worker/0"},
	}, {
		name:   "other missing privileges warn",
		setup:  deny("/", "StorageProfile.View"),
		status: "active",
		msg:    "ready; " + lacking + "; missing privileges: StorageProfile.View (check-prerequisites action)",
	}, {
		name:   "privilege query not supported is no failure",
		setup:  func(e *env) { e.vc.FaultMethod("HasUserPrivilegeOnEntities", &types.NotSupported{}) },
		status: "active",
		msg:    "ready; " + lacking,
	}, {
		name:   "privilege vCenter does not define is no failure",
		setup:  func(e *env) { e.vc.ForgetPrivilege("Cns.Searchable") },
		status: "active",
		msg:    "ready; " + lacking,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			rels := []string{}
			cp, workers, cpi := cluster(e)
			rels = append(rels, cp, workers, cpi)
			tc.setup(e)
			sessions, err := e.vc.SessionCount(context.Background())
			require.NoError(t, err)

			e.hook("config-changed")
			name, msg := e.status()
			assert.Equal(t, tc.status, name, msg)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, msg)
			}
			for _, h := range tc.has {
				assert.Contains(t, msg, h)
			}
			for _, rel := range rels {
				assert.Len(t, integrationKeys(e.juju.LocalData(rel)), len(relation.Keys), "published in every case")
			}
			assert.EqualValues(t, 1, e.checks.Load(), "one session for credentials and prerequisites")
			after, err := e.vc.SessionCount(context.Background())
			require.NoError(t, err)
			assert.Equal(t, sessions, after, "logged out")
			logs := strings.Join(logMessages(e), "\n")
			assert.Contains(t, logs, "nodes: 5 of 6 VMs found")
			assert.Contains(t, logs, "kubernetes-worker/3: no VM reports IP 10.0.0.99")
		})
	}
}

func (e *env) fixDiskUUID(vms ...string) {
	e.t.Helper()
	for _, vm := range vms {
		require.NoError(e.t, e.vc.SetExtraConfig(context.Background(), vm, vsphere.DiskUUIDOption, "TRUE"))
	}
}

func logMessages(e *env) []string {
	var out []string
	for _, l := range e.juju.Logs {
		out = append(out, l.Message)
	}
	return out
}

// TestRelatedUnitsAreTracked follows units joining and leaving: relation
// hooks record addresses without a vCenter session, and update-status looks
// at the changed set of node VMs within one interval.
func TestRelatedUnitsAreTracked(t *testing.T) {
	e := newEnv(t)
	e.trust()
	vms := e.vmNames()
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.place(rel, "kubernetes-worker/0", vms[0], "10.0.0.10", "TRUE")
	e.hook("install")
	e.hook("clients-relation-created", rel)
	e.hook("clients-relation-joined", rel, "kubernetes-worker/0")
	name, msg := e.status()
	require.Equal(t, "active", name, msg)
	require.Equal(t, "ready", msg)

	step := func(t *testing.T, hook string, remote string, sessions int32, status string) {
		t.Helper()
		before := e.checks.Load()
		e.now = e.now.Add(5 * time.Minute)
		switch {
		case remote != "":
			e.hook(hook, rel, remote)
		case strings.Contains(hook, "-relation-"):
			e.hook(hook, rel)
		default:
			e.hook(hook)
		}
		assert.Equal(t, sessions, e.checks.Load()-before, "sessions")
		_, msg := e.status()
		assert.Equal(t, status, msg)
	}

	t.Run("a unit joins: recorded, no session", func(t *testing.T) {
		e.juju.JoinUnit(rel, "kubernetes-worker/1")
		e.place(rel, "kubernetes-worker/1", vms[1], "10.0.0.11", "")
		mark := len(e.juju.Calls)
		step(t, "clients-relation-joined", "kubernetes-worker/1", 0, "ready")
		assert.Len(t, callsTo(e.callsSince(mark), "relation-get"), 1, "only the joining unit's data")
		assert.Equal(t, `"10.0.0.11"`, e.juju.State[nodeKey(rel, "kubernetes-worker/1")])
	})
	t.Run("update-status looks at it", func(t *testing.T) {
		step(t, "update-status", "", 1, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
	})
	t.Run("then settles", func(t *testing.T) {
		step(t, "update-status", "", 0, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
		step(t, "clients-relation-changed", "kubernetes-worker/1", 0, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
	})
	t.Run("an address change is a change", func(t *testing.T) {
		e.place(rel, "kubernetes-worker/1", vms[2], "10.0.0.12", "TRUE")
		step(t, "clients-relation-changed", "kubernetes-worker/1", 0, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
		step(t, "update-status", "", 1, "ready")
	})
	t.Run("a unit leaves", func(t *testing.T) {
		e.place(rel, "kubernetes-worker/1", vms[1], "10.0.0.11", "")
		step(t, "clients-relation-changed", "kubernetes-worker/1", 0, "ready")
		step(t, "update-status", "", 1, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1")
		e.juju.DepartUnit(rel, "kubernetes-worker/1")
		// The unit that left is no longer named, without a session.
		step(t, "clients-relation-departed", "kubernetes-worker/1", 0, "ready")
		assert.NotContains(t, e.juju.State, nodeKey(rel, "kubernetes-worker/1"))
		step(t, "update-status", "", 1, "ready")
	})
	t.Run("relation broken forgets its units", func(t *testing.T) {
		e.juju.RemoveRelation(rel)
		step(t, "clients-relation-broken", "", 0, "ready")
		assert.Contains(t, recordOf(t, e).Broken, rel, "marked in one write")
		step(t, "update-status", "", 1, "ready")
		for k := range e.juju.State {
			assert.False(t, strings.HasPrefix(k, stateNodePfx), k)
		}
		assert.NotContains(t, recordOf(t, e).Broken, rel)
		// None, and known to be none: the next event lists no relations
		// but the clients it publishes on.
		mark := len(e.juju.Calls)
		e.hook("update-status")
		for _, c := range callsTo(e.callsSince(mark), "relation-ids") {
			assert.Equal(t, Endpoint, c.Args[len(c.Args)-1])
		}
	})
}

// TestUnitsListedOnceAfterUpgrade: a unit upgraded from a release that kept
// no record lists the related units once, then relies on the record.
func TestUnitsListedOnceAfterUpgrade(t *testing.T) {
	e := newEnv(t)
	e.trust()
	cluster(e)
	mark := len(e.juju.Calls)
	e.hook("upgrade-charm")
	calls := e.callsSince(mark)
	assert.Len(t, callsTo(calls, "relation-list"), 3)
	remote := 0
	for _, c := range callsTo(calls, "relation-get") {
		if c.Args[len(c.Args)-1] != unit {
			remote++
		}
	}
	assert.Equal(t, 6, remote, "one relation-get per remote unit")
	mark = len(e.juju.Calls)
	e.hook("config-changed")
	assert.Empty(t, callsTo(e.callsSince(mark), "relation-list"))
	_, msg := e.status()
	assert.Equal(t, "ready; 2 node VMs lack disk.enableUUID: kubernetes-worker/1, kubernetes-worker/2", msg)
}

func TestCheckPrerequisitesAction(t *testing.T) {
	e := newEnv(t)
	e.trust()
	cluster(e)
	e.hook("config-changed")
	require.NoError(t, e.vc.DenyPrivilege(context.Background(), "/DC0/datastore/LocalDS_0", "Datastore.AllocateSpace"))
	require.NoError(t, e.vc.DenyPrivilege(context.Background(), "/", "Cns.Searchable"))

	e.action("check-prerequisites", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	r := e.juju.Action.Results
	assert.Contains(t, r["status"], "blocked: vCenter user 'k8s@vsphere.local' lacks Datastore.AllocateSpace on datastore /DC0/datastore/LocalDS_0")
	name, _ := e.status()
	assert.Equal(t, "blocked", name, "the action checks as config-changed does")

	nodes, _ := r["nodes"].(map[string]any)
	tests := []struct {
		key, unit, vm, disk, result string
	}{
		{"kubernetes-control-plane-0", "kubernetes-control-plane/0", "/DC0/vm/DC0_C0_RP0_VM0", "TRUE", "ok"},
		{"kubernetes-worker-0", "kubernetes-worker/0", "/DC0/vm/DC0_C0_RP0_VM1", "TRUE", "ok"},
		{"kubernetes-worker-1", "kubernetes-worker/1", "/DC0/vm/DC0_H0_VM0", "not set", "lacks disk.enableUUID"},
		{"kubernetes-worker-2", "kubernetes-worker/2", "/DC0/vm/DC0_H0_VM1", "FALSE", "lacks disk.enableUUID"},
		{"kubernetes-worker-3", "kubernetes-worker/3", "unknown", "", "VM not found: no VM reports IP 10.0.0.99"},
		{"vsphere-cloud-provider-0", "vsphere-cloud-provider/0", "/DC0/vm/DC0_C0_RP0_VM0", "TRUE", "ok"},
	}
	assert.Len(t, nodes, len(tests))
	for _, tc := range tests {
		t.Run(tc.unit, func(t *testing.T) {
			n, _ := nodes[tc.key].(map[string]any)
			require.NotNil(t, n, tc.key)
			assert.Equal(t, tc.unit, n["unit"])
			assert.Equal(t, tc.vm, n["vm"])
			if tc.disk != "" {
				assert.Equal(t, tc.disk, n["disk-enableuuid"])
				assert.Regexp(t, `^[0-9a-f-]{36}$`, n["uuid"])
			}
			assert.Contains(t, n["result"], tc.result)
		})
	}
	privs, _ := r["privileges"].(map[string]any)
	objects, _ := privs["objects"].(map[string]any)
	assert.Equal(t, "datastore /DC0/datastore/LocalDS_0: missing Datastore.AllocateSpace (essential)", objects["datastore"])
	assert.Equal(t, "vCenter root /: missing Cns.Searchable", objects["vcenter-root"])
	assert.Equal(t, "datacenter /DC0: ok", objects["datacenter"])
	assert.Equal(t, "node VM /DC0/vm/DC0_H0_VM0 (kubernetes-worker/1): ok", objects["node-vm-kubernetes-worker-1"])
	assert.Equal(t, "2", privs["missing"])
	requests, err := strconv.Atoi(r["soap-requests"].(string))
	require.NoError(t, err)
	assert.Less(t, requests, 12)
}

func TestEnableDiskUUIDAction(t *testing.T) {
	tests := []struct {
		name    string
		params  map[string]any
		failed  string            // action-fail message part
		results map[string]string // unit key → result part
		changed []string          // VMs that have it afterwards, newly
		kept    []string          // VMs still without it
	}{{
		name:   "dry run by default",
		params: nil,
		results: map[string]string{
			"kubernetes-worker-1": "would set", "kubernetes-worker-2": "would set",
			"kubernetes-worker-0": "already enabled", "kubernetes-worker-3": "skipped: VM not found",
		},
		kept: []string{"DC0_H0_VM0", "DC0_H0_VM1"},
	}, {
		name:    "real run on all related units",
		params:  map[string]any{"dry-run": false},
		results: map[string]string{"kubernetes-worker-1": "set disk.enableUUID = TRUE; takes effect after a power cycle", "kubernetes-worker-2": "set"},
		changed: []string{"DC0_H0_VM0", "DC0_H0_VM1"},
	}, {
		name:    "real run on named units",
		params:  map[string]any{"dry-run": false, "units": []any{"kubernetes-worker/2"}},
		results: map[string]string{"kubernetes-worker-2": "set"},
		changed: []string{"DC0_H0_VM1"},
		kept:    []string{"DC0_H0_VM0"},
	}, {
		name:   "unit not related",
		params: map[string]any{"dry-run": false, "units": []any{"kubernetes-worker/7"}},
		failed: "kubernetes-worker/7 is not a unit related on clients",
		kept:   []string{"DC0_H0_VM0", "DC0_H0_VM1"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			cluster(e)
			e.hook("config-changed")
			checks := e.checks.Load()

			mark := len(e.juju.Calls)
			e.action("enable-disk-uuid", tc.params)
			a := e.juju.Action
			if tc.failed != "" {
				assert.True(t, a.Failed)
				assert.Contains(t, a.Message, tc.failed)
				assert.Equal(t, checks, e.checks.Load(), "no session for a mistyped unit")
			} else {
				require.False(t, a.Failed, a.Message)
				assert.Equal(t, checks+1, e.checks.Load(), "one session")
				assert.Contains(t, a.Results["note"], "power cycle")
				sets := callsTo(e.callsSince(mark), "action-set")
				require.Len(t, sets, 1, "the results are set once")
				keys := map[string]bool{}
				for _, arg := range sets[0].Args {
					k, _, _ := strings.Cut(arg, "=")
					assert.False(t, keys[k], "%s set twice", k)
					keys[k] = true
				}
				units, _ := a.Results["units"].(map[string]any)
				for k, want := range tc.results {
					u, _ := units[k].(map[string]any)
					assert.Contains(t, u["result"], want, k)
				}
			}
			for _, vm := range tc.changed {
				v, ok, err := e.vc.ExtraConfig(context.Background(), vm, vsphere.DiskUUIDOption)
				require.NoError(t, err)
				assert.True(t, ok && v == "TRUE", "%s: %q", vm, v)
			}
			for _, vm := range tc.kept {
				v, _, err := e.vc.ExtraConfig(context.Background(), vm, vsphere.DiskUUIDOption)
				require.NoError(t, err)
				assert.NotEqual(t, "TRUE", v, vm)
			}
			n, err := e.vc.SessionCount(context.Background())
			require.NoError(t, err)
			assert.Zero(t, n, "logged out")

			// Changed VMs are looked at again by the next update-status.
			before := e.checks.Load()
			e.now = e.now.Add(5 * time.Minute)
			e.hook("update-status")
			_, msg := e.status()
			if len(tc.changed) == 2 {
				assert.Equal(t, before+1, e.checks.Load())
				assert.Equal(t, "ready", msg)
			}
			if len(tc.changed) == 0 {
				assert.Equal(t, before, e.checks.Load(), "nothing changed: no re-check")
			}
		})
	}
}

func units(names ...string) unitList {
	var l unitList
	for _, n := range names {
		l.add(n)
	}
	return l
}

func TestStatusForPrerequisites(t *testing.T) {
	tests := []struct {
		name   string
		p      *prereqs
		status hooktools.Status
		msg    string
	}{
		{"none", nil, hooktools.StatusActive, "ready"},
		{"all fine", &prereqs{NotFound: units("a/0"), Unknown: []string{"Cns.Searchable"}, PrivilegeErr: "x"}, hooktools.StatusActive, "ready"},
		{"one lacks", &prereqs{NoDiskUUID: units("w/1")}, hooktools.StatusActive, "ready; 1 node VM lacks disk.enableUUID: w/1"},
		{"many lack", &prereqs{NoDiskUUID: units("w/1", "w/2", "w/3", "w/4", "w/5", "w/6", "w/7")}, hooktools.StatusActive,
			"ready; 7 node VMs lack disk.enableUUID: w/1, w/2, w/3, w/4, w/5 and 2 more"},
		{"missing", &prereqs{Missing: []string{"StorageProfile.View", "Cns.Searchable"}}, hooktools.StatusActive,
			"ready; missing privileges: StorageProfile.View, Cns.Searchable (check-prerequisites action)"},
		{"essential", &prereqs{User: "u", Essential: []string{"Datastore.AllocateSpace on datastore /DC0/datastore/ds"}, NoDiskUUID: units("w/1")}, hooktools.StatusBlocked,
			"vCenter user 'u' lacks Datastore.AllocateSpace on datastore /DC0/datastore/ds: volumes cannot work until granted (check-prerequisites action for the full report)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, msg := statusFor(decision{record: &checkRecord{Outcome: outcomeVerified, Prereq: tc.p}})
			assert.Equal(t, tc.status, s)
			assert.Equal(t, tc.msg, msg)
		})
	}
	// A failed check keeps its own status whatever an older record said.
	s, msg := statusFor(decision{record: &checkRecord{Outcome: outcomeUnverified, Reason: "w", Prereq: &prereqs{Essential: []string{"x"}}}})
	assert.Equal(t, hooktools.StatusWaiting, s)
	assert.Equal(t, "w; published unverified, will retry", msg)
}

// TestNodesEndpoint is the vsphere-cloud-provider deployment: the only
// clients unit is the subordinate on this unit's own machine, which is no
// node, and the Kubernetes nodes come through nodes (juju-info), whose
// hooks open no session.
func TestNodesEndpoint(t *testing.T) {
	e := newEnv(t)
	e.trust()
	vms := e.vmNames()
	cpi := e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0")
	e.place(cpi, "vsphere-cloud-provider/0", "", hooktoolstest.DefaultAddress, "")
	e.hook("install")
	e.hook("clients-relation-joined", cpi, "vsphere-cloud-provider/0")
	nodes := e.juju.AddRelation(NodesEndpoint, "kubernetes-worker", "kubernetes-worker/0", "kubernetes-worker/1")
	e.place(nodes, "kubernetes-worker/0", vms[1], "10.0.0.11", "TRUE")
	e.place(nodes, "kubernetes-worker/1", vms[3], "10.0.0.12", "")
	checks := e.checks.Load()
	e.hook("nodes-relation-created", nodes)
	e.hook("nodes-relation-joined", nodes, "kubernetes-worker/0")
	e.hook("nodes-relation-joined", nodes, "kubernetes-worker/1")
	assert.Equal(t, checks, e.checks.Load(), "nodes hooks open no session")
	assert.Empty(t, e.juju.LocalData(nodes)["password"], "nothing of ours on a juju-info relation")

	e.now = e.now.Add(5 * time.Minute)
	e.hook("update-status")
	assert.Equal(t, checks+1, e.checks.Load(), "update-status looks at the new nodes")
	_, msg := e.status()
	assert.Equal(t, "ready; 1 node VM lacks disk.enableUUID: kubernetes-worker/1", msg)

	e.action("check-prerequisites", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	got, _ := e.juju.Action.Results["nodes"].(map[string]any)
	assert.Contains(t, got, "kubernetes-worker-0")
	assert.Contains(t, got, "kubernetes-worker-1")
	assert.NotContains(t, got, "vsphere-cloud-provider-0", "a subordinate on this machine is no node")
}

// TestStorageFindingsStatus: a CSI shortfall warns, a datastore volumes
// cannot reach blocks (though published), and the record stays small.
func TestStorageFindingsStatus(t *testing.T) {
	e := newEnv(t)
	e.trust()
	_, workers, _ := cluster(e)
	e.fixDiskUUID("DC0_H0_VM0", "DC0_H0_VM1")
	ctx := context.Background()
	require.NoError(t, e.vc.SetHardwareVersion(ctx, "DC0_H0_VM0", "vmx-13"))
	e.hook("config-changed")
	name, msg := e.status()
	assert.Equal(t, "active", name)
	assert.Equal(t, "ready; for the CSI driver: VM hardware version below vmx-15 (check-prerequisites action)", msg)

	require.NoError(t, e.vc.SetDatastoreSummary(ctx, "/DC0/datastore/LocalDS_0", func(s *types.DatastoreSummary) { s.MaintenanceMode = "inMaintenance" }))
	e.hook("config-changed")
	name, msg = e.status()
	assert.Equal(t, "blocked", name)
	assert.Contains(t, msg, "maintenance mode")
	assert.Len(t, integrationKeys(e.juju.LocalData(workers)), len(relation.Keys), "published: the credentials are fine")

	e.action("check-prerequisites", nil)
	storage, _ := e.juju.Action.Results["storage"].(map[string]any)
	var kinds []string
	for k := range storage {
		kinds = append(kinds, strings.SplitN(k, "-", 2)[0])
	}
	assert.Contains(t, kinds, "block")
	assert.Contains(t, kinds, "warn")
	assert.Contains(t, kinds, "info")
}

func TestStorageClassAction(t *testing.T) {
	e := newEnv(t)
	e.trust()
	for _, tc := range []struct{ provisioner, has string }{
		{"", "provisioner: csi.vsphere.vmware.com"},
		{"csi", "datastoreurl: "},
		{"in-tree", `datastore: "LocalDS_0"`},
	} {
		t.Run(tc.provisioner, func(t *testing.T) {
			params := map[string]any{}
			if tc.provisioner != "" {
				params["provisioner"] = tc.provisioner
			}
			e.action("storage-class", params)
			a := e.juju.Action
			require.False(t, a.Failed, a.Message)
			m, _ := a.Results["manifest"].(string)
			assert.Contains(t, m, "kind: StorageClass")
			assert.Contains(t, m, tc.has)
			url, _ := a.Results["datastore-url"].(string)
			require.NotEmpty(t, url, "summary.url as vCenter reports it")
			if tc.provisioner != "in-tree" {
				assert.Contains(t, m, strconv.Quote(url))
			}
		})
	}
	e.juju.SetConfig(map[string]any{"datastore": "nope"})
	e.action("storage-class", nil)
	assert.True(t, e.juju.Action.Failed)
	assert.Contains(t, e.juju.Action.Message, "datastore 'nope' not found")
}

// TestBrokenRelationSweptInBatches: a broken relation with many units costs
// one write in relation-broken; its records go sweepBatch at a time.
func TestBrokenRelationSweptInBatches(t *testing.T) {
	e := newEnv(t)
	e.trust()
	rel := e.juju.AddRelation(NodesEndpoint, "kubernetes-worker")
	e.hook("install")
	for i := range 3*sweepBatch + 1 {
		u := "kubernetes-worker/" + strconv.Itoa(i)
		e.juju.JoinUnit(rel, u)
		e.juju.SetRemoteData(rel, u, map[string]string{"ingress-address": "10.9.0." + strconv.Itoa(i+1)})
		e.hook("nodes-relation-joined", rel, u)
	}
	mark := len(e.juju.Calls)
	e.juju.BreakRelation(rel)
	e.hook("nodes-relation-broken", rel)
	e.juju.RemoveRelation(rel)
	assert.Empty(t, callsTo(e.callsSince(mark), "state-delete"))
	count := func() int {
		n := 0
		for k := range e.juju.State {
			if strings.HasPrefix(k, stateNodePfx) {
				n++
			}
		}
		return n
	}
	for want := 3*sweepBatch + 1; want > 0; want -= sweepBatch {
		require.Equal(t, want, count())
		mark = len(e.juju.Calls)
		e.hook("update-status")
		assert.LessOrEqual(t, len(callsTo(e.callsSince(mark), "state-delete")), sweepBatch+1)
		_, msg := e.status()
		assert.Equal(t, "ready", msg, "the broken relation's units are no nodes")
	}
	assert.Zero(t, count())
	assert.NotContains(t, recordOf(t, e).Broken, rel)
}

// TestEnableDiskUUIDCutShort: when the deadline comes mid-way, the result
// still says per VM what became of it, and the action fails saying so.
func TestEnableDiskUUIDCutShort(t *testing.T) {
	e := newEnv(t)
	e.trust()
	cluster(e)
	e.hook("install")
	e.checkTimeout = time.Second
	_, release := e.vc.Hold("ReconfigVM_Task")
	defer release()
	e.action("enable-disk-uuid", map[string]any{"dry-run": false})
	release()
	a := e.juju.Action
	require.True(t, a.Failed)
	assert.Contains(t, a.Message, "cut short")
	units, _ := a.Results["units"].(map[string]any)
	result := func(u string) string {
		r, _ := units[u].(map[string]any)
		s, _ := r["result"].(string)
		return s
	}
	assert.True(t, strings.HasPrefix(result("kubernetes-worker-1"), "unknown"), result("kubernetes-worker-1"))
	assert.True(t, strings.HasPrefix(result("kubernetes-worker-2"), "not changed"), result("kubernetes-worker-2"))
	assert.Equal(t, "already enabled", result("kubernetes-worker-0"))
	assert.Equal(t, "0", a.Results["changed"])
	assert.Equal(t, "1", a.Results["unknown"])
}

// TestTestVolumeAction: the action makes, reads and deletes a disk in
// kubevols and leaves none; a missing privilege fails naming it; a delete
// vCenter fails is retried by the cleanup, and one that keeps failing is
// named with how to delete it.
func TestTestVolumeAction(t *testing.T) {
	ctx := context.Background()
	kubevols := func(e *env) []string {
		files, err := e.vc.DatastoreFiles(ctx, "/DC0/datastore/LocalDS_0", "kubevols")
		require.NoError(t, err)
		return files
	}
	t.Run("ok", func(t *testing.T) {
		e := newEnv(t)
		e.trust()
		e.action("test-volume", map[string]any{"size-mib": float64(2)})
		a := e.juju.Action
		require.False(t, a.Failed, a.Message)
		assert.Contains(t, a.Results["path"], "[LocalDS_0] kubevols/vsphere-integrator-test-")
		assert.Equal(t, "2", a.Results["size-mib"])
		assert.Equal(t, "nothing", a.Results["left-behind"])
		steps, _ := a.Results["steps"].(map[string]any)
		assert.Contains(t, steps["1"], "check privileges")
		assert.Contains(t, steps["3"], "create disk")
		assert.Empty(t, kubevols(e))
	})
	t.Run("missing privilege", func(t *testing.T) {
		e := newEnv(t)
		e.trust()
		require.NoError(t, e.vc.DenyPrivilege(ctx, "/DC0/datastore/LocalDS_0", "Datastore.AllocateSpace"))
		e.action("test-volume", nil)
		a := e.juju.Action
		require.True(t, a.Failed)
		assert.Contains(t, a.Message, "Datastore.AllocateSpace")
		assert.Empty(t, kubevols(e))
	})
	t.Run("delete keeps failing", func(t *testing.T) {
		e := newEnv(t)
		e.trust()
		e.vc.FailDiskTask("DeleteVirtualDisk_Task", &types.FileLocked{}, 10)
		e.action("test-volume", nil)
		a := e.juju.Action
		require.True(t, a.Failed)
		left, _ := a.Results["left-behind"].(string)
		assert.Contains(t, left, "kubevols/vsphere-integrator-test-")
		assert.Contains(t, left, "govc datastore.rm")
		files := kubevols(e)
		require.NotEmpty(t, files)
		for _, f := range files { // the descriptor and its -flat extent
			assert.Contains(t, left, strings.TrimSuffix(strings.TrimSuffix(f, ".vmdk"), "-flat"), "exactly the disk the result names")
		}
	})
}

// TestBrokenRelationsBounded: relations created and broken with no
// update-status between them (the record lists each until a sweep) keep
// the record bounded: past maxBroken a relation hook sweeps itself.
func TestBrokenRelationsBounded(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.hook("install")
	for i := range 3 * maxBroken {
		rel := e.juju.AddRelation(Endpoint, "app"+strconv.Itoa(i))
		e.hook("clients-relation-created", rel)
		e.juju.BreakRelation(rel)
		e.hook("clients-relation-broken", rel)
		e.juju.RemoveRelation(rel)
		require.LessOrEqual(t, len(recordOf(t, e).Broken), maxBroken+1, "after %d relations", i+1)
	}
}
