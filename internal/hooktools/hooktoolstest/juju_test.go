package hooktoolstest_test

import (
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestThroughTools runs the charm's Tools against the in-memory Juju: the
// way unit tests of the charm use it.
func TestThroughTools(t *testing.T) {
	ctx := context.Background()
	j := related()
	h := hooktools.New(j.Runner(), nil)

	_, err := h.CredentialGet(ctx)
	require.ErrorIs(t, err, hooktools.ErrNotTrusted)
	j.Trust(hooktoolstest.CloudSpec{Type: "vsphere", Endpoint: "vc", Region: "DC0"})
	got, err := h.CredentialGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, hooktools.CloudSpec{Type: "vsphere", Endpoint: "vc", Region: "DC0"}, got)

	ids, err := h.RelationIDs(ctx, "clients")
	require.NoError(t, err)
	assert.Equal(t, []string{"clients:0"}, ids)

	units, err := h.RelationList(ctx, "clients:0")
	require.NoError(t, err)
	assert.Equal(t, []string{"kcp/0", "kcp/1"}, units)

	remote, err := h.RelationGet(ctx, "clients:0", "kcp/0")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"ingress-address": "10.0.0.9"}, remote)

	require.NoError(t, h.RelationSet(ctx, "clients:0", map[string]string{"password": `"p=w: #x"`, "user": `"u"`}))
	require.NoError(t, h.RelationSet(ctx, "clients:0", map[string]string{"user": ""}))
	own, err := h.RelationGet(ctx, "clients:0", unit)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{
		"password":        `"p=w: #x"`,
		"private-address": hooktoolstest.DefaultAddress, "ingress-address": hooktoolstest.DefaultAddress,
		"egress-subnets": hooktoolstest.DefaultEgressSubnets,
	}, own)
	assert.Equal(t, own, j.LocalData("clients:0"))
	assert.Equal(t, map[string]string{"password": `"p=w: #x"`}, j.CharmData("clients:0"))
	for _, c := range j.CallsTo("relation-set") {
		assert.NotContains(t, c.Args, `"p=w: #x"`, "secrets stay off argv")
	}

	_, err = h.RelationGet(ctx, "clients:0", "kcp/5")
	assert.ErrorIs(t, err, hooktools.ErrRelationNotFound)
	_, err = h.RelationGet(ctx, "clients:0", "stranger/0")
	assert.ErrorIs(t, err, hooktools.ErrRelationNotFound)
	j.RemoveRelation("clients:0")
	err = h.RelationSet(ctx, "clients:0", map[string]string{"a": "b"})
	assert.ErrorIs(t, err, hooktools.ErrRelationNotFound)
	var exit *hooktools.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 2, exit.Code)

	require.NoError(t, h.StatusSet(ctx, hooktools.StatusActive, "ready"))
	assert.Equal(t, hooktoolstest.Status{Name: "active", Message: "ready"}, j.Status)

	require.NoError(t, h.StateSet(ctx, map[string]string{"a": "1", "b": "2"}))
	require.NoError(t, h.StateSet(ctx, map[string]string{"a": ""}))
	state, err := h.StateGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"b": "2"}, state, "an empty value deletes, as Tools promises")

	err = h.ActionSet(ctx, map[string]any{"a": "b"})
	require.Error(t, err, "no action is running")
	require.NoError(t, j.StartAction("verify", map[string]any{"verbose": true}))
	params, err := h.ActionGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"verbose": true}, params)
	require.NoError(t, h.ActionSet(ctx, map[string]any{"vcenter": map[string]any{"version": "8.0"}}))
	_, _, code := j.Run("action-log", []string{"done"}, nil) // the charm never logs to an action
	require.Equal(t, 0, code)
	require.NoError(t, h.ActionFail(ctx, "datastore missing"))
	assert.Equal(t, &hooktoolstest.Action{
		Name: "verify", Params: params,
		Results: map[string]any{"vcenter": map[string]any{"version": "8.0"}},
		Failed:  true, Message: "datastore missing", Logs: []string{"done"},
	}, j.Action)

	j.InjectFault("config-get", hooktoolstest.Fault{Stdout: "not json"})
	_, err = h.ConfigGet(ctx)
	assert.ErrorIs(t, err, hooktools.ErrBadOutput)
}

