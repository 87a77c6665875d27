package charm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

var refused = hooktoolstest.Fault{Stderr: "ERROR connection is shut down\n", Code: 1}

// TestJujuFaultsAreRetried: a hook whose hook tool fails returns an error
// (main exits non-zero), Juju commits none of its relation or state writes,
// and the retry once the fault clears publishes and sets the true status.
func TestJujuFaultsAreRetried(t *testing.T) {
	tests := []struct {
		tool  string
		fault hooktoolstest.Fault
	}{
		{"config-get", hooktoolstest.Fault{Stdout: "{not json"}},
		{"credential-get", hooktoolstest.Fault{Stdout: "[]"}},
		{"credential-get", refused},
		{"state-get", refused},
		{"relation-ids", refused},
		{"relation-set", refused},
		{"status-set", refused},
		{"state-set", refused},
		{"state-delete", refused},
		{"application-version-set", refused},
	}
	for _, tt := range tests {
		t.Run(tt.tool+" "+strings.TrimSpace(tt.fault.Stdout+tt.fault.Stderr), func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
			// Leave something for state-delete to delete: a key this
			// version does not write, which unit state therefore drops.
			e.juju.State = map[string]string{"status": "active|ready"}
			before := e.juju.LocalData(rel)
			e.juju.InjectFault(tt.tool, tt.fault)
			err := e.hookErr("config-changed")
			require.Error(t, err)
			assert.NotContains(t, err.Error(), e.vc.Password())
			assert.Equal(t, before, e.juju.LocalData(rel), "nothing of the failed hook is committed")
			assert.Equal(t, map[string]string{"status": "active|ready"}, e.juju.State, "nothing of the failed hook is committed")

			e.juju.InjectFault(tt.tool, hooktoolstest.Fault{})
			e.hook("config-changed")
			name, msg := e.status()
			assert.Equal(t, "active", name, msg)
			assert.Len(t, integrationKeys(e.juju.LocalData(rel)), len(relation.Keys), "the retry publishes")
		})
	}
}

// TestNoStaleStatusAfterFault is the reproduction from the issue: with
// state-set and state-delete failing, then fixed, every later event sets
// the true status.
func TestNoStaleStatusAfterFault(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.hook("install")
	e.juju.SetConfig(map[string]any{"datastore": "nope"})
	e.juju.InjectFault("state-set", refused)
	e.juju.InjectFault("state-delete", refused)
	require.Error(t, e.hookErr("config-changed"))
	name, _ := e.status()
	assert.Equal(t, "blocked", name, "status-set is sent at once, outside the transaction")

	e.juju.InjectFault("state-set", hooktoolstest.Fault{})
	e.juju.InjectFault("state-delete", hooktoolstest.Fault{})
	e.juju.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	for _, hook := range []string{"update-status", "config-changed"} {
		e.hook(hook)
		name, msg := e.status()
		assert.Equal(t, "active", name, hook+": "+msg)
	}
}

func integrationKeys(data map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range relation.Keys {
		if v, ok := data[k]; ok {
			out[k] = v
		}
	}
	return out
}

// TestActionsFailOnJujuFaults: an action whose hook tool fails says so with
// action-fail, never a success claiming what did not happen; only when
// action-fail itself fails does the action exit non-zero.
func TestActionsFailOnJujuFaults(t *testing.T) {
	tests := []struct {
		action string
		tool   string
	}{
		{"refresh-credentials", "relation-set"},
		{"refresh-credentials", "state-set"},
		{"verify", "config-get"},
		{"cloud-config", "relation-ids"},
		{"cloud-config", "relation-get"},
		{"check-prerequisites", "relation-list"},
		{"enable-disk-uuid", "action-get"},
	}
	for _, tt := range tests {
		t.Run(tt.action+" "+tt.tool, func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
			if tt.action == "cloud-config" {
				e.hook("config-changed")
			}
			e.rotate("Refreshed-Passw0rd")
			e.juju.InjectFault(tt.tool, refused)
			e.action(tt.action, nil)
			a := e.juju.Action
			assert.True(t, a.Failed, "%s with %s failing must fail", tt.action, tt.tool)
			assert.Contains(t, a.Message, "cannot talk to Juju")
			assert.Contains(t, a.Message, "connection is shut down")
			assert.Empty(t, a.Results, "no result claims what did not happen")
			if tt.tool == "relation-set" {
				assert.NotEqual(t, `"Refreshed-Passw0rd"`, e.juju.LocalData(rel)["password"])
			}
		})
	}

	t.Run("action-fail failing too", func(t *testing.T) {
		e := newEnv(t)
		e.trust()
		e.juju.InjectFault("config-get", refused)
		e.juju.InjectFault("action-fail", refused)
		e.juju.StartAction("verify", nil)
		err := e.runErr(hookenvAction("verify"))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "action-fail")
	})
}

