package hooktools_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// call is one tool run the recorder saw.
type call struct {
	Tool  string
	Args  []string
	Stdin string
}

// reply is what the recorder answers to the next call.
type reply struct {
	stdout string
	err    error
}

// recorder is a Runner that records every call and answers from a queue.
type recorder struct {
	calls   []call
	replies []reply
}

func (r *recorder) Run(_ context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	r.calls = append(r.calls, call{Tool: tool, Args: args, Stdin: string(stdin)})
	if len(r.replies) == 0 {
		return nil, nil
	}
	next := r.replies[0]
	r.replies = r.replies[1:]
	return []byte(next.stdout), next.err
}

func jujuError(code int, msg string) error {
	return &hooktools.ExitError{Code: code, Stderr: "ERROR " + msg + "\n"}
}

func TestArgv(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		replies []reply
		run     func(*hooktools.Tools) (any, error)
		want    any
		calls   []call
	}{{
		name:    "config-get",
		replies: []reply{{stdout: `{"datastore":"datastore1","folder":""}` + "\n"}},
		run:     func(h *hooktools.Tools) (any, error) { return h.ConfigGet(ctx) },
		want:    map[string]any{"datastore": "datastore1", "folder": ""},
		calls:   []call{{Tool: "config-get", Args: []string{"--format=json"}}},
	}, {
		name: "credential-get",
		replies: []reply{{stdout: `{"type":"vsphere","name":"vs","region":"DC0","endpoint":"10.0.0.1",` +
			`"credential":{"auth-type":"userpass","attrs":{"user":"u","password":"p"}},` +
			`"cacertificates":["PEM"],"skip-tls-verify":true}`}},
		run: func(h *hooktools.Tools) (any, error) { return h.CredentialGet(ctx) },
		want: hooktools.CloudSpec{
			Type: "vsphere", Name: "vs", Region: "DC0", Endpoint: "10.0.0.1",
			Credential:     &hooktools.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": "u", "password": "p"}},
			CACertificates: []string{"PEM"}, SkipTLSVerify: true,
		},
		calls: []call{{Tool: "credential-get", Args: []string{"--format=json"}}},
	}, {
		name:    "relation-ids",
		replies: []reply{{stdout: `["clients:3","clients:7"]`}},
		run:     func(h *hooktools.Tools) (any, error) { return h.RelationIDs(ctx, "clients") },
		want:    []string{"clients:3", "clients:7"},
		calls:   []call{{Tool: "relation-ids", Args: []string{"--format=json", "clients"}}},
	}, {
		name:    "relation-list",
		replies: []reply{{stdout: `["kubernetes-control-plane/0"]`}},
		run:     func(h *hooktools.Tools) (any, error) { return h.RelationList(ctx, "clients:3") },
		want:    []string{"kubernetes-control-plane/0"},
		calls:   []call{{Tool: "relation-list", Args: []string{"-r", "clients:3", "--format=json"}}},
	}, {
		name:    "relation-get",
		replies: []reply{{stdout: `{"ingress-address":"10.0.0.9"}`}},
		run:     func(h *hooktools.Tools) (any, error) { return h.RelationGet(ctx, "clients:3", "kcp/0") },
		want:    map[string]string{"ingress-address": "10.0.0.9"},
		calls:   []call{{Tool: "relation-get", Args: []string{"-r", "clients:3", "--format=json", "-", "kcp/0"}}},
	}, {
		name:    "relation-get of empty settings",
		replies: []reply{{stdout: "{}\n"}},
		run:     func(h *hooktools.Tools) (any, error) { return h.RelationGet(ctx, "clients:3", "vsphere-integrator/0") },
		want:    map[string]string{},
		calls:   []call{{Tool: "relation-get", Args: []string{"-r", "clients:3", "--format=json", "-", "vsphere-integrator/0"}}},
	}, {
		name: "relation-set puts values on stdin only",
		run: func(h *hooktools.Tools) (any, error) {
			return nil, h.RelationSet(ctx, "clients:3", map[string]string{"password": `"s3cr=t"`, "respool_path": `""`, "gone": ""})
		},
		calls: []call{{
			Tool:  "relation-set",
			Args:  []string{"-r", "clients:3", "--file", "-"},
			Stdin: "gone: \"\"\npassword: '\"s3cr=t\"'\nrespool_path: '\"\"'\n",
		}},
	}, {
		name: "relation-set of nothing runs nothing",
		run:  func(h *hooktools.Tools) (any, error) { return nil, h.RelationSet(ctx, "clients:3", nil) },
	}, {
		name:  "status-set",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.StatusSet(ctx, hooktools.StatusActive, "ready") },
		calls: []call{{Tool: "status-set", Args: []string{"active", "ready"}}},
	}, {
		name:  "status-set with an empty message",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.StatusSet(ctx, hooktools.StatusWaiting, "") },
		calls: []call{{Tool: "status-set", Args: []string{"waiting", ""}}},
	}, {
		name: "status-set message that looks like an option",
		run: func(h *hooktools.Tools) (any, error) {
			return nil, h.StatusSet(ctx, hooktools.StatusBlocked, "--datastore missing")
		},
		calls: []call{{Tool: "status-set", Args: []string{"--", "blocked", "--datastore missing"}}},
	}, {
		name:  "application-version-set",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.ApplicationVersionSet(ctx, "8.0.2") },
		calls: []call{{Tool: "application-version-set", Args: []string{"8.0.2"}}},
	}, {
		name:  "juju-log",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.Log(ctx, hooktools.LevelWarning, "vCenter slow") },
		calls: []call{{Tool: "juju-log", Args: []string{"-l", "WARNING", "vCenter slow"}}},
	}, {
		name:  "juju-log of a message that looks like an option",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.Log(ctx, hooktools.Level("DEBUG"), "-r 3") },
		calls: []call{{Tool: "juju-log", Args: []string{"-l", "DEBUG", "--", "-r 3"}}},
	}, {
		name:    "state-get",
		replies: []reply{{stdout: `{"hash":"abc"}`}},
		run:     func(h *hooktools.Tools) (any, error) { return h.StateGet(ctx) },
		want:    map[string]string{"hash": "abc"},
		calls:   []call{{Tool: "state-get", Args: []string{"--format=json"}}},
	}, {
		name:    "state-get of an empty state prints null",
		replies: []reply{{stdout: "null\n"}},
		run:     func(h *hooktools.Tools) (any, error) { return h.StateGet(ctx) },
		want:    map[string]string{},
		calls:   []call{{Tool: "state-get", Args: []string{"--format=json"}}},
	}, {
		name:    "state-get of one key",
		replies: []reply{{stdout: `"{\"check\":{}}"` + "\n"}},
		run:     func(h *hooktools.Tools) (any, error) { return h.StateGetKey(ctx, "record") },
		want:    `{"check":{}}`,
		calls:   []call{{Tool: "state-get", Args: []string{"--format=json", "record"}}},
	}, {
		name:    "state-get of a key not set prints an empty string",
		replies: []reply{{stdout: `""` + "\n"}},
		run:     func(h *hooktools.Tools) (any, error) { return h.StateGetKey(ctx, "record") },
		want:    "",
		calls:   []call{{Tool: "state-get", Args: []string{"--format=json", "record"}}},
	}, {
		name: "state-set sets on stdin and deletes with state-delete",
		run: func(h *hooktools.Tools) (any, error) {
			return nil, h.StateSet(ctx, map[string]string{"hash": "abc", "b": "", "a": ""})
		},
		calls: []call{
			{Tool: "state-set", Args: []string{"--file", "-"}, Stdin: "hash: abc\n"},
			{Tool: "state-delete", Args: []string{"a"}},
			{Tool: "state-delete", Args: []string{"b"}},
		},
	}, {
		name:    "action-get",
		replies: []reply{{stdout: `{"verbose":true,"filter":{"kind":"ds"}}`}},
		run:     func(h *hooktools.Tools) (any, error) { return h.ActionGet(ctx) },
		want:    map[string]any{"verbose": true, "filter": map[string]any{"kind": "ds"}},
		calls:   []call{{Tool: "action-get", Args: []string{"--format=json"}}},
	}, {
		name: "action-set flattens nested maps into sorted dotted keys",
		run: func(h *hooktools.Tools) (any, error) {
			return nil, h.ActionSet(ctx, map[string]any{
				"result":  "ok",
				"vcenter": map[string]any{"datastores": []string{"ds1", "ds2"}, "version": "8.0"},
				"count":   2,
				"labels":  map[string]string{"a": "b=c"},
			})
		},
		calls: []call{{Tool: "action-set", Args: []string{
			"count=2", "labels.a=b=c", "result=ok", `vcenter.datastores=["ds1","ds2"]`, "vcenter.version=8.0",
		}}},
	}, {
		name:  "action-fail",
		run:   func(h *hooktools.Tools) (any, error) { return nil, h.ActionFail(ctx, "vCenter unreachable") },
		calls: []call{{Tool: "action-fail", Args: []string{"vCenter unreachable"}}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{replies: tt.replies}
			got, err := tt.run(hooktools.New(r, nil))
			require.NoError(t, err)
			if tt.want != nil {
				assert.Equal(t, tt.want, got)
			}
			assert.Equal(t, tt.calls, r.calls)
		})
	}
}

