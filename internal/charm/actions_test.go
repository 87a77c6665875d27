package charm

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRefreshCredentialsListsTheRelations: refresh-credentials says which
// relations the data is on, whether or not this run wrote to them.
func TestRefreshCredentialsListsTheRelations(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.action("refresh-credentials", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	assert.Equal(t, "none", e.juju.Action.Results["relations"], "not related yet")

	cp, workers, cpi := cluster(e)
	e.hook("config-changed")
	want := strings.Join([]string{cp, workers, cpi}, ", ")
	e.action("refresh-credentials", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	assert.Equal(t, "none", e.juju.Action.Results["changed"])
	assert.Equal(t, want, e.juju.Action.Results["relations"], "nothing changed: still on all three")

	e.rotate("Refreshed-Passw0rd")
	e.action("refresh-credentials", nil)
	assert.Equal(t, "password", e.juju.Action.Results["changed"])
	assert.Equal(t, want, e.juju.Action.Results["relations"])
}
