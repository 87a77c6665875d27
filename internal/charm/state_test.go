package charm

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestStateSavesTheDifference: unit state is loaded, changed as a value
// and saved as the difference from what was read, whether every key was
// read or only the record.
func TestStateSavesTheDifference(t *testing.T) {
	ctx := context.Background()
	const rel = "clients:0"
	a, b := nodeKey(rel, "kubernetes-worker/0"), nodeKey(rel, "kubernetes-worker/1")
	// stored is a state this version wrote: the record, two units.
	stored := func(j *hooktoolstest.Juju) {
		s := newUnitState()
		s.apps[rel] = "kubernetes-worker"
		s.nodes.set(rel, "kubernetes-worker/0", "10.0.0.1")
		s.nodes.set(rel, "kubernetes-worker/1", "10.0.0.2")
		enc, err := s.encode()
		require.NoError(t, err)
		j.State = enc
	}
	// event runs f inside a hook and returns the calls that wrote state.
	event := func(j *hooktoolstest.Juju, f func(tools *hooktools.Tools)) []hooktoolstest.Call {
		require.NoError(t, j.BeginHook())
		mark := len(j.Calls)
		f(hooktools.New(j.Runner(), nil))
		require.NoError(t, j.EndHook(0))
		var out []hooktoolstest.Call
		for _, c := range j.Calls[mark:] {
			if c.Tool == "state-set" || c.Tool == "state-delete" {
				out = append(out, c)
			}
		}
		return out
	}

	t.Run("nothing changed, nothing written", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		stored(j)
		calls := event(j, func(tools *hooktools.Tools) {
			s, err := loadState(ctx, tools)
			require.NoError(t, err)
			assert.True(t, s.recorded)
			s.setApp(rel, "kubernetes-worker")
			require.NoError(t, s.save(ctx, tools))
		})
		assert.Empty(t, calls)
	})
	t.Run("a key this version does not write is deleted on a full read", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		stored(j)
		j.State["status"] = "active|ready"
		calls := event(j, func(tools *hooktools.Tools) {
			s, err := loadState(ctx, tools)
			require.NoError(t, err)
			require.NoError(t, s.save(ctx, tools))
		})
		require.Len(t, calls, 1)
		assert.Equal(t, "state-delete", calls[0].Tool)
		assert.NotContains(t, j.State, "status")
		assert.Contains(t, j.State, a)
	})
	t.Run("record only: what the event set or removed is written unread", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		stored(j)
		calls := event(j, func(tools *hooktools.Tools) {
			s, err := loadRecord(ctx, tools)
			require.NoError(t, err)
			s.setNode(rel, "kubernetes-worker/0", "10.0.0.1") // the same address
			s.removeNode(rel, "kubernetes-worker/1")
			require.NoError(t, s.save(ctx, tools))
		})
		require.Len(t, calls, 2, "%v", calls)
		assert.Equal(t, "state-set", calls[0].Tool)
		assert.NotContains(t, calls[0].Stdin, stateRecord, "the record is unchanged")
		assert.Equal(t, "state-delete", calls[1].Tool)
		assert.NotContains(t, j.State, b)
	})
	t.Run("the node keys read later do not undo the event", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		stored(j)
		calls := event(j, func(tools *hooktools.Tools) {
			s, err := loadRecord(ctx, tools)
			require.NoError(t, err)
			s.setNode(rel, "kubernetes-worker/0", "10.0.0.9")
			s.removeNode(rel, "kubernetes-worker/1")
			require.NoError(t, s.loadNodes(ctx, tools))
			assert.Equal(t, map[string]string{"kubernetes-worker/0": "10.0.0.9"}, map[string]string(s.nodes[rel]))
			require.NoError(t, s.save(ctx, tools))
		})
		require.Len(t, calls, 2, "%v", calls)
		assert.Equal(t, `"10.0.0.9"`, j.State[a])
		assert.NotContains(t, j.State, b)
	})
	t.Run("a broken relation's keys stay until swept", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		stored(j)
		calls := event(j, func(tools *hooktools.Tools) {
			s, err := loadState(ctx, tools)
			require.NoError(t, err)
			s.dropRelation(rel)
			require.NoError(t, s.save(ctx, tools))
		})
		require.Len(t, calls, 1, "only the record is rewritten")
		assert.Contains(t, j.State, a)
		calls = event(j, func(tools *hooktools.Tools) {
			s, err := loadState(ctx, tools)
			require.NoError(t, err)
			s.sweep()
			require.NoError(t, s.save(ctx, tools))
		})
		assert.NotContains(t, j.State, a)
		assert.NotContains(t, j.State, b)
		assert.NotContains(t, j.State[stateRecord], rel, "forgotten once swept")
		assert.Len(t, calls, 3, "the record and a state-delete per key")
	})
}