func TestRunnerFailsLikeExec(t *testing.T) {
	r := hooktoolstest.New(unit).Runner()
	_, err := r.Run(context.Background(), "goal-state", nil, nil)
	assert.ErrorIs(t, err, hooktools.ErrToolMissing)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Run(ctx, "is-leader", []string{"--format=json"}, nil)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestConcurrentUse(t *testing.T) {
	j := related()
	h := hooktools.New(j.Runner(), nil)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, h.Log(context.Background(), hooktools.LevelInfo, "hello"))
			if i%2 == 0 {
				j.SetLeader(i%4 == 0)
			}
		}()
	}
	wg.Wait()
	assert.Len(t, j.CallsTo("juju-log"), 20)
}

func TestFileRoundTrip(t *testing.T) {
	j := related()
	j.SetConfig(map[string]any{"datastore": "ds", "n": 3.0})
	j.Trust(hooktoolstest.CloudSpec{Type: "vsphere", Credential: &hooktoolstest.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": "u"}}})
	require.NoError(t, j.StartAction("verify", map[string]any{"verbose": true}))
	j.SetLeader(true)
	j.SetLeaderSettings(map[string]string{"table": "{}"})
	kept := j.AddSecret(hooktoolstest.OwnerApplication, "l", map[string]string{"password": "pw"})
	require.NoError(t, j.BeginHook())
	j.InjectFault("is-leader", hooktoolstest.Fault{Code: 1, Stderr: "ERROR boom\n"})
	j.Run("status-set", []string{"active", "ready"}, nil)
	_, errOut, code := j.Run("secret-add", []string{"--owner=unit", "password=new"}, nil)
	require.Equal(t, 0, code, string(errOut))
	_, errOut, code = j.Run("secret-remove", []string{kept}, nil)
	require.Equal(t, 0, code, string(errOut))
	require.Len(t, j.Hook.SecretCreates, 1)

	path := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, j.WriteFile(path))
	back, err := hooktoolstest.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, back.WriteFile(path+".2"))
	again, err := hooktoolstest.ReadFile(path + ".2")
	require.NoError(t, err)

	for _, got := range []*hooktoolstest.Juju{back, again} {
		assert.Equal(t, j.Unit, got.Unit)
		assert.Equal(t, j.Config, got.Config)
		assert.Equal(t, j.Credential, got.Credential)
		assert.Equal(t, j.Relations, got.Relations)
		assert.Equal(t, j.NextRelationID, got.NextRelationID)
		assert.Equal(t, j.Status, got.Status)
		assert.Equal(t, j.Action, got.Action)
		assert.Equal(t, j.Faults, got.Faults)
		assert.Equal(t, j.Calls, got.Calls)
		assert.Equal(t, j.Address, got.Address)
		assert.Equal(t, j.EgressSubnets, got.EgressSubnets)
		assert.Equal(t, j.Hook, got.Hook, "a hook running across processes")
		assert.Equal(t, j.LeaderSettings(), got.LeaderSettings())
		assert.Equal(t, j.Secrets(), got.Secrets())
		assert.Equal(t, j.ModelUUID, got.ModelUUID)
	}
	// The loaded state goes on answering like the original.
	assert.Equal(t, "clients:1", back.AddRelation("clients", "kcp2"))
	require.NoError(t, back.EndHook(0))
	require.Len(t, back.Secrets(), 1, "the pending creation and removal committed")
	assert.Equal(t, "unit-vsphere-integrator-0", back.Secrets()[0].Owner)

	_, err = hooktoolstest.ReadFile(filepath.Join(t.TempDir(), "missing.json"))
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}
