package charm

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeRows are the README's table rows by the name in their first cell
// ("| `verify` | ...").
func readmeRows(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	rows := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		if name, ok := strings.CutPrefix(line, "| `"); ok {
			if i := strings.Index(name, "`"); i > 0 {
				rows[name[:i]] = line
			}
		}
	}
	return rows
}

// TestREADMEActionResults: every result key an action sets is named in the
// README's row for that action, so the table says what the actions do.
func TestREADMEActionResults(t *testing.T) {
	rows := readmeRows(t)
	e := newEnv(t)
	e.trust()
	cluster(e)
	e.hook("install")
	for _, tc := range []struct {
		action string
		params map[string]any
	}{
		{"verify", nil},
		{"refresh-credentials", nil},
		{"cloud-config", nil},
		{"check-prerequisites", nil},
		{"enable-disk-uuid", nil},
		{"enable-disk-uuid", map[string]any{"dry-run": false}},
		{"test-volume", nil},
		{"storage-class", nil},
	} {
		t.Run(tc.action, func(t *testing.T) {
			e.action(tc.action, tc.params)
			a := e.juju.Action
			require.False(t, a.Failed, a.Message)
			row, ok := rows[tc.action]
			require.True(t, ok, "README has no row for %s", tc.action)
			for k := range a.Results {
				assert.Contains(t, row, "`"+k, "README's %s row does not name result %q", tc.action, k)
			}
		})
	}
}
