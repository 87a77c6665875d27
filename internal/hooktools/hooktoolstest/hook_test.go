package hooktoolstest_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestHookTransaction: relation settings and charm state written in a hook
// are committed only if it exits 0, as Juju's context flush does; what was
// sent at once (status, logs, version, action results) stays whatever the
// exit code. Within the hook the charm reads its own pending writes.
func TestHookTransaction(t *testing.T) {
	ctx := context.Background()
	before := map[string]string{"vsphere_ip": `"old"`}
	tests := []struct {
		name       string
		exit       int
		wantCharm  map[string]string
		wantApp    map[string]string
		wantState  map[string]string
		wantFailed string // the action's message, when it fails
	}{{
		name:      "exit 0 commits",
		exit:      0,
		wantCharm: map[string]string{"vsphere_ip": `"new"`, "user": `"u"`},
		wantApp:   map[string]string{"k": "v"},
		wantState: map[string]string{"hash": "abc"},
	}, {
		name:       "exit 1 commits nothing",
		exit:       1,
		wantCharm:  before,
		wantState:  map[string]string{"kept": "1", "gone": "2"},
		wantFailed: "exit status 1",
	}, {
		name:       "a killed hook commits nothing",
		exit:       137,
		wantCharm:  before,
		wantState:  map[string]string{"kept": "1", "gone": "2"},
		wantFailed: "exit status 137",
	}}
	for _, tt := range tests {
		for _, inAction := range []bool{false, true} {
			name := tt.name
			if inAction {
				name += " (action)"
			}
			t.Run(name, func(t *testing.T) {
				j := related()
				j.SetLeader(true)
				j.SetLocalData("clients:0", before)
				j.State = map[string]string{"kept": "1", "gone": "2"}
				if inAction {
					require.NoError(t, j.StartAction("verify", nil))
				}
				h := hooktools.New(j.Runner(), nil)
				require.NoError(t, j.BeginHook())

				require.NoError(t, h.RelationSet(ctx, "clients:0", map[string]string{"vsphere_ip": `"new"`, "user": `"u"`}))
				_, _, code := j.Run("relation-set", []string{"-r", "clients:0", "--app", "k=v"}, nil)
				require.Equal(t, 0, code)
				require.NoError(t, h.StateSet(ctx, map[string]string{"hash": "abc", "kept": "", "gone": ""}))
				require.NoError(t, h.StatusSet(ctx, hooktools.StatusActive, "ready"))
				require.NoError(t, h.Log(ctx, hooktools.LevelInfo, "published"))
				require.NoError(t, h.ApplicationVersionSet(ctx, "8.0.2"))
				if inAction {
					require.NoError(t, h.ActionSet(ctx, map[string]any{"result": "ok"}))
					_, _, code := j.Run("action-log", []string{"done"}, nil) // the charm never logs to an action
					require.Equal(t, 0, code)
				}

				// The hook sees what it wrote; the remote units do not yet.
				own, err := h.RelationGet(ctx, "clients:0", unit)
				require.NoError(t, err)
				assert.Equal(t, `"new"`, own["vsphere_ip"])
				state, err := h.StateGet(ctx)
				require.NoError(t, err)
				assert.Equal(t, map[string]string{"hash": "abc"}, state)
				assert.Equal(t, before, j.CharmData("clients:0"), "uncommitted")

				require.NoError(t, j.EndHook(tt.exit))
				assert.Equal(t, tt.wantCharm, j.CharmData("clients:0"))
				assert.Equal(t, tt.wantApp, j.Relations[0].AppData["vsphere-integrator"])
				assert.Equal(t, tt.wantState, j.State)
				assert.Equal(t, hooktoolstest.Status{Name: "active", Message: "ready"}, j.Status, "sent at once")
				assert.Equal(t, []hooktoolstest.LogEntry{{Level: "INFO", Message: "published"}}, j.Logs)
				assert.Equal(t, "8.0.2", j.ApplicationVersion, "sent at once (SetUnitWorkloadVersion)")
				if inAction {
					assert.Equal(t, map[string]any{"result": "ok"}, j.Action.Results, "sent when the action finishes, whatever its exit")
					assert.Equal(t, []string{"done"}, j.Action.Logs)
					assert.Equal(t, tt.wantFailed != "", j.Action.Failed)
					assert.Equal(t, tt.wantFailed, j.Action.Message)
				}
				assert.Nil(t, j.Hook)
			})
		}
	}
}

// TestHookOrder: one hook at a time, and EndHook only after BeginHook.
func TestHookOrder(t *testing.T) {
	j := related()
	assert.ErrorIs(t, j.EndHook(0), hooktoolstest.ErrNoHook)
	require.NoError(t, j.BeginHook())
	assert.ErrorIs(t, j.BeginHook(), hooktoolstest.ErrHookRunning)
	require.NoError(t, j.EndHook(0))
	assert.ErrorIs(t, j.EndHook(0), hooktoolstest.ErrNoHook)
}

