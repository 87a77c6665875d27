package hookenv

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestParse(t *testing.T) {
	base := map[string]string{"JUJU_UNIT_NAME": "vsphere-integrator/0", "JUJU_MODEL_NAME": "k8s"}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		argv0   string
		want    Context
		wantErr error
		anyErr  bool
	}{
		{
			name:  "dispatch hook",
			env:   with(map[string]string{"JUJU_DISPATCH_PATH": "hooks/install"}),
			argv0: "./dispatch",
			want:  Context{Kind: KindHook, Name: "install"},
		},
		{
			name:  "argv0 when JUJU_DISPATCH_PATH is unset (run by hand)",
			env:   base,
			argv0: "/var/lib/juju/agents/unit-vsphere-integrator-0/charm/hooks/config-changed",
			want:  Context{Kind: KindHook, Name: "config-changed"},
		},
		{
			name:  "dispatch path wins over argv0",
			env:   with(map[string]string{"JUJU_DISPATCH_PATH": "hooks/update-status"}),
			argv0: "hooks/install",
			want:  Context{Kind: KindHook, Name: "update-status"},
		},
		{
			name: "relation hook",
			env: with(map[string]string{
				"JUJU_DISPATCH_PATH": "hooks/clients-relation-joined", "JUJU_RELATION": "clients",
				"JUJU_RELATION_ID": "clients:3", "JUJU_REMOTE_UNIT": "kubernetes-worker/1",
			}),
			want: Context{Kind: KindHook, Name: "clients-relation-joined", RelationEndpoint: "clients",
				RelationID: "clients:3", RemoteUnit: "kubernetes-worker/1", RemoteApp: "kubernetes-worker"},
		},
		{
			name: "relation departed names the departing unit",
			env: with(map[string]string{
				"JUJU_DISPATCH_PATH": "hooks/clients-relation-departed", "JUJU_RELATION": "clients",
				"JUJU_RELATION_ID": "clients:3", "JUJU_REMOTE_UNIT": "kubernetes-worker/1",
				"JUJU_REMOTE_APP": "kubernetes-worker", "JUJU_DEPARTING_UNIT": "kubernetes-worker/1",
			}),
			want: Context{Kind: KindHook, Name: "clients-relation-departed", RelationEndpoint: "clients",
				RelationID: "clients:3", RemoteUnit: "kubernetes-worker/1", RemoteApp: "kubernetes-worker",
				DepartingUnit: "kubernetes-worker/1"},
		},
		{
			name: "action",
			env: with(map[string]string{
				"JUJU_DISPATCH_PATH": "actions/verify", "JUJU_ACTION_NAME": "verify", "JUJU_ACTION_UUID": "42",
			}),
			want: Context{Kind: KindAction, Name: "verify", ActionName: "verify", ActionUUID: "42"},
		},
		{
			name:  "action via argv0",
			env:   base,
			argv0: "actions/refresh-credentials",
			want:  Context{Kind: KindAction, Name: "refresh-credentials", ActionName: "refresh-credentials"},
		},
		{name: "nothing to go on", env: base, argv0: "dispatch", wantErr: errNoEvent},
		{name: "empty", env: base, argv0: "", wantErr: errNoEvent},
		{name: "bad dispatch path", env: with(map[string]string{"JUJU_DISPATCH_PATH": "bin/install"}), wantErr: errNoEvent},
		{name: "no unit", env: map[string]string{"JUJU_DISPATCH_PATH": "hooks/install"}, anyErr: true},
		{name: "malformed unit", env: map[string]string{"JUJU_DISPATCH_PATH": "hooks/install", "JUJU_UNIT_NAME": "vsphere"}, anyErr: true},
		{name: "relation hook without id", env: with(map[string]string{"JUJU_DISPATCH_PATH": "hooks/clients-relation-changed"}), anyErr: true},
		{
			name:   "relation id of another endpoint",
			env:    with(map[string]string{"JUJU_DISPATCH_PATH": "hooks/clients-relation-changed", "JUJU_RELATION_ID": "peers:1"}),
			anyErr: true,
		},
		{
			name:   "action name disagrees",
			env:    with(map[string]string{"JUJU_DISPATCH_PATH": "actions/verify", "JUJU_ACTION_NAME": "other"}),
			anyErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(env(tt.env), tt.argv0)
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
				return
			case tt.anyErr:
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			tt.want.Unit = "vsphere-integrator/0"
			tt.want.ModelName = "k8s"
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRelationHook(t *testing.T) {
	tests := []struct {
		ctx           Context
		endpoint, evt string
		ok            bool
	}{
		{Context{Kind: KindHook, Name: "clients-relation-broken"}, "clients", "broken", true},
		{Context{Kind: KindHook, Name: "my-thing-relation-created"}, "my-thing", "created", true},
		{Context{Kind: KindHook, Name: "install"}, "", "", false},
		{Context{Kind: KindAction, Name: "clients-relation-joined"}, "", "", false},
	}
	for _, tt := range tests {
		e, ev, ok := tt.ctx.RelationHook()
		assert.Equal(t, []any{tt.endpoint, tt.evt, tt.ok}, []any{e, ev, ok}, tt.ctx.Name)
	}
}