// TestLoginLockout: a credential vCenter rejected is not tried again by
// any hook for 30 minutes; a changed input, verify and refresh-credentials
// try at once.
func TestLoginLockout(t *testing.T) {
	e := newEnv(t)
	e.addSecret("Wrong-Passw0rd")
	e.juju.Trust(e.cloud("Wrong-Passw0rd"))
	e.hook("config-changed")
	name, msg := e.status()
	require.Equal(t, "blocked", name)
	assert.Contains(t, msg, "rejected login")
	assert.Contains(t, msg, "not tried again until 10:30 UTC")
	tried := e.checks.Load()

	for _, hook := range []string{"update-status", "config-changed", "upgrade-charm", "leader-elected", "install"} {
		e.now = e.now.Add(time.Minute)
		e.hook(hook)
		_, got := e.status()
		assert.Equal(t, msg, got, hook)
	}
	assert.Equal(t, tried, e.checks.Load(), "no hook logs in with the rejected credential")

	e.action("verify", nil)
	assert.Equal(t, tried+1, e.checks.Load(), "verify tries at once")
	assert.True(t, e.juju.Action.Failed)
	e.action("refresh-credentials", nil)
	assert.Equal(t, tried+2, e.checks.Load(), "refresh-credentials tries at once")

	e.juju.SetConfig(map[string]any{"user": e.vc.User + "x"})
	e.hook("config-changed")
	assert.Equal(t, tried+3, e.checks.Load(), "a changed input tries at once")

	e.juju.SetConfig(map[string]any{"user": ""})
	e.juju.Trust(e.cloud(e.vc.Password()))
	e.hook("config-changed")
	name, msg = e.status()
	assert.Equal(t, "active", name, msg)
}

// TestStateHashesAreKeyed: what state-get shows cannot be matched against
// a password guess without the unit's key, and a lost key costs one check.
func TestStateHashesAreKeyed(t *testing.T) {
	e := newEnv(t)
	e.trust()
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.hook("config-changed")
	password := e.juju.LocalData(rel)["password"]
	for _, guess := range []string{password, e.vc.Password()} {
		for _, form := range []string{guess, unit + "\x00password\x00" + guess, "password\x00" + guess} {
			sum := sha256.Sum256([]byte(form))
			for _, n := range []int{8, 32} {
				plain := hex.EncodeToString(sum[:n])
				for k, v := range e.juju.State {
					assert.NotContains(t, v, plain, "state %s holds a plain hash of the password", k)
				}
			}
		}
	}

	checks := e.checks.Load()
	e.key = []byte("a-new-key-after-the-old-was-lost")
	e.hook("update-status")
	assert.Equal(t, checks+1, e.checks.Load(), "a lost key costs one check")
	e.hook("update-status")
	assert.Equal(t, checks+1, e.checks.Load(), "and nothing more")
	name, msg := e.status()
	assert.Equal(t, "active", name, msg)
}

func TestLoadKey(t *testing.T) {
	dir := t.TempDir()
	charmDir := filepath.Join(dir, "charm")
	path := KeyPath(charmDir)
	assert.Equal(t, filepath.Join(dir, keyFileName), path, "beside the charm directory, which upgrades replace")
	k1, err := LoadKey(path)
	require.NoError(t, err)
	assert.Len(t, k1, keySize)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "readable by its owner (root) only")
	k2, err := LoadKey(path)
	require.NoError(t, err)
	assert.Equal(t, k1, k2, "the same key every event")

	require.NoError(t, os.WriteFile(path, []byte("short"), 0o600))
	k3, err := LoadKey(path)
	require.NoError(t, err)
	assert.NotEqual(t, k1, k3, "a damaged key is replaced")

	_, err = LoadKey("")
	assert.Error(t, err)
	assert.Equal(t, FallbackKey("m", "u/0"), FallbackKey("m", "u/0"), "stable, so a unit that cannot keep a key stays quiet")
	assert.NotEqual(t, FallbackKey("m", "u/0"), FallbackKey("m", "u/1"))
	_, err = LoadKey(filepath.Join(dir, "missing", "dir", keyFileName))
	assert.Error(t, err)
}

