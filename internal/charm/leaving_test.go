package charm

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestLeavingEventsSetTheStatus: relation-departed, relation-broken, stop
// and remove each set the status decided from what is left, as every
// other event does. A unit that left is no longer named among the node
// VMs, a broken relation's application no longer in the consumer warning,
// and none of it opens a vCenter session unless the status names the
// leaving unit where only a new check can restate it.
func TestLeavingEventsSetTheStatus(t *testing.T) {
	e := newEnv(t)
	e.trust()
	// A password the related Kubernetes charms' templates cannot carry, so
	// that the status names a consumer while one is related.
	e.rotate(`Pa"ss`)
	cp, workers, cpi := cluster(e)
	e.hook("config-changed")
	name, msg := e.status()
	require.Equal(t, "active", name, msg)
	require.Contains(t, msg, "2 node VMs lack disk.enableUUID: kubernetes-worker/1, kubernetes-worker/2")
	require.NotEqual(t, "ready; 2 node VMs lack disk.enableUUID: kubernetes-worker/1, kubernetes-worker/2", msg, "the password is warned about")

	// step runs one event and returns its status and how many status-set
	// calls and sessions it made.
	step := func(t *testing.T, name string, rel ...string) (string, int, int32) {
		t.Helper()
		mark, checks := len(e.juju.Calls), e.checks.Load()
		e.now = e.now.Add(time.Minute)
		e.hook(name, rel...)
		_, msg := e.status()
		return msg, len(callsTo(e.callsSince(mark), "status-set")), e.checks.Load() - checks
	}

	t.Run("departed: the unit is no longer named", func(t *testing.T) {
		e.juju.DepartUnit(workers, "kubernetes-worker/1")
		msg, sets, sessions := step(t, "clients-relation-departed", workers, "kubernetes-worker/1")
		assert.Equal(t, 1, sets)
		assert.Zero(t, sessions)
		assert.Contains(t, msg, "1 node VM lacks disk.enableUUID: kubernetes-worker/2")
		assert.NotContains(t, msg, "kubernetes-worker/1")
		assert.NotContains(t, e.juju.State, nodeKey(workers, "kubernetes-worker/1"))
	})
	t.Run("broken: neither its units nor its application are named", func(t *testing.T) {
		for _, u := range []string{"kubernetes-worker/0", "kubernetes-worker/2", "kubernetes-worker/3"} {
			e.juju.DepartUnit(workers, u)
			e.hook("clients-relation-departed", workers, u)
		}
		e.juju.BreakRelation(workers)
		msg, sets, sessions := step(t, "clients-relation-broken", workers)
		e.juju.RemoveRelation(workers)
		assert.Equal(t, 1, sets)
		assert.Zero(t, sessions)
		assert.NotContains(t, msg, "kubernetes-worker")
	})
	t.Run("every relation gone: ready, naming no consumer", func(t *testing.T) {
		for _, r := range []struct{ id, unit string }{{cp, "kubernetes-control-plane/0"}, {cpi, "vsphere-cloud-provider/0"}} {
			e.juju.DepartUnit(r.id, r.unit)
			e.hook("clients-relation-departed", r.id, r.unit)
			e.juju.BreakRelation(r.id)
			e.hook("clients-relation-broken", r.id)
			e.juju.RemoveRelation(r.id)
		}
		_, msg := e.status()
		assert.Equal(t, "ready", msg)
	})
	for _, hook := range []string{"stop", "remove"} {
		t.Run(hook+" sets the status", func(t *testing.T) {
			e.juju.Status = hooktoolstest.Status{Name: "maintenance", Message: "set by the test"}
			msg, sets, sessions := step(t, hook)
			assert.Equal(t, 1, sets)
			assert.Zero(t, sessions)
			assert.Equal(t, "ready", msg)
		})
	}
}

// TestDepartedRechecksWhenOnlyACheckCanRestate: a unit whose VM lacks an
// essential privilege is named in a blocked status; when it leaves, the
// departed hook checks again, so the status does not block on a VM that is
// no longer a node.
func TestDepartedRechecksWhenOnlyACheckCanRestate(t *testing.T) {
	e := newEnv(t)
	e.trust()
	_, workers, _ := cluster(e)
	require.NoError(t, e.vc.DenyPrivilege(context.Background(), "DC0_C0_RP0_VM1", "VirtualMachine.Config.AddExistingDisk"))
	e.hook("config-changed")
	name, msg := e.status()
	require.Equal(t, "blocked", name, msg)
	require.Contains(t, msg, "the node VM of kubernetes-worker/0")

	checks := e.checks.Load()
	e.juju.DepartUnit(workers, "kubernetes-worker/0")
	e.hook("clients-relation-departed", workers, "kubernetes-worker/0")
	assert.Equal(t, checks+1, e.checks.Load(), "one session, to restate the status")
	name, msg = e.status()
	assert.Equal(t, "active", name, msg)
	assert.NotContains(t, msg, "kubernetes-worker/0")
	assert.Equal(t, "ready; 2 node VMs lack disk.enableUUID: kubernetes-worker/1, kubernetes-worker/2", msg)
	rec := recordOf(t, e).Check
	require.NotNil(t, rec)

	// The next update-status finds the units as that check left them.
	checks = e.checks.Load()
	e.now = e.now.Add(5 * time.Minute)
	e.hook("update-status")
	assert.Equal(t, checks, e.checks.Load(), "the departed hook's check saw the units as they are")
}
