package hooktoolstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

const unit = "vsphere-integrator/0"

// related is a unit related to two kubernetes-control-plane units on
// "clients:0", the first of which has published its address.
func related() *hooktoolstest.Juju {
	j := hooktoolstest.New(unit)
	id := j.AddRelation("clients", "kcp", "kcp/0", "kcp/1")
	j.SetRemoteData(id, "kcp/0", map[string]string{"ingress-address": "10.0.0.9"})
	return j
}

func TestRun(t *testing.T) {
	tests := []struct {
		name     string
		setup    func() *hooktoolstest.Juju
		tool     string
		args     []string
		stdin    string
		wantOut  string
		wantErr  string // stderr
		wantCode int
		check    func(t *testing.T, j *hooktoolstest.Juju)
	}{{
		name: "config-get prints every option with a value",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.SetConfig(map[string]any{"datastore": "datastore1", "folder": "", "unset": nil})
			return j
		},
		tool:    "config-get",
		args:    []string{"--format=json"},
		wantOut: `{"datastore":"datastore1","folder":""}` + "\n",
	}, {
		name: "config-get --all shows options without a value",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.SetConfig(map[string]any{"unset": nil})
			return j
		},
		tool:    "config-get",
		args:    []string{"--all", "--format", "json"},
		wantOut: `{"unset":null}` + "\n",
	}, {
		name: "config-get of one key in smart format",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.SetConfig(map[string]any{"datastore": "datastore1"})
			return j
		},
		tool:    "config-get",
		args:    []string{"datastore"},
		wantOut: "datastore1\n",
	}, {
		name:     "credential-get before trust",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "credential-get",
		args:     []string{"--format=json"},
		wantErr:  "ERROR cannot access cloud credentials: permission denied\n",
		wantCode: 1,
	}, {
		name: "credential-get after trust",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.Trust(hooktoolstest.CloudSpec{Type: "vsphere", Endpoint: "vc", Credential: &hooktoolstest.CloudCredential{
				AuthType: "userpass", Attrs: map[string]string{"user": "u", "password": "p"},
			}})
			return j
		},
		tool: "credential-get",
		args: []string{"--format=json"},
		// type and name always, auth-type always within a credential.
		wantOut: `{"type":"vsphere","name":"","endpoint":"vc","credential":{"auth-type":"userpass","attrs":{"password":"p","user":"u"}}}` + "\n",
	}, {
		name: "credential-get of a trusted model without a spec prints its keys",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.Trusted = true
			return j
		},
		tool:    "credential-get",
		args:    []string{"--format=json"},
		wantOut: `{"type":"","name":""}` + "\n",
	}, {
		name:     "credential-get refuses arguments",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "credential-get",
		args:     []string{"--format=json", "extra"},
		wantErr:  "ERROR unrecognized args: [\"extra\"]\n",
		wantCode: 2,
	}, {
		name: "relation-ids sorts as strings",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			for range 11 {
				j.AddRelation("clients", "kcp")
			}
			j.AddRelation("other", "x")
			return j
		},
		tool:    "relation-ids",
		args:    []string{"--format=json", "clients"},
		wantOut: `["clients:0","clients:1","clients:10","clients:2","clients:3","clients:4","clients:5","clients:6","clients:7","clients:8","clients:9"]` + "\n",
	}, {
		name:    "relation-ids of an endpoint with no relation",
		setup:   func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:    "relation-ids",
		args:    []string{"--format=json", "clients"},
		wantOut: "[]\n",
	}, {
		name:     "relation-ids needs a name outside relation hooks",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "relation-ids",
		args:     []string{"--format=json"},
		wantErr:  "ERROR no endpoint name specified\n",
		wantCode: 2,
	}, {
		name: "relation-ids defaults to the hook's endpoint",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.AddRelation("other", "x")
			j.HookRelation = "clients:0"
			return j
		},
		tool:    "relation-ids",
		args:    []string{"--format=json"},
		wantOut: `["clients:0"]` + "\n",
	}, {
		name:     "relation-ids refuses a second name",
		setup:    related,
		tool:     "relation-ids",
		args:     []string{"clients", "other"},
		wantErr:  "ERROR unrecognized args: [\"other\"]\n",
		wantCode: 2,
	}, {
		name: "relation-ids leaves out a broken relation",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.AddRelation("clients", "kw", "kw/0")
			j.BreakRelation("clients:0")
			return j
		},
		tool:    "relation-ids",
		args:    []string{"clients"},
		wantOut: "clients:1\n",
	}, {
		name:    "relation-list",
		setup:   related,
		tool:    "relation-list",
		args:    []string{"-r", "clients:0", "--format=json"},
		wantOut: `["kcp/0","kcp/1"]` + "\n",
	}, {
		name: "relation-list after a unit departed",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.DepartUnit("clients:0", "kcp/0")
			return j
		},
		tool:    "relation-list",
		args:    []string{"-r", "clients:0", "--format=json"},
		wantOut: `["kcp/1"]` + "\n",
	}, {
		name:     "relation-list of an unknown relation",
		setup:    related,
		tool:     "relation-list",
		args:     []string{"-r", "clients:9", "--format=json"},
		wantErr:  "ERROR invalid value \"clients:9\" for option -r: relation not found\n",
		wantCode: 2,
	}, {
		name:     "relation-list of a malformed relation id",
		setup:    related,
		tool:     "relation-list",
		args:     []string{"-r", "clients", "--format=json"},
		wantErr:  "ERROR invalid value \"clients\" for option -r: invalid relation id\n",
		wantCode: 2,
	}, {
		name:     "relation-list without -r outside relation hooks",
		setup:    related,
		tool:     "relation-list",
		args:     []string{"--format=json"},
		wantErr:  "ERROR no relation id specified\n",
		wantCode: 2,
	}, {
		name: "relation-list defaults to the hook's relation",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.HookRelation = "clients:0"
			return j
		},
		tool:    "relation-list",
		args:    []string{"--format=json"},
		wantOut: `["kcp/0","kcp/1"]` + "\n",
	}, {
		name:    "relation-get of a remote unit",
		setup:   related,
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "-", "kcp/0"},
		wantOut: `{"ingress-address":"10.0.0.9"}` + "\n",
	}, {
		name:    "relation-get of one key",
		setup:   related,
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "ingress-address", "kcp/0"},
		wantOut: `"10.0.0.9"` + "\n",
	}, {
		name:    "relation-get of a missing key",
		setup:   related,
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "nope", "kcp/0"},
		wantOut: "null\n",
	}, {
		name:    "relation-get of the local unit",
		setup:   related,
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "-", unit},
		wantOut: `{"egress-subnets":"10.0.0.100/32","ingress-address":"10.0.0.100","private-address":"10.0.0.100"}` + "\n",
	}, {
		name: "relation-get of a unit with no address Juju knows",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.Address, j.EgressSubnets = "", ""
			j.AddRelation("clients", "kcp", "kcp/0")
			return j
		},
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "-", unit},
		wantOut: "{}\n",
	}, {
		name: "relation-get of a departed unit still reads",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.DepartUnit("clients:0", "kcp/0")
			return j
		},
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "-", "kcp/0"},
		wantOut: `{"ingress-address":"10.0.0.9"}` + "\n",
	}, {
		name:     "relation-get of a unit never in the relation",
		setup:    related,
		tool:     "relation-get",
		args:     []string{"-r", "clients:0", "--format=json", "-", "kcp/7"},
		wantErr:  "ERROR cannot read settings for unit \"kcp/7\" in relation \"vsphere-integrator:clients kcp\": unit \"kcp/7\": settings not found\n",
		wantCode: 1,
	}, {
		name:     "relation-get of a unit of another application",
		setup:    related,
		tool:     "relation-get",
		args:     []string{"-r", "clients:0", "--format=json", "-", "other/0"},
		wantErr:  "ERROR permission denied\n",
		wantCode: 1,
	}, {
		name: "relation-get --app of the remote application",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.SetRemoteAppData("clients:0", map[string]string{"k": "v"})
			return j
		},
		tool:    "relation-get",
		args:    []string{"--app", "-r", "clients:0", "--format=json", "-", "kcp"},
		wantOut: `{"k":"v"}` + "\n",
	}, {
		name:     "relation-get --app of its own application needs leadership",
		setup:    related,
		tool:     "relation-get",
		args:     []string{"--app", "-r", "clients:0", "--format=json", "-", "vsphere-integrator"},
		wantErr:  "ERROR permission denied\n",
		wantCode: 1,
	}, {
		name: "relation-get defaults to the hook's remote unit",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.HookRelation, j.RemoteUnit = "clients:0", "kcp/0"
			return j
		},
		tool:    "relation-get",
		args:    []string{"--format=json"},
		wantOut: `{"ingress-address":"10.0.0.9"}` + "\n",
	}, {
		name:     "relation-get refuses unknown options",
		setup:    related,
		tool:     "relation-get",
		args:     []string{"-r", "clients:0", "--bogus", "-", "kcp/0"},
		wantErr:  "ERROR option provided but not defined: --bogus\n",
		wantCode: 2,
	}, {
		name:  "relation-set from stdin; empty deletes; arguments override",
		setup: related,
		tool:  "relation-set",
		args:  []string{"-r", "clients:0", "--file", "-", "user=admin"},
		stdin: "user: ignored\npassword: '\"s3cret\"'\nrespool_path: '\"\"'\ngone: ''\n",
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]string{"user": "admin", "password": `"s3cret"`, "respool_path": `""`}, j.CharmData("clients:0"))
		},
	}, {
		name: "relation-set with an empty value deletes",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.SetLocalData("clients:0", map[string]string{"a": "1", "b": "2", "c": "3"})
			return j
		},
		tool: "relation-set",
		args: []string{"-r", "clients:0", "--file=-"},
		// A YAML null, or no value at all, reads as empty too.
		stdin: "a: \"\"\nb: null\nc:\n",
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Empty(t, j.CharmData("clients:0"))
		},
	}, {
		name:  "relation-set may delete the addresses Juju wrote",
		setup: related,
		tool:  "relation-set",
		args:  []string{"-r", "clients:0", "private-address="},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]string{"ingress-address": "10.0.0.100", "egress-subnets": "10.0.0.100/32"}, j.LocalData("clients:0"))
			assert.Equal(t, map[string]string{}, j.CharmData("clients:0"))
		},
	}, {
		name:     "relation-set --app needs leadership",
		setup:    related,
		tool:     "relation-set",
		args:     []string{"-r", "clients:0", "--app", "k=v"},
		wantErr:  "ERROR cannot write relation settings\n",
		wantCode: 1,
	}, {
		name: "relation-set --app as leader",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.SetLeader(true)
			return j
		},
		tool: "relation-set",
		args: []string{"-r", "clients:0", "--app", "k=v"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]string{"k": "v"}, j.Relations[0].AppData["vsphere-integrator"])
			assert.Empty(t, j.CharmData("clients:0"))
		},
	}, {
		name:     "relation-set of an unknown relation",
		setup:    related,
		tool:     "relation-set",
		args:     []string{"-r", "clients:5", "--file", "-"},
		stdin:    "a: b\n",
		wantErr:  "ERROR invalid value \"clients:5\" for option -r: relation not found\n",
		wantCode: 2,
	}, {
		name:     "relation-set of a YAML that is not a map of strings",
		setup:    related,
		tool:     "relation-set",
		args:     []string{"-r", "clients:0", "--file", "-"},
		stdin:    "a: {b: c}\n",
		wantErr:  "ERROR yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into string\n",
		wantCode: 1,
	}, {
		name:     "relation-set of a malformed argument",
		setup:    related,
		tool:     "relation-set",
		args:     []string{"-r", "clients:0", "novalue"},
		wantErr:  "ERROR expected \"key=value\", got \"novalue\"\n",
		wantCode: 2,
	}, {
		name:    "relation-set --format is deprecated, not refused",
		setup:   related,
		tool:    "relation-set",
		args:    []string{"-r", "clients:0", "--format=json", "a=b"},
		wantErr: `--format flag deprecated for command "relation-set"`,
	}, {
		name:  "status-set records each call",
		setup: func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:  "status-set",
		args:  []string{"--", "blocked", "-x missing"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, hooktoolstest.Status{Name: "blocked", Message: "-x missing"}, j.Status)
			assert.Len(t, j.StatusHistory, 1)
		},
	}, {
		name:     "status-set refuses statuses Juju keeps for itself",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "status-set",
		args:     []string{"error", "boom"},
		wantErr:  "ERROR invalid status \"error\", expected one of [maintenance blocked waiting active]\n",
		wantCode: 2,
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Empty(t, j.StatusHistory)
		},
	}, {
		name:     "status-set without a status",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "status-set",
		wantErr:  "ERROR invalid args, require <status> [message]\n",
		wantCode: 2,
	}, {
		name:     "status-set takes a message that looks like an option for one",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "status-set",
		args:     []string{"blocked", "-x"},
		wantErr:  "ERROR option provided but not defined: -x\n",
		wantCode: 2,
	}, {
		name:  "application-version-set",
		setup: func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:  "application-version-set",
		args:  []string{"8.0.2"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, "8.0.2", j.ApplicationVersion)
		},
	}, {
		name:    "is-leader",
		setup:   func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:    "is-leader",
		args:    []string{"--format=json"},
		wantOut: "false\n",
	}, {
		name:    "is-leader in smart format",
		setup:   related,
		tool:    "is-leader",
		wantOut: "False\n",
	}, {
		name:     "is-leader of an unknown format",
		setup:    related,
		tool:     "is-leader",
		args:     []string{"--format=xml"},
		wantErr:  "ERROR invalid value \"xml\" for option --format: unknown format \"xml\"\n",
		wantCode: 2,
	}, {
		name: "juju-log prefixes the hook's relation",
		setup: func() *hooktoolstest.Juju {
			j := related()
			j.HookRelation = "clients:0"
			return j
		},
		tool: "juju-log",
		args: []string{"-l", "WARNING", "vCenter", "slow"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, []hooktoolstest.LogEntry{{Level: "WARNING", Message: "clients:0: vCenter slow"}}, j.Logs)
		},
	}, {
		name:  "juju-log of an unknown level logs at INFO",
		setup: func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:  "juju-log",
		args:  []string{"--log-level=LOUD", "hi"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, []hooktoolstest.LogEntry{
				{Level: "WARNING", Message: `Specified log level of "LOUD" is not valid`},
				{Level: "INFO", Message: "hi"},
			}, j.Logs)
		},
	}, {
		name:     "juju-log without a message",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "juju-log",
		args:     []string{"-l", "INFO"},
		wantErr:  "ERROR no message specified\n",
		wantCode: 2,
	}, {
		name:    "state-get of an empty state prints null",
		setup:   func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:    "state-get",
		args:    []string{"--format=json"},
		wantOut: "null\n",
	}, {
		name:  "state-set stores an empty value; state-get shows it",
		setup: func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:  "state-set",
		args:  []string{"--file", "-"},
		stdin: "hash: abc\nempty: ''\n",
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]string{"hash": "abc", "empty": ""}, j.State)
		},
	}, {
		name: "state-delete",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.State = map[string]string{"a": "1", "b": "2"}
			return j
		},
		tool: "state-delete",
		args: []string{"a"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]string{"b": "2"}, j.State)
		},
	}, {
		name:     "state-get --strict of a missing key",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "state-get",
		args:     []string{"--strict", "nope"},
		wantErr:  "ERROR \"nope\" not found\n",
		wantCode: 1,
	}, {
		name:     "action-get outside an action",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "action-get",
		args:     []string{"--format=json"},
		wantErr:  "ERROR not running an action\n",
		wantCode: 1,
	}, {
		name: "action-get of a nested key",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.StartAction("verify", map[string]any{"filter": map[string]any{"kind": "ds"}}))
			return j
		},
		tool:    "action-get",
		args:    []string{"--format=json", "filter.kind"},
		wantOut: `"ds"` + "\n",
	}, {
		name: "action-set nests dotted keys",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.StartAction("verify", nil))
			return j
		},
		tool: "action-set",
		args: []string{"vcenter.version=8.0", "vcenter.host=vc=1", "result=ok"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, map[string]any{
				"result":  "ok",
				"vcenter": map[string]any{"version": "8.0", "host": "vc=1"},
			}, j.Action.Results)
		},
	}, {
		name: "action-set refuses a reserved key",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.StartAction("verify", nil))
			return j
		},
		tool:     "action-set",
		args:     []string{"stdout=x"},
		wantErr:  "ERROR cannot set reserved action key \"stdout\"\n",
		wantCode: 2,
	}, {
		name: "action-fail without a message",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.StartAction("verify", nil))
			return j
		},
		tool: "action-fail",
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.True(t, j.Action.Failed)
			assert.Equal(t, "action failed without reason given, check action for errors", j.Action.Message)
		},
	}, {
		name: "action-log",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.StartAction("verify", nil))
			return j
		},
		tool: "action-log",
		args: []string{"logging", "in"},
		check: func(t *testing.T, j *hooktoolstest.Juju) {
			assert.Equal(t, []string{"logging in"}, j.Action.Logs)
		},
	}, {
		name: "an injected fault answers instead of the tool",
		setup: func() *hooktoolstest.Juju {
			j := hooktoolstest.New(unit)
			j.InjectFault("is-leader", hooktoolstest.Fault{Stdout: "maybe\n"})
			return j
		},
		tool:    "is-leader",
		args:    []string{"--format=json"},
		wantOut: "maybe\n",
	}, {
		name:     "an unknown tool",
		setup:    func() *hooktoolstest.Juju { return hooktoolstest.New(unit) },
		tool:     "goal-state",
		wantErr:  "ERROR bad request: unknown command: goal-state\n",
		wantCode: 1,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := tt.setup()
			var stdin []byte
			if tt.stdin != "" {
				stdin = []byte(tt.stdin)
			}
			out, errOut, code := j.Run(tt.tool, tt.args, stdin)
			assert.Equal(t, tt.wantOut, string(out), "stdout")
			assert.Equal(t, tt.wantErr, string(errOut), "stderr")
			assert.Equal(t, tt.wantCode, code, "exit code")
			assert.Equal(t, []hooktoolstest.Call{{Tool: tt.tool, Args: tt.args, Stdin: tt.stdin}}, j.Calls)
			if tt.check != nil {
				tt.check(t, j)
			}
		})
	}
}
