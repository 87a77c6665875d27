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