// TestRelationSetStdinRoundTrip checks that whatever the values, Juju's
// YAML reader gets back exactly the strings given.
func TestRelationSetStdinRoundTrip(t *testing.T) {
	values := map[string]string{
		"json-string": `"10.0.0.1"`,
		"empty-json":  `""`,
		"bool-like":   "true",
		"number-like": "0755",
		"null-like":   "null",
		"multi-line":  "a\nb\n",
		"spaces":      "  padded ",
		"unicode":     `"caf\u00e9 ☕"`,
		"yaml-syntax": "- [x]: {y} # z",
	}
	r := &recorder{}
	require.NoError(t, hooktools.New(r, nil).RelationSet(context.Background(), "clients:3", values))
	require.Len(t, r.calls, 1)
	var got map[string]string
	require.NoError(t, yaml.Unmarshal([]byte(r.calls[0].Stdin), &got))
	assert.Equal(t, values, got)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		reply   reply
		run     func(*hooktools.Tools) error
		wantIs  error
		wantMsg string
		noCall  bool
	}{{
		name:    "credential-get before juju trust",
		reply:   reply{err: jujuError(1, "cannot access cloud credentials: permission denied")},
		run:     func(h *hooktools.Tools) error { _, err := h.CredentialGet(ctx); return err },
		wantIs:  hooktools.ErrNotTrusted,
		wantMsg: "cannot access cloud credentials: permission denied",
	}, {
		name:    "unknown relation id",
		reply:   reply{err: jujuError(2, `invalid value "clients:9" for option -r: relation not found`)},
		run:     func(h *hooktools.Tools) error { _, err := h.RelationGet(ctx, "clients:9", "a/0"); return err },
		wantIs:  hooktools.ErrRelationNotFound,
		wantMsg: `invalid value "clients:9" for option -r: relation not found`,
	}, {
		name:   "unknown relation id on old Juju",
		reply:  reply{err: jujuError(2, `invalid value "clients:9" for flag -r: unknown relation id`)},
		run:    func(h *hooktools.Tools) error { _, err := h.RelationList(ctx, "clients:9"); return err },
		wantIs: hooktools.ErrRelationNotFound,
	}, {
		name:   "relation-set on a relation gone",
		reply:  reply{err: jujuError(2, `invalid value "clients:9" for option -r: relation not found`)},
		run:    func(h *hooktools.Tools) error { return h.RelationSet(ctx, "clients:9", map[string]string{"a": "b"}) },
		wantIs: hooktools.ErrRelationNotFound,
	}, {
		name: "relation-get of a unit with no settings",
		reply: reply{err: jujuError(1, `cannot read settings for unit "kcp/9" in relation "kcp:vsphere vsphere-integrator:clients": `+
			`unit "kcp/9": settings not found`)},
		run:    func(h *hooktools.Tools) error { _, err := h.RelationGet(ctx, "clients:3", "kcp/9"); return err },
		wantIs: hooktools.ErrRelationNotFound,
	}, {
		name:   "relation-get of a unit not in the relation",
		reply:  reply{err: jujuError(1, "permission denied")},
		run:    func(h *hooktools.Tools) error { _, err := h.RelationGet(ctx, "clients:3", "other/0"); return err },
		wantIs: hooktools.ErrRelationNotFound,
	}, {
		name:   "tool missing",
		reply:  reply{err: errors.Join(hooktools.ErrToolMissing, errors.New(`exec: "config-get": executable file not found in $PATH`))},
		run:    func(h *hooktools.Tools) error { _, err := h.ConfigGet(ctx); return err },
		wantIs: hooktools.ErrToolMissing,
	}, {
		name:   "output that is not JSON",
		reply:  reply{stdout: "password: hunter2\n"},
		run:    func(h *hooktools.Tools) error { _, err := h.CredentialGet(ctx); return err },
		wantIs: hooktools.ErrBadOutput,
	}, {
		name:   "empty output",
		reply:  reply{stdout: ""},
		run:    func(h *hooktools.Tools) error { _, err := h.ConfigGet(ctx); return err },
		wantIs: hooktools.ErrBadOutput,
	}, {
		name:   "JSON of the wrong shape",
		reply:  reply{stdout: `{"a":1}`},
		run:    func(h *hooktools.Tools) error { _, err := h.RelationGet(ctx, "clients:3", "a/0"); return err },
		wantIs: hooktools.ErrBadOutput,
	}, {
		name:   "invalid status is refused before running",
		run:    func(h *hooktools.Tools) error { return h.StatusSet(ctx, "error", "boom") },
		wantIs: hooktools.ErrInvalidArgument,
		noCall: true,
	}, {
		name:   "unknown status is refused before running",
		run:    func(h *hooktools.Tools) error { return h.StatusSet(ctx, "unknown", "") },
		wantIs: hooktools.ErrInvalidArgument,
		noCall: true,
	}, {
		name:   "invalid action-set key is refused before running",
		run:    func(h *hooktools.Tools) error { return h.ActionSet(ctx, map[string]any{"Bad_Key": "x"}) },
		wantIs: hooktools.ErrInvalidArgument,
		noCall: true,
	}, {
		name:   "reserved action-set key is refused before running",
		run:    func(h *hooktools.Tools) error { return h.ActionSet(ctx, map[string]any{"stdout": "x"}) },
		wantIs: hooktools.ErrInvalidArgument,
		noCall: true,
	}, {
		name:    "other failure keeps the exit error",
		reply:   reply{err: jujuError(1, "not running an action")},
		run:     func(h *hooktools.Tools) error { return h.ActionFail(ctx, "x") },
		wantMsg: "not running an action",
	}, {
		name:    "permission denied elsewhere is not about trust",
		reply:   reply{err: jujuError(1, "permission denied")},
		run:     func(h *hooktools.Tools) error { return h.StatusSet(ctx, hooktools.StatusActive, "") },
		wantMsg: "permission denied",
	}}
	sentinels := []error{hooktools.ErrNotTrusted, hooktools.ErrRelationNotFound, hooktools.ErrToolMissing, hooktools.ErrBadOutput, hooktools.ErrInvalidArgument}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{replies: []reply{tt.reply}}
			err := tt.run(hooktools.New(r, nil))
			require.Error(t, err)
			var te *hooktools.ToolError
			require.ErrorAs(t, err, &te)
			for _, s := range sentinels {
				assert.Equal(t, s == tt.wantIs, errors.Is(err, s), "errors.Is(err, %v)", s)
			}
			if tt.wantMsg != "" {
				assert.Equal(t, tt.wantMsg, te.Message)
			}
			var exit *hooktools.ExitError
			assert.Equal(t, errors.As(tt.reply.err, &exit), errors.As(err, &exit), "the *ExitError stays reachable")
			if tt.noCall {
				assert.Empty(t, r.calls)
			}
			assert.NotContains(t, err.Error(), "hunter2", "tool output never reaches the error")
		})
	}
}
