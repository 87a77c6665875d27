package hooktoolstest_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestSettingsFile: `--file` of relation-set and state-set is read as
// Juju's readSettings does, yaml.v2 into map[string]string: a scalar of any
// YAML type is stored as written, null as "" (which relation-set takes as
// a delete and state-set stores), a repeated key keeps its last value
// (where yaml.v3 refuses it), and a map or list value fails the tool.
func TestSettingsFile(t *testing.T) {
	tests := []struct {
		name      string
		stdin     string
		wantRel   map[string]string // the charm's data afterwards
		wantState map[string]string
		wantErr   string
	}{{
		name:      "non-string scalars keep their text",
		stdin:     "int: 1\noctal: 0755\nfloat: 1.50\nexp: 1e3\nbool: true\nyes: yes\ndate: 2001-12-14\n",
		wantRel:   map[string]string{"int": "1", "octal": "0755", "float": "1.50", "exp": "1e3", "bool": "true", "yes": "yes", "date": "2001-12-14"},
		wantState: map[string]string{"int": "1", "octal": "0755", "float": "1.50", "exp": "1e3", "bool": "true", "yes": "yes", "date": "2001-12-14"},
	}, {
		name:      "non-string keys read as their text",
		stdin:     "1: one\ntrue: yes\n",
		wantRel:   map[string]string{"1": "one", "true": "yes"},
		wantState: map[string]string{"1": "one", "true": "yes"},
	}, {
		name:      "null and empty values",
		stdin:     "kept: x\nnul: null\ntilde: ~\nnothing:\n",
		wantRel:   map[string]string{"kept": "x"},
		wantState: map[string]string{"kept": "x", "nul": "", "tilde": "", "nothing": ""},
	}, {
		name:      "a repeated key keeps the last value",
		stdin:     "a: 1\na: 2\n",
		wantRel:   map[string]string{"a": "2"},
		wantState: map[string]string{"a": "2"},
	}, {
		name:      "binary is decoded",
		stdin:     "a: !!binary aGk=\n",
		wantRel:   map[string]string{"a": "hi"},
		wantState: map[string]string{"a": "hi"},
	}, {
		name:      "an empty or null document sets nothing",
		stdin:     "~\n",
		wantRel:   map[string]string{},
		wantState: nil,
	}, {
		name:    "a map value",
		stdin:   "a: {b: c}\n",
		wantErr: "ERROR yaml: unmarshal errors:\n  line 1: cannot unmarshal !!map into string\n",
	}, {
		name:    "a list value",
		stdin:   "a: [1, 2]\n",
		wantErr: "ERROR yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into string\n",
	}, {
		name:    "a list document",
		stdin:   "- a\n",
		wantErr: "ERROR yaml: unmarshal errors:\n  line 1: cannot unmarshal !!seq into map[string]string\n",
	}, {
		name:    "a scalar document",
		stdin:   "hello\n",
		wantErr: "ERROR yaml: unmarshal errors:\n  line 1: cannot unmarshal !!str `hello` into map[string]string\n",
	}, {
		name:    "not YAML",
		stdin:   "a: b\n\tc: d\n",
		wantErr: "ERROR yaml: line 2: found a tab character that violates indentation\n",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := related()
			_, errOut, code := j.Run("relation-set", []string{"-r", "clients:0", "--file", "-"}, []byte(tt.stdin))
			assert.Equal(t, tt.wantErr, string(errOut), "relation-set")
			_, stateErr, stateCode := j.Run("state-set", []string{"--file", "-"}, []byte(tt.stdin))
			assert.Equal(t, tt.wantErr, string(stateErr), "state-set")
			if tt.wantErr != "" {
				assert.Equal(t, 1, code, "a failure while running")
				assert.Equal(t, 1, stateCode)
				assert.Empty(t, j.CharmData("clients:0"), "nothing set")
				assert.Empty(t, j.State, "nothing set")
				return
			}
			require.Equal(t, 0, code)
			require.Equal(t, 0, stateCode)
			assert.Equal(t, tt.wantRel, j.CharmData("clients:0"))
			if tt.wantState == nil {
				assert.Empty(t, j.State)
			} else {
				assert.Equal(t, tt.wantState, j.State)
			}
		})
	}
}

// TestSettingsFileOverrides: key=value arguments win over the file.
func TestSettingsFileOverrides(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	j := hooktoolstest.New(unit)
	j.AddRelation("clients", "kcp", "kcp/0")
	require.NoError(t, writeFile("settings.yaml", "a: from-file\nb: from-file\n"))
	_, errOut, code := j.Run("state-set", []string{"--file", "settings.yaml", "b=from-arg"}, nil)
	require.Equal(t, 0, code, string(errOut))
	assert.Equal(t, map[string]string{"a": "from-file", "b": "from-arg"}, j.State)
}
