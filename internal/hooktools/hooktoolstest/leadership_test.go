package hooktoolstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestLeaderTools holds leader-get and leader-set to Juju's words, exit
// codes and effects (jujuc leader-get.go, leader-set.go, the leadership
// context).
func TestLeaderTools(t *testing.T) {
	leader := func() *hooktoolstest.Juju {
		j := hooktoolstest.New(unit)
		j.SetLeader(true)
		j.SetLeaderSettings(map[string]string{"table": `{"a":1}`, "gen": "3"})
		return j
	}
	minion := func() *hooktoolstest.Juju {
		j := leader()
		j.SetLeader(false)
		return j
	}
	tests := []struct {
		name     string
		setup    func() *hooktoolstest.Juju
		tool     string
		args     []string
		wantOut  string
		wantErr  string
		wantCode int
		want     map[string]string // the leader settings after
	}{
		{name: "leader-get prints every key as JSON, on any unit", setup: minion, tool: "leader-get", args: []string{"--format=json"},
			wantOut: `{"gen":"3","table":"{\"a\":1}"}` + "\n"},
		{name: "leader-get - is every key", setup: minion, tool: "leader-get", args: []string{"--format=json", "-"},
			wantOut: `{"gen":"3","table":"{\"a\":1}"}` + "\n"},
		{name: "leader-get of none prints {}", setup: func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
			tool: "leader-get", args: []string{"--format=json"}, wantOut: "{}\n"},
		{name: "leader-get of one key", setup: minion, tool: "leader-get", args: []string{"--format=json", "gen"},
			wantOut: `"3"` + "\n"},
		{name: "leader-get of a key not set prints null", setup: minion, tool: "leader-get", args: []string{"--format=json", "nope"},
			wantOut: "null\n"},
		{name: "leader-get of a key=value is refused", setup: minion, tool: "leader-get", args: []string{"a=b"},
			wantErr: "ERROR invalid key \"a=b\"\n", wantCode: 2},
		{name: "leader-get of two keys", setup: minion, tool: "leader-get", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "leader-set merges, an empty value deletes, spaces are trimmed", setup: leader, tool: "leader-set",
			args: []string{"gen=4", "table=", " new = v "},
			want: map[string]string{"gen": "4", "new": "v"}},
		{name: "leader-set of nothing writes nothing", setup: leader, tool: "leader-set",
			want: map[string]string{"table": `{"a":1}`, "gen": "3"}},
		{name: "leader-set by a minion is refused", setup: minion, tool: "leader-set", args: []string{"gen=4"},
			wantErr:  "ERROR cannot write leadership settings: cannot write settings: not the leader\n",
			wantCode: 1, want: map[string]string{"table": `{"a":1}`, "gen": "3"}},
		{name: "leader-set of an argument without =", setup: leader, tool: "leader-set", args: []string{"nonsense"},
			wantErr: "ERROR expected \"key=value\", got \"nonsense\"\n", wantCode: 2, want: map[string]string{"table": `{"a":1}`, "gen": "3"}},
		{name: "leader-set has no --file", setup: leader, tool: "leader-set", args: []string{"--file", "-"},
			wantErr: "ERROR option provided but not defined: --file\n", wantCode: 2, want: map[string]string{"table": `{"a":1}`, "gen": "3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.setup()
			out, errOut, code := j.Run(tt.tool, tt.args, nil)
			assert.Equal(t, tt.wantOut, string(out), "stdout")
			assert.Equal(t, tt.wantErr, string(errOut), "stderr")
			assert.Equal(t, tt.wantCode, code, "exit code")
			if tt.want != nil {
				assert.Equal(t, tt.want, j.LeaderSettings())
			}
		})
	}
}

// TestLeaderSetIsImmediate: leader-set writes to the controller at once,
// so a hook that then fails keeps what it wrote, unlike its relation
// settings.
func TestLeaderSetIsImmediate(t *testing.T) {
	j := related()
	j.SetLeader(true)
	require.NoError(t, j.BeginHook())
	_, errOut, code := j.Run("leader-set", []string{"gen=1"}, nil)
	require.Equal(t, 0, code, string(errOut))
	_, errOut, code = j.Run("relation-set", []string{"-r", "clients:0", "k=v"}, nil)
	require.Equal(t, 0, code, string(errOut))
	require.NoError(t, j.EndHook(1))
	assert.Equal(t, map[string]string{"gen": "1"}, j.LeaderSettings())
	assert.NotContains(t, j.LocalData("clients:0"), "k", "the relation write is rolled back")
}
