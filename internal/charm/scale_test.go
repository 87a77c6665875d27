package charm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStateAt2000Units: 2,000 related units, half on clients and half on
// nodes, each joining in its own hook. Every hook succeeds (the fake
// refuses state over Juju's quotas at commit, as the controller does), no
// unit-state value passes 16 KiB, and a departure and a check keep it so.
func TestStateAt2000Units(t *testing.T) {
	if testing.Short() {
		t.Skip("2,000 relation hooks: scale, not the edit loop")
	}
	e := newEnv(t)
	e.trust()
	e.hook("install")
	clients := e.juju.AddRelation(Endpoint, "kubernetes-worker")
	nodes := e.juju.AddRelation(NodesEndpoint, "kubernetes-control-plane")
	e.hook("clients-relation-created", clients)
	e.hook("nodes-relation-created", nodes)
	for i := range 2000 {
		rel, app := clients, "kubernetes-worker"
		if i%2 == 1 {
			rel, app = nodes, "kubernetes-control-plane"
		}
		u := fmt.Sprintf("%s/%d", app, i)
		e.juju.JoinUnit(rel, u)
		e.juju.SetRemoteData(rel, u, map[string]string{"ingress-address": fmt.Sprintf("10.%d.%d.%d", i>>16, (i>>8)&255, i&255+1)})
		endpoint := Endpoint
		if rel == nodes {
			endpoint = NodesEndpoint
		}
		e.hook(endpoint+"-relation-joined", rel, u)
	}
	e.juju.DepartUnit(clients, "kubernetes-worker/0")
	e.hook("clients-relation-departed", clients, "kubernetes-worker/0")
	e.now = e.now.Add(5 * 60e9)
	e.hook("update-status") // checks the 1,999 nodes, none of whose VMs vcsim knows
	name, msg := e.status()
	require.Equal(t, "active", name, msg)

	total, largest, nodeKeys := 0, 0, 0
	for k, v := range e.juju.State {
		total += len(k) + len(v)
		largest = max(largest, len(v))
		if len(k) > len(stateNodePfx) && k[:len(stateNodePfx)] == stateNodePfx {
			nodeKeys++
		}
	}
	assert.Equal(t, 1999, nodeKeys)
	assert.Less(t, largest, 16<<10, "largest unit-state value")
	t.Logf("unit state at 1,999 units: %d keys, %d bytes, largest value %d bytes", len(e.juju.State), total, largest)
}

// relateUnits relates n units, half kubernetes-worker units on clients and
// half kubernetes-control-plane units on nodes, each joining in its own
// hook as Juju runs them, none with a VM the simulator knows.
func relateUnits(e *env, n int) {
	e.t.Helper()
	clients := e.juju.AddRelation(Endpoint, "kubernetes-worker")
	nodes := e.juju.AddRelation(NodesEndpoint, "kubernetes-control-plane")
	e.hook("clients-relation-created", clients)
	e.hook("nodes-relation-created", nodes)
	for i := range n {
		rel, app, endpoint := clients, "kubernetes-worker", Endpoint
		if i%2 == 1 {
			rel, app, endpoint = nodes, "kubernetes-control-plane", NodesEndpoint
		}
		u := fmt.Sprintf("%s/%d", app, i/2)
		e.juju.JoinUnit(rel, u)
		e.juju.SetRemoteData(rel, u, map[string]string{"ingress-address": fmt.Sprintf("10.%d.%d.%d", 1+i>>16, (i>>8)&255, i&255)})
		e.hook(endpoint+"-relation-joined", rel, u)
	}
	e.auditAndForget()
}

// TestActionCallsAtScale: no action makes a hook-tool call per related
// unit. Each action makes the same calls, tool for tool, with 1,000 related
// units as with 10: check-prerequisites and enable-disk-uuid list the units
// again (a relation-list per relation) but take their addresses from unit
// state, where the relation hooks recorded them, instead of a relation-get
// each (1,000 of them, at about 0.1 s each from a controller under that
// load, would not fit in the event's 2-minute deadline).
func TestActionCallsAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 related units: scale, not the edit loop")
	}
	actions := []struct {
		name   string
		params map[string]any
	}{
		{"verify", nil},
		{"refresh-credentials", nil},
		{"cloud-config", nil},
		{"check-prerequisites", nil},
		{"enable-disk-uuid", nil},
		{"enable-disk-uuid", map[string]any{"dry-run": false}},
		{"storage-class", nil},
		{"test-volume", nil},
	}
	callsAt := func(n int) map[string]map[string]int {
		e := newEnv(t)
		e.trust()
		e.hook("install")
		relateUnits(e, n)
		out := map[string]map[string]int{}
		for _, a := range actions {
			mark := len(e.juju.Calls)
			e.action(a.name, a.params)
			require.False(t, e.juju.Action.Failed, "%s at %d units: %s", a.name, n, e.juju.Action.Message)
			perTool := map[string]int{}
			for _, c := range e.callsSince(mark) {
				perTool[c.Tool]++
			}
			out[fmt.Sprintf("%s %v", a.name, a.params)] = perTool
		}
		return out
	}
	small, large := callsAt(10), callsAt(1000)
	for name, calls := range small {
		assert.Equal(t, calls, large[name], "%s: hook-tool calls at 10 units, then at 1,000", name)
	}
	// What the listing costs: the relations' lists, not the units' data.
	prereq := large["check-prerequisites map[]"]
	assert.Equal(t, 2, prereq["relation-list"], "one relation-list per relation")
	assert.LessOrEqual(t, prereq["relation-get"], 1, "at most this unit's own address")
}
