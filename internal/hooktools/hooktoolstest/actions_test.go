package hooktoolstest_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestStartActionValidates: with the charm's actions.yaml, StartAction
// checks params with juju/charm's ValidateParams and fills in defaults
// with InsertDefaults, as Juju does before the action runs
// (state.Unit.PrepareActionPayload, and the unit agent's NewActionRunner).
// The repository's own actions.yaml is the schema.
func TestStartActionValidates(t *testing.T) {
	tests := []struct {
		name       string
		action     string
		params     map[string]any
		wantParams map[string]any
		wantErr    string
	}{{
		name:       "defaults fill in",
		action:     "enable-disk-uuid",
		wantParams: map[string]any{"units": []any{}, "dry-run": true},
	}, {
		name:       "given params win over defaults",
		action:     "enable-disk-uuid",
		params:     map[string]any{"units": []string{"kubernetes-worker/1"}, "dry-run": false},
		wantParams: map[string]any{"units": []any{"kubernetes-worker/1"}, "dry-run": false},
	}, {
		name:    "a string for an array",
		action:  "enable-disk-uuid",
		params:  map[string]any{"units": "kubernetes-worker/1"},
		wantErr: "validation failed: (root).units : must be of type array, given \"kubernetes-worker/1\"",
	}, {
		name:    "a string for a boolean",
		action:  "enable-disk-uuid",
		params:  map[string]any{"dry-run": "false"},
		wantErr: "validation failed: (root).dry-run : must be of type boolean, given \"false\"",
	}, {
		name:    "a value outside the enum",
		action:  "cloud-config",
		params:  map[string]any{"format": "yaml"},
		wantErr: "validation failed: (root).format : must match one of the enum values [\"in-tree\",\"cpi\",\"csi\"], given \"yaml\"",
	}, {
		name:    "an unknown param where additionalProperties is false",
		action:  "cloud-config",
		params:  map[string]any{"colour": "blue"},
		wantErr: "validation failed: (root) : additional property \"colour\" is not allowed, given {\"colour\":\"blue\"}",
	}, {
		name:    "an action the charm does not have",
		action:  "reboot",
		wantErr: `action "reboot" not defined on unit "vsphere-integrator/0"`,
	}, {
		name:       "an action without params",
		action:     "verify",
		wantParams: map[string]any{},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := hooktoolstest.New(unit)
			require.NoError(t, j.ReadActionsYAML("../../../actions.yaml"))
			require.NoError(t, j.StartAction("verify", nil))
			err := j.StartAction(tt.action, tt.params)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.Nil(t, j.Action, "the action never runs, nor does the one before")
				return
			}
			require.NoError(t, err)
			got, err := hooktools.New(j.Runner(), nil).ActionGet(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tt.wantParams, got)
		})
	}
}

// TestStartActionWithoutSchema: a Juju given no actions runs any action
// with its params as given, as JSON would carry them.
func TestStartActionWithoutSchema(t *testing.T) {
	j := hooktoolstest.New(unit)
	require.NoError(t, j.StartAction("anything", map[string]any{"n": 2, "units": []string{"a/0"}}))
	assert.Equal(t, map[string]any{"n": 2.0, "units": []any{"a/0"}}, j.Action.Params)
	assert.Error(t, j.StartAction("anything", map[string]any{"f": func() {}}), "not JSON")
	assert.ErrorContains(t, hooktoolstest.New(unit).ReadActionsYAML("no-such-actions.yaml"), "no-such-actions.yaml")
}