// TestHookAndRelationChanges: a relation Juju adds or removes while a hook
// runs is not the hook's to roll back.
func TestHookAndRelationChanges(t *testing.T) {
	j := related()
	require.NoError(t, j.BeginHook())
	added := j.AddRelation("clients", "kw", "kw/0")
	j.RemoveRelation("clients:0")
	require.NoError(t, j.EndHook(1))
	assert.Nil(t, j.LocalData("clients:0"))
	assert.Equal(t, map[string]string{
		"private-address": "10.0.0.100", "ingress-address": "10.0.0.100", "egress-subnets": "10.0.0.100/32",
	}, j.LocalData(added), "what Juju wrote on entering scope")
}

// TestCharmStateQuotas: state-set refuses a key over 256 bytes or a value
// over 64 KiB at once (the hook context's quota.CheckTupleSize), and the
// controller refuses to commit a charm state whose BSON is over
// max-charm-state-size (state/unit_ops.go): the hook fails, nothing of it
// is committed.
func TestCharmStateQuotas(t *testing.T) {
	big := strings.Repeat("x", 60*1024)
	t.Run("key and value sizes", func(t *testing.T) {
		tests := []struct {
			name    string
			stdin   string
			wantErr string
		}{
			{name: "longest key", stdin: strings.Repeat("k", 256) + ": v\n"},
			{name: "key too long", stdin: strings.Repeat("k", 257) + ": v\n", wantErr: "ERROR max allowed key length (256) exceeded\n"},
			{name: "longest value", stdin: "k: " + strings.Repeat("v", 64*1024) + "\n"},
			{name: "value too long", stdin: "k: " + strings.Repeat("v", 64*1024+1) + "\n", wantErr: "ERROR max allowed value length (65536) exceeded\n"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				j := hooktoolstest.New(unit)
				_, errOut, code := j.Run("state-set", []string{"--file", "-"}, []byte(tt.stdin))
				assert.Equal(t, tt.wantErr, string(errOut))
				if tt.wantErr == "" {
					assert.Equal(t, 0, code)
					assert.Len(t, j.State, 1)
				} else {
					assert.Equal(t, 1, code, "refused while running")
					assert.Empty(t, j.State)
				}
			})
		}
	})
	t.Run("total size on commit", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		j.Run("state-set", []string{"a=1"}, nil)
		require.NoError(t, j.BeginHook())
		for i := range 40 { // 40 × 60 KiB > 2 MiB
			_, errOut, code := j.Run("state-set", []string{"--file", "-"}, []byte(strings.Repeat("k", i+1)+": "+big+"\n"))
			require.Equal(t, 0, code, "each pair is within the limits: %s", errOut)
		}
		err := j.EndHook(0)
		require.EqualError(t, err, "persisting charm state: max allowed size (2097152) exceeded")
		assert.Equal(t, map[string]string{"a": "1"}, j.State, "nothing of the hook committed")
	})
	t.Run("total size without a hook", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		j.MaxCharmStateSize = 1000
		_, errOut, code := j.Run("state-set", []string{"a=" + strings.Repeat("v", 900)}, nil)
		require.Equal(t, 0, code, string(errOut))
		_, errOut, code = j.Run("state-set", []string{"b=" + strings.Repeat("v", 100)}, nil)
		assert.Equal(t, 1, code)
		assert.Equal(t, "ERROR persisting charm state: max allowed size (1000) exceeded\n", string(errOut))
		assert.Equal(t, []string{"a"}, keys(j.State))
	})
	t.Run("bson size is counted exactly", func(t *testing.T) {
		// 4 bytes of length, per pair a type byte, the key and its NUL, 4
		// bytes of length, the value and its NUL, then a NUL.
		j := hooktoolstest.New(unit)
		j.MaxCharmStateSize = 5 + (1 + 1 + 1 + 4 + 10 + 1)
		_, errOut, code := j.Run("state-set", []string{"k=" + strings.Repeat("v", 10)}, nil)
		assert.Equal(t, 0, code, string(errOut))
		j.MaxCharmStateSize--
		require.NoError(t, j.BeginHook())
		j.Run("state-set", []string{"k=" + strings.Repeat("w", 10)}, nil)
		assert.Error(t, j.EndHook(0))
	})
	t.Run("escaped keys grow", func(t *testing.T) {
		// Juju stores "." as a three-byte full-width dot: a 255-byte key
		// with a dot passes state-set and fails the commit.
		j := hooktoolstest.New(unit)
		require.NoError(t, j.BeginHook())
		_, errOut, code := j.Run("state-set", []string{strings.Repeat("k", 254) + ".x=v"}, nil)
		require.Equal(t, 0, code, string(errOut))
		assert.EqualError(t, j.EndHook(0), "persisting charm state: max allowed key length (256) exceeded")
		assert.Empty(t, j.State)
	})
	t.Run("an unchanged state is not checked", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		j.State = map[string]string{"a": strings.Repeat("v", 100)}
		j.MaxCharmStateSize = 10 // lowered after the state was stored
		require.NoError(t, j.BeginHook())
		require.NoError(t, j.EndHook(0))
		_, errOut, code := j.Run("state-set", []string{"a=" + strings.Repeat("v", 100)}, nil)
		assert.Equal(t, 0, code, "the same value again: %s", errOut)
	})
	t.Run("a refused commit fails the action", func(t *testing.T) {
		j := hooktoolstest.New(unit)
		j.MaxCharmStateSize = 10
		require.NoError(t, j.StartAction("verify", nil))
		require.NoError(t, j.BeginHook())
		j.Run("state-set", []string{"a=" + strings.Repeat("v", 100)}, nil)
		require.Error(t, j.EndHook(0))
		assert.True(t, j.Action.Failed)
		assert.Equal(t, "committing requested changes failed", j.Action.Message)
	})
}

