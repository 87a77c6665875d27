package hooktools_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

func TestLeadership(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/0")
	h := hooktools.New(j.Runner(), nil)

	leader, err := h.IsLeader(ctx)
	require.NoError(t, err)
	assert.False(t, leader)
	got, err := h.LeaderGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{}, got, "none is an empty map")

	err = h.LeaderSet(ctx, map[string]string{"table": "{}"})
	assert.ErrorIs(t, err, hooktools.ErrNotLeader)
	var te *hooktools.ToolError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, "cannot write leadership settings: cannot write settings: not the leader", te.Message)

	j.SetLeader(true)
	leader, err = h.IsLeader(ctx)
	require.NoError(t, err)
	assert.True(t, leader)
	require.NoError(t, h.LeaderSet(ctx, map[string]string{"table": `{"a": "b c"}`, "gen": "1", "-dash": "x"}))
	require.NoError(t, h.LeaderSet(ctx, map[string]string{"gen": ""}))
	got, err = h.LeaderGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"table": `{"a": "b c"}`, "-dash": "x"}, got, `"" deletes, a key may start with "-"`)
	assert.Equal(t, got, j.LeaderSettings())
	assert.Equal(t, []string{"--", "-dash=x", "gen=1", `table={"a": "b c"}`}, j.CallsTo("leader-set")[1].Args)

	require.NoError(t, h.LeaderSet(ctx, nil))
	assert.Len(t, j.CallsTo("leader-set"), 3, "nothing to set runs nothing")
}

// TestLeaderSetRefuses what would not reach Juju as given, before
// anything runs, and never puts a registered secret on the command line.
func TestLeaderSetRefuses(t *testing.T) {
	ctx := context.Background()
	for _, values := range []map[string]string{
		{"": "v"},
		{"a=b": "v"},
		{" k": "v"},
		{"k": " v"},
		{"k": "v\n"},
	} {
		j := hooktoolstest.New("vsphere-integrator/0")
		j.SetLeader(true)
		err := hooktools.New(j.Runner(), nil).LeaderSet(ctx, values)
		assert.ErrorIs(t, err, hooktools.ErrInvalidArgument, "%q", values)
		assert.Empty(t, j.CallsTo("leader-set"), "%q", values)
	}

	j := hooktoolstest.New("vsphere-integrator/0")
	j.SetLeader(true)
	s := &redact.Secrets{}
	s.Add("hunter2-password")
	require.NoError(t, hooktools.New(j.Runner(), s).LeaderSet(ctx, map[string]string{"note": "pw hunter2-password"}))
	assert.Equal(t, map[string]string{"note": "pw " + redact.Mask}, j.LeaderSettings())
}
