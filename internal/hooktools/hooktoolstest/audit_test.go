package hooktoolstest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestJujuTexts holds each tool to Juju 3.6's own words and exit codes
// (juju/juju worker/uniter/runner/jujuc/<tool>.go, the flag parser
// juju/gnuflag, juju/cmd Main and CheckEmpty, juju/utils keyvalues): exit
// 2 with "ERROR ..." for a command line refused by parsing or Init, 1 for
// a failure while running.
func TestJujuTexts(t *testing.T) {
	inAction := func() *hooktoolstest.Juju {
		j := related()
		require.NoError(t, j.StartAction("verify", nil))
		return j
	}
	inHook := func() *hooktoolstest.Juju {
		j := related()
		j.HookRelation, j.RemoteUnit = "clients:0", "kcp/0"
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
	}{
		// gnuflag, for every tool.
		{name: "unknown long option", tool: "is-leader", args: []string{"--bogus"},
			wantErr: "ERROR option provided but not defined: --bogus\n", wantCode: 2},
		{name: "unknown short option in a group", tool: "relation-list", args: []string{"-ax", "-r", "clients:0"},
			wantErr: "ERROR option provided but not defined: -a\n", wantCode: 2},
		{name: "empty option name", tool: "is-leader", args: []string{"--=json"},
			wantErr: "ERROR empty option in argument \"--=json\"\n", wantCode: 2},
		{name: "option without its value", tool: "relation-list", args: []string{"--format=json", "-r"},
			wantErr: "ERROR option needs an argument: -r\n", wantCode: 2},
		{name: "boolean option with a bad value", tool: "relation-get", args: []string{"--app=maybe"},
			wantErr: "ERROR invalid value \"maybe\" for option --app: strconv.ParseBool: parsing \"maybe\": invalid syntax\n", wantCode: 2},
		{name: "short boolean with = takes it as the value", tool: "config-get", args: []string{"-a=false"},
			wantErr: "ERROR invalid value \"=false\" for option -a: strconv.ParseBool: parsing \"=false\": invalid syntax\n", wantCode: 2},
		{name: "short option with = keeps the =", tool: "relation-list", args: []string{"-r=0"},
			wantErr: "ERROR invalid value \"=0\" for option -r: invalid relation id\n", wantCode: 2},
		{name: "short option with its value attached", tool: "relation-list", args: []string{"-rclients:0"},
			wantOut: "kcp/0\nkcp/1\n"},
		{name: "unknown format", tool: "state-get", args: []string{"--format", "xml"},
			wantErr: "ERROR invalid value \"xml\" for option --format: unknown format \"xml\"\n", wantCode: 2},
		{name: "help exits 0", tool: "state-get", args: []string{"-h"}, wantOut: "Usage: state-get [options]\n"},

		// config-get
		{name: "config-get key and --all", tool: "config-get", args: []string{"--all", "datastore"},
			wantErr: "ERROR cannot use argument --all together with key \"datastore\"\n", wantCode: 2},
		{name: "config-get two keys", tool: "config-get", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "config-get of a missing key", tool: "config-get", args: []string{"--format=json", "nope"}, wantOut: "null\n"},

		// relation-ids, relation-list
		{name: "relation-list refuses arguments", tool: "relation-list", args: []string{"-r", "clients:0", "kcp/0"},
			wantErr: "ERROR unrecognized args: [\"kcp/0\"]\n", wantCode: 2},
		{name: "relation-list --app", tool: "relation-list", args: []string{"-r", "clients:0", "--app"}, wantOut: "kcp\n"},
		{name: "relation-list by --relation", tool: "relation-list", args: []string{"--relation=0", "--format=json"},
			wantOut: `["kcp/0","kcp/1"]` + "\n"},

		// relation-get: determineUnitOrAppName runs in Init.
		{name: "relation-get of an application name", tool: "relation-get", args: []string{"-r", "clients:0", "-", "kcp"},
			wantErr: "ERROR expected unit name, got application name \"kcp\"\n", wantCode: 2},
		{name: "relation-get of a bad unit name", tool: "relation-get", args: []string{"-r", "clients:0", "-", "KCP/0"},
			wantErr: "ERROR invalid unit name \"KCP/0\"\n", wantCode: 2},
		{name: "relation-get outside a relation hook without a unit", tool: "relation-get", args: []string{"-r", "clients:0"},
			wantErr: "ERROR no unit or application specified\n", wantCode: 2},
		{name: "relation-get --app outside a relation hook", tool: "relation-get", args: []string{"-r", "clients:0", "--app"},
			wantErr: "ERROR no unit or application specified\n", wantCode: 2},
		{name: "relation-get without -r outside a relation hook", tool: "relation-get", args: []string{"-", "kcp/0"},
			wantErr: "ERROR no relation id specified\n", wantCode: 2},
		{name: "relation-get of too many arguments", tool: "relation-get", args: []string{"-r", "clients:0", "-", "kcp/0", "x"},
			wantErr: "ERROR unrecognized args: [\"x\"]\n", wantCode: 2},
		{name: "relation-get --app of a unit reads its application", tool: "relation-get",
			setup: func() *hooktoolstest.Juju {
				j := related()
				j.SetRemoteAppData("clients:0", map[string]string{"k": "v"})
				return j
			},
			args: []string{"-r", "clients:0", "--app", "k", "kcp/1"}, wantOut: "v\n"},
		{name: "relation-get --app in a relation hook reads the remote application", tool: "relation-get",
			setup: func() *hooktoolstest.Juju {
				j := inHook()
				j.SetRemoteAppData("clients:0", map[string]string{"k": "v"})
				return j
			},
			args: []string{"--app", "--format=json"}, wantOut: `{"k":"v"}` + "\n"},

		// relation-set
		{name: "relation-set without -r outside a relation hook", tool: "relation-set", args: []string{"a=b"},
			wantErr: "ERROR no relation id specified\n", wantCode: 2},
		{name: "relation-set of a key without a value", tool: "relation-set", args: []string{"-r", "clients:0", "=b"},
			wantErr: "ERROR expected \"key=value\", got \"=b\"\n", wantCode: 2},
		{name: "relation-set of a key twice", tool: "relation-set", args: []string{"-r", "clients:0", "a=1", " a =2"},
			wantErr: "ERROR key \"a\" specified more than once\n", wantCode: 2},
		{name: "relation-set skips empty arguments", tool: "relation-set", args: []string{"-r", "clients:0", "", "a=1"}},
		{name: "relation-set of a missing file", tool: "relation-set", args: []string{"-r", "clients:0", "--file", "/nonexistent/settings.yaml"},
			wantErr: "ERROR open /nonexistent/settings.yaml: no such file or directory\n", wantCode: 1},
		{name: "relation-set --file= reads no file", tool: "relation-set", args: []string{"-r", "clients:0", "--file=", "a=1"}},
		{name: "relation-set --format= is not deprecated", tool: "relation-set", args: []string{"-r", "clients:0", "--format=", "a=1"}},

		// status-set, application-version-set, is-leader
		{name: "status-set of too many arguments", tool: "status-set", args: []string{"active", "ready", "extra"},
			wantErr: "ERROR unrecognized args: [\"extra\"]\n", wantCode: 2},
		{name: "status-set --application needs leadership", tool: "status-set", args: []string{"--application", "active"},
			wantErr: "ERROR this unit is not the leader\n", wantCode: 1},
		{name: "application-version-set without a version", tool: "application-version-set",
			wantErr: "ERROR no version specified\n", wantCode: 2},
		{name: "application-version-set of two versions", tool: "application-version-set", args: []string{"1", "2"},
			wantErr: "ERROR unrecognized args: [\"2\"]\n", wantCode: 2},
		{name: "is-leader refuses arguments", tool: "is-leader", args: []string{"yes"},
			wantErr: "ERROR unrecognized args: [\"yes\"]\n", wantCode: 2},
		{name: "is-leader as YAML", tool: "is-leader", args: []string{"--format=yaml"}, wantOut: "false\n"},

		// juju-log
		{name: "juju-log --format is deprecated, without a newline", tool: "juju-log", args: []string{"--format=json", "hi"},
			wantErr: `--format flag deprecated for command "juju-log"`},
		{name: "juju-log -l without its level", tool: "juju-log", args: []string{"-l"},
			wantErr: "ERROR option needs an argument: -l\n", wantCode: 2},

		// state-*
		{name: "state-get of two keys", tool: "state-get", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "state-get of an empty state as YAML", tool: "state-get", args: []string{"--format=yaml"}, wantOut: "{}\n"},
		{name: "state-get of a missing key", tool: "state-get", args: []string{"--format=json", "nope"}, wantOut: `""` + "\n"},
		{name: "state-set of an argument without =", tool: "state-set", args: []string{"novalue"},
			wantErr: "ERROR expected \"key=value\", got \"novalue\"\n", wantCode: 2},
		{name: "state-delete of two keys", tool: "state-delete", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "state-delete of nothing", tool: "state-delete"},

		// action-*
		{name: "action-get without params prints {}", setup: inAction, tool: "action-get", args: []string{"--format=json"}, wantOut: "{}\n"},
		{name: "action-get of two keys", setup: inAction, tool: "action-get", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "action-set of a bad key", setup: inAction, tool: "action-set", args: []string{"Bad=x"},
			wantErr: "ERROR key \"Bad\" must start and end with lowercase alphanumeric, and contain only lowercase alphanumeric, hyphens and periods\n", wantCode: 2},
		{name: "action-set of an argument without =", setup: inAction, tool: "action-set", args: []string{"novalue"},
			wantErr: "ERROR argument \"novalue\" must be of the form key...=value\n", wantCode: 2},
		{name: "action-set outside an action", tool: "action-set", args: []string{"a=b"},
			wantErr: "ERROR not running an action\n", wantCode: 1},
		{name: "action-fail of two messages", setup: inAction, tool: "action-fail", args: []string{"a", "b"},
			wantErr: "ERROR unrecognized args: [\"b\"]\n", wantCode: 2},
		{name: "action-fail outside an action", tool: "action-fail", args: []string{"boom"},
			wantErr: "ERROR not running an action\n", wantCode: 1},
		{name: "action-log without a message", setup: inAction, tool: "action-log",
			wantErr: "ERROR no message specified\n", wantCode: 2},
		{name: "action-log outside an action", tool: "action-log", args: []string{"hi"},
			wantErr: "ERROR not running an action\n", wantCode: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup := tt.setup
			if setup == nil {
				setup = related
			}
			out, errOut, code := setup().Run(tt.tool, tt.args, nil)
			assert.Equal(t, tt.wantOut, string(out), "stdout")
			assert.Equal(t, tt.wantErr, string(errOut), "stderr")
			assert.Equal(t, tt.wantCode, code, "exit code")
		})
	}
}

// TestOutputFile: -o/--output, which juju/cmd gives every printing tool,
// writes to a file relative to the tool's directory instead of stdout.
func TestOutputFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	j := related()
	for _, args := range [][]string{{"-o", "leader.json", "--format=json"}, {"--output=leader.json", "--format=json"}} {
		out, errOut, code := j.Run("is-leader", args, nil)
		require.Equal(t, 0, code, string(errOut))
		assert.Empty(t, out)
		got, err := os.ReadFile(filepath.Join(dir, "leader.json"))
		require.NoError(t, err)
		assert.Equal(t, "false\n", string(got))
		require.NoError(t, os.Remove(filepath.Join(dir, "leader.json")))
	}
}

func writeFile(name, content string) error { return os.WriteFile(name, []byte(content), 0o600) }