// TestScopeAddresses: entering a relation's scope puts the unit's
// addresses in its databag, as the uniter facade's EnterScope does.
func TestScopeAddresses(t *testing.T) {
	j := hooktoolstest.New(unit)
	j.Address, j.EgressSubnets = "192.168.1.5", "192.168.1.0/24,10.1.0.0/16"
	id := j.AddRelation("clients", "kcp", "kcp/0")
	assert.Equal(t, map[string]string{
		"private-address": "192.168.1.5", "ingress-address": "192.168.1.5",
		"egress-subnets": "192.168.1.0/24,10.1.0.0/16",
	}, j.LocalData(id))
	assert.Empty(t, j.CharmData(id))

	j.SetLocalData(id, map[string]string{"user": `"u"`})
	assert.Equal(t, map[string]string{"user": `"u"`}, j.CharmData(id), "what an earlier charm left, beside Juju's keys")
	assert.Len(t, j.LocalData(id), 4)

	// A charm overwriting one of Juju's keys shows in CharmData.
	j.Run("relation-set", []string{"-r", id, "ingress-address=10.9.9.9"}, nil)
	assert.Equal(t, map[string]string{"user": `"u"`, "ingress-address": "10.9.9.9"}, j.CharmData(id))

	assert.Equal(t, hooktoolstest.DefaultAddress, hooktoolstest.New(unit).Address)
}

// TestBrokenRelation: after BreakRelation the relation-broken hook runs
// with the relation dying and no units: relation-ids leaves it out, while
// -r still reaches it, so relation-list (empty), relation-get of its own
// databag and of departed units, and relation-set work, as in Juju. After
// RemoveRelation every tool says it is not found.
func TestBrokenRelation(t *testing.T) {
	j := related()
	other := j.AddRelation("clients", "kw", "kw/0")
	j.SetLocalData("clients:0", map[string]string{"user": `"u"`})
	j.BreakRelation("clients:0")
	j.HookRelation = "clients:0" // JUJU_RELATION_ID in relation-broken; no remote unit

	run := func(tool string, args ...string) (string, string, int) {
		out, errOut, code := j.Run(tool, args, nil)
		return string(out), string(errOut), code
	}
	tests := []struct {
		tool     string
		args     []string
		wantOut  string
		wantErr  string
		wantCode int
	}{
		{tool: "relation-ids", args: []string{"--format=json", "clients"}, wantOut: `["` + other + `"]` + "\n"},
		{tool: "relation-ids", args: []string{"--format=json"}, wantOut: `["` + other + `"]` + "\n"},
		{tool: "relation-list", args: []string{"--format=json"}, wantOut: "[]\n"},
		{tool: "relation-list", args: []string{"-r", "clients:0", "--app"}, wantOut: "kcp\n"},
		{tool: "relation-get", args: []string{"-r", "clients:0", "user", unit}, wantOut: `"u"` + "\n"},
		{tool: "relation-get", args: []string{"--format=json", "-", "kcp/0"}, wantOut: `{"ingress-address":"10.0.0.9"}` + "\n"},
		{tool: "relation-get", args: []string{"--format=json"}, wantOut: "{}\n"}, // the remote app's databag
		{tool: "relation-set", args: []string{"-r", "clients:0", "user="}},
	}
	for _, tt := range tests {
		out, errOut, code := run(tt.tool, tt.args...)
		assert.Equal(t, tt.wantOut, out, "%s %q", tt.tool, tt.args)
		assert.Equal(t, tt.wantErr, errOut, "%s %q", tt.tool, tt.args)
		assert.Equal(t, tt.wantCode, code, "%s %q", tt.tool, tt.args)
	}

	j.RemoveRelation("clients:0")
	j.HookRelation = ""
	for _, tool := range []string{"relation-list", "relation-get", "relation-set"} {
		_, errOut, code := run(tool, "-r", "clients:0", "-", "kcp/0")
		assert.Equal(t, "ERROR invalid value \"clients:0\" for option -r: relation not found\n", errOut, tool)
		assert.Equal(t, 2, code, tool)
	}
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