// TestNodeHashIgnoresMapOrder: a unit related twice (clients and nodes)
// with different addresses hashes the same however Go orders the maps.
func TestNodeHashIgnoresMapOrder(t *testing.T) {
	first := ""
	for i := 0; i < 50; i++ {
		ns := nodeSet{}
		ns.set("nodes:12", "kubernetes-worker/0", "10.0.0.2")
		ns.set("clients:3", "kubernetes-worker/0", "10.0.0.1")
		ns.set("clients:10", "kubernetes-worker/0", "10.0.0.3")
		ns.set("clients:3", "kubernetes-worker/1", "10.0.0.4")
		h := ns.hash()
		if first == "" {
			first = h
		}
		require.Equal(t, first, h)
		assert.Equal(t, "10.0.0.1", ns.list()[0].Address, "from the lowest relation")
	}
}

// TestBadValuesNothingPublished: a value no consumer can carry blocks,
// naming the option, and nothing is published.
func TestBadValuesNothingPublished(t *testing.T) {
	for _, tc := range []struct{ option, value string }{
		{"datacenter", "DC0\n"},
		{"user", "   "},
		{"folder", "juju-kubernetes\t"},
	} {
		t.Run(tc.option, func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
			e.juju.SetConfig(map[string]any{tc.option: tc.value})
			e.hook("config-changed")
			name, msg := e.status()
			assert.Equal(t, "blocked", name)
			assert.Contains(t, msg, "invalid "+tc.option+" config")
			assert.Empty(t, integrationKeys(e.juju.LocalData(rel)))
			assert.Zero(t, e.checks.Load(), "nothing to ask vCenter")
		})
	}
}

// TestClassify covers what the vCenter cannot easily be made to say.
func TestClassify(t *testing.T) {
	d := relation.Data{VsphereIP: "vc", User: "u"}
	tests := []struct {
		name    string
		err     error
		outcome outcome
		has     []string
		hasNot  []string
	}{
		{"target error is rejected", &vsphere.TargetError{Field: "thumbprint", Err: errors.New("bad")}, outcomeRejected,
			[]string{"invalid thumbprint", "thumbprint config"}, nil},
		{"no certificate presented", &vsphere.CertificateError{Server: "vc", Err: errors.New("x509")}, outcomeRejected,
			[]string{"ca_cert"}, []string{"thumbprint="}},
		{"certificate presented", &vsphere.CertificateError{Server: "vc", SHA256: "AB:CD", Err: errors.New("x509")}, outcomeRejected,
			[]string{"thumbprint=AB:CD"}, nil},
		{"not a vCenter", &vsphere.NotVCenterError{Server: "vc"}, outcomeRejected, []string{"not a vCenter", "vsphere_ip"}, nil},
		{"unreachable", &vsphere.UnreachableError{Address: "vc:443", Err: errors.New("refused")}, outcomeUnverified,
			[]string{"cannot reach"}, []string{"published unverified"}},
		{"deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), outcomeUnverified, []string{"did not answer within"}, []string{"published"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := classify(d, nil, tt.err, time.Second)
			assert.Equal(t, tt.outcome, r.Outcome)
			for _, s := range tt.has {
				assert.Contains(t, r.Reason, s)
			}
			for _, s := range tt.hasNot {
				assert.NotContains(t, r.Reason, s)
			}
		})
	}
}

// recordOf decodes the unit-state record as the charm keeps it.
func recordOf(t *testing.T, e *env) record {
	t.Helper()
	var r record
	if raw := e.juju.State[stateRecord]; raw != "" {
		require.NoError(t, json.Unmarshal([]byte(raw), &r))
	}
	return r
}
