package charm

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// closedPort is a loopback address nothing listens on.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// TestStatusTable runs config-changed on each state of the status
// table and checks the status and whether anything was published.
func TestStatusTable(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(e *env)
		status    string
		contains  []string
		published bool
	}{
		{
			name:     "no config credentials and trust not granted",
			setup:    func(e *env) {},
			status:   "blocked",
			contains: []string{"missing credentials access; grant with: juju trust"},
		},
		{
			name:     "some fields missing after the merge",
			setup:    func(e *env) { e.juju.SetConfig(map[string]any{"vsphere_ip": e.vc.URL.Host, "user": "u"}) },
			status:   "blocked",
			contains: []string{"missing password, datacenter", "juju config vsphere-integrator password=", "juju trust"},
		},
		{
			name: "credentials not base64",
			setup: func(e *env) {
				e.juju.SetConfig(map[string]any{"credentials": "not-base64!"})
			},
			status:   "blocked",
			contains: []string{"invalid value for credentials config: not base64"},
		},
		{
			name:     "credentials not JSON",
			setup:    func(e *env) { e.juju.SetConfig(map[string]any{"credentials": b64("password: hunter2")}) },
			status:   "blocked",
			contains: []string{"invalid value for credentials config: not a JSON object"},
		},
		{
			name:     "credentials wrong shape",
			setup:    func(e *env) { e.juju.SetConfig(map[string]any{"credentials": b64(`{"server":"x"}`)}) },
			status:   "blocked",
			contains: []string{"invalid value for credentials config: has none of"},
		},
		{
			name:     "datastore empty",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"datastore": ""}) },
			status:   "blocked",
			contains: []string{"datastore", "must not be empty"},
		},
		{
			name:     "folder empty",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"folder": ""}) },
			status:   "blocked",
			contains: []string{"folder", "must not be empty"},
		},
		{
			name:     "bad vsphere_ip",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"vsphere_ip": "https://vc:99999/sdk"}) },
			status:   "blocked",
			contains: []string{"vsphere_ip"},
		},
		{
			name: "bad ca_cert",
			setup: func(e *env) {
				e.trust()
				e.juju.SetConfig(map[string]any{"ca_cert": "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"})
			},
			status:   "blocked",
			contains: []string{"ca_cert"},
		},
		{
			name:     "bad thumbprint",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"thumbprint": "12:34"}) },
			status:   "blocked",
			contains: []string{"thumbprint"},
		},
		{
			name:     "login rejected",
			setup:    func(e *env) { e.juju.Trust(e.cloud("wrong-password")) },
			status:   "blocked",
			contains: []string{"rejected login", "k8s@vsphere.local", "127.0.0.1"},
		},
		{
			name:     "datacenter not found",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"datacenter": "DC9"}) },
			status:   "blocked",
			contains: []string{"DC9", "not found", "DC0"},
		},
		{
			name:     "datastore not found",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"datastore": "ds9"}) },
			status:   "blocked",
			contains: []string{"datastore 'ds9' not found in datacenter DC0 (available: LocalDS_0)", "datastore config"},
		},
		{
			name:     "folder not found",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"folder": "nope"}) },
			status:   "blocked",
			contains: []string{"nope", "juju-kubernetes"},
		},
		{
			name:     "resource pool not found",
			setup:    func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"respool_path": "nope"}) },
			status:   "blocked",
			contains: []string{"nope", "respool_path"},
		},
		{
			name: "certificate not trusted",
			setup: func(e *env) {
				e.trust()
				e.juju.SetConfig(map[string]any{"ca_cert": vspheretest.UnrelatedCA(e.t)})
			},
			status:   "blocked",
			contains: []string{"not trusted", "thumbprint="},
		},
		{
			name:      "vCenter unreachable",
			setup:     func(e *env) { e.trust(); e.juju.SetConfig(map[string]any{"vsphere_ip": closedPort(e.t)}) },
			status:    "waiting",
			contains:  []string{"will retry"},
			published: true,
		},
		{
			name:      "verified and published",
			setup:     func(e *env) { e.trust() },
			status:    "active",
			contains:  []string{"ready"},
			published: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			rel := e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0")
			tt.setup(e)
			e.hook("config-changed")
			name, msg := e.status()
			assert.Equal(t, tt.status, name, msg)
			for _, c := range tt.contains {
				assert.Contains(t, msg, c)
			}
			if tt.published {
				assert.Len(t, e.juju.CharmData(rel), len(relation.Keys))
			} else {
				assert.Empty(t, e.juju.CharmData(rel), "nothing published while blocked")
			}
			if tt.name == "verified and published" {
				assert.NotEmpty(t, e.juju.ApplicationVersion)
			}
		})
	}
}

// TestExactStatusForCertificate checks the thumbprint in the status is the
// one the simulator presents, so the admin can pin it as told.
func TestExactStatusForCertificate(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.juju.SetConfig(map[string]any{"thumbprint": strings.Repeat("00:", 31) + "00"})
	e.hook("config-changed")
	name, msg := e.status()
	assert.Equal(t, "blocked", name)
	assert.Contains(t, msg, "thumbprint="+e.vc.SHA256)

	e.juju.SetConfig(map[string]any{"thumbprint": e.vc.SHA256})
	e.hook("config-changed")
	name, msg = e.status()
	assert.Equal(t, "active", name, msg)
}

func TestPrecedenceThroughTheCharm(t *testing.T) {
	e := newEnv(t)
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	// The trusted credential names a datacenter that does not exist; the
	// flat option overrides that one field and everything else still comes
	// from trust.
	spec := e.cloud(e.vc.Password())
	spec.Region = "DC-wrong"
	e.juju.Trust(spec)
	e.juju.SetConfig(map[string]any{"datacenter": "DC0"})
	e.hook("config-changed")
	name, msg := e.status()
	require.Equal(t, "active", name, msg)
	got, err := relation.Decode(relation.Databag(e.juju.LocalData(rel)))
	require.NoError(t, err)
	assert.Equal(t, relation.Data{
		VsphereIP: e.vc.URL.Host, User: e.vc.User, Password: e.vc.Password(),
		Datacenter: "DC0", Datastore: "LocalDS_0", Folder: "juju-kubernetes",
	}, got)
}

// TestRelationBytesMatchPython: the published bytes equal what the Python
// charm's json.dumps wrote (testdata/relation.golden, made by
// testdata/relation_gen.py), for a password full of characters that break
// naive encoders.
func TestRelationBytesMatchPython(t *testing.T) {
	e := newEnv(t)
	tricky := "p\"a\\s#s;<>&\u00e9\U0001F600 x"
	e.rotate(tricky)
	e.trust()
	e.juju.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	rels := []string{
		e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0"),
		e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0"),
		e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0"),
	}
	e.hook("config-changed")
	name, msg := e.status()
	require.Equal(t, "active", name, msg)

	want := golden(t, strings.ReplaceAll("127.0.0.1:PORT", "127.0.0.1:PORT", e.vc.URL.Host))
	for _, rel := range rels {
		assert.Equal(t, want, e.juju.CharmData(rel), rel)
	}
}

func golden(t *testing.T, host string) map[string]string {
	f, err := os.Open("testdata/relation.golden")
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "\t")
		require.True(t, ok)
		out[k] = strings.ReplaceAll(v, "127.0.0.1:PORT", host)
	}
	require.Len(t, out, len(relation.Keys))
	return out
}

// TestPublishing follows the values through config change, rotation at
// update-status and unchanged events, counting what is written.
func TestPublishing(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.juju.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	e.hook("install")
	rels := []string{
		e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0"),
		e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0", "kubernetes-worker/1"),
		e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0"),
	}
	for _, rel := range rels {
		e.hook("clients-relation-created", rel)
		e.hook("clients-relation-joined", rel, e.juju.Relations[relNum(rel)].Units[0])
	}
	for _, rel := range rels {
		assert.Len(t, e.juju.CharmData(rel), 7, rel)
	}

	t.Run("joined with unchanged inputs opens no session and writes nothing", func(t *testing.T) {
		checks, mark := e.checks.Load(), len(e.juju.Calls)
		e.hook("clients-relation-joined", rels[1], "kubernetes-worker/1")
		e.hook("clients-relation-changed", rels[1], "kubernetes-worker/1")
		assert.Equal(t, checks, e.checks.Load())
		assert.Empty(t, callsTo(e.callsSince(mark), "relation-set"))
	})

	t.Run("config change republishes only the changed key everywhere", func(t *testing.T) {
		mark := len(e.juju.Calls)
		e.juju.SetConfig(map[string]any{"folder": "/DC0/vm"})
		e.hook("config-changed")
		sets := callsTo(e.callsSince(mark), "relation-set")
		require.Len(t, sets, 3)
		for _, c := range sets {
			assert.Equal(t, "folder: '\"/DC0/vm\"'\n", c.Stdin)
		}
		for _, rel := range rels {
			assert.Equal(t, `"/DC0/vm"`, e.juju.LocalData(rel)["folder"])
		}
	})

	t.Run("unchanged update-status within 30 minutes: no session, no writes", func(t *testing.T) {
		checks, mark := e.checks.Load(), len(e.juju.Calls)
		e.now = e.now.Add(5 * time.Minute)
		e.hook("update-status")
		assert.Equal(t, checks, e.checks.Load())
		assert.Empty(t, callsTo(e.callsSince(mark), "relation-set"))
		assert.Empty(t, callsTo(e.callsSince(mark), "state-set"))
		assert.Len(t, callsTo(e.callsSince(mark), "status-set"), 1, "the status is set from this event's facts, never skipped on a cached copy")
	})

	t.Run("update-status after 30 minutes checks again", func(t *testing.T) {
		checks := e.checks.Load()
		e.now = e.now.Add(31 * time.Minute)
		e.hook("update-status")
		assert.Equal(t, checks+1, e.checks.Load())
	})

	t.Run("rotated cloud credential is republished at update-status", func(t *testing.T) {
		mark := len(e.juju.Calls)
		e.rotate("Rotated-Passw0rd")
		e.hook("update-status")
		name, msg := e.status()
		assert.Equal(t, "active", name, msg)
		sets := callsTo(e.callsSince(mark), "relation-set")
		require.Len(t, sets, 3)
		for _, rel := range rels {
			assert.Equal(t, `"Rotated-Passw0rd"`, e.juju.LocalData(rel)["password"])
		}
	})

	t.Run("rotated to a wrong password: blocked, consumers keep the last good values", func(t *testing.T) {
		e.addSecret("Wrong-Passw0rd")
		e.juju.SetCredential(e.cloud("Wrong-Passw0rd"))
		e.hook("update-status")
		name, msg := e.status()
		assert.Equal(t, "blocked", name)
		assert.Contains(t, msg, e.vc.User)
		for _, rel := range rels {
			assert.Equal(t, `"Rotated-Passw0rd"`, e.juju.LocalData(rel)["password"])
		}
		assert.Contains(t, msg, "not tried again until 11:06 UTC")
		checks := e.checks.Load()
		e.now = e.now.Add(29 * time.Minute)
		e.hook("update-status")
		e.hook("config-changed")
		assert.Equal(t, checks, e.checks.Load(), "a rejected credential is not tried again for 30 minutes: SSO would lock the account")
		e.now = e.now.Add(time.Minute)
		e.hook("update-status")
		assert.Equal(t, checks+1, e.checks.Load(), "then update-status tries it again")
	})

	t.Run("relation broken forgets the relation", func(t *testing.T) {
		e.juju.SetCredential(e.cloud("Rotated-Passw0rd"))
		e.hook("update-status")
		e.juju.BreakRelation(rels[2])
		e.hook("clients-relation-broken", rels[2])
		e.juju.RemoveRelation(rels[2])
		assert.NotContains(t, recordOf(t, e).Published, rels[2])
		// Its unit records go a few at a time, at update-status.
		e.hook("update-status")
		for k := range e.juju.State {
			assert.NotContains(t, k, rels[2])
		}
	})
}

func callsTo(calls []hooktoolstest.Call, tool string) []hooktoolstest.Call {
	var out []hooktoolstest.Call
	for _, c := range calls {
		if c.Tool == tool {
			out = append(out, c)
		}
	}
	return out
}

// TestSessions: config-changed opens exactly one vCenter session and logs
// it out; relation-joined with unchanged inputs opens none.
func TestSessions(t *testing.T) {
	e := newEnv(t)
	e.trust()
	ctx := context.Background()
	before, err := e.vc.SessionCount(ctx)
	require.NoError(t, err)
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")

	e.hook("config-changed")
	assert.EqualValues(t, 1, e.checks.Load())
	after, err := e.vc.SessionCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after, "the session is logged out")

	e.hook("clients-relation-joined", rel, "kubernetes-worker/0")
	assert.EqualValues(t, 1, e.checks.Load(), "relation-joined opens no session")
	assert.Len(t, e.juju.CharmData(rel), 7)
}

// TestPythonCharmSwitch: relation data left by the Python charm (same
// values, Python's encoding) is not rewritten after `juju refresh --switch`.
func TestPythonCharmSwitch(t *testing.T) {
	e := newEnv(t)
	e.trust()
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	left := map[string]string{
		"vsphere_ip": `"` + e.vc.URL.Host + `"`, "user": `"` + e.vc.User + `"`, "password": `"` + e.vc.Password() + `"`,
		"datacenter": `"DC0"`, "datastore": `"LocalDS_0"`, "folder": `"juju-kubernetes"`, "respool_path": `""`,
	}
	e.juju.SetLocalData(rel, left)
	e.juju.SetConfig(map[string]any{"datastore": "LocalDS_0"})
	mark := len(e.juju.Calls)
	e.hook("upgrade-charm")
	name, msg := e.status()
	require.Equal(t, "active", name, msg)
	assert.Empty(t, callsTo(e.callsSince(mark), "relation-set"))
	assert.Equal(t, left, e.juju.CharmData(rel))
}

func TestHooksTheCharmDoesNotHandleChangeNothing(t *testing.T) {
	// stop and remove set the status (TestLeavingEventsSetTheStatus).
	for _, hook := range []string{"secret-changed", "pre-series-upgrade", "collect-metrics", "other-relation-joined"} {
		t.Run(hook, func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			if strings.Contains(hook, "-relation-") {
				e.hook(hook, "other:1", "x/0")
			} else {
				e.hook(hook)
			}
			assert.Empty(t, e.juju.Calls)
		})
	}
}

func TestVerifyAction(t *testing.T) {
	e := newEnv(t)
	e.trust()
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.action("verify", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	r := e.juju.Action.Results
	assert.Equal(t, "/DC0", r["datacenter"])
	assert.Equal(t, "/DC0/datastore/LocalDS_0", r["datastore"])
	assert.Equal(t, "/DC0/vm/juju-kubernetes", r["folder"])
	assert.NotEmpty(t, r["soap-requests"])
	assert.Empty(t, e.juju.CharmData(rel), "verify publishes nothing")

	e.juju.SetConfig(map[string]any{"datastore": "ds9"})
	e.action("verify", nil)
	assert.True(t, e.juju.Action.Failed)
	assert.Contains(t, e.juju.Action.Message, "datastore 'ds9' not found in datacenter DC0 (available: LocalDS_0)")
}

func TestRefreshCredentialsAction(t *testing.T) {
	e := newEnv(t)
	e.trust()
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.hook("config-changed")
	e.rotate("Refreshed-Passw0rd")
	e.action("refresh-credentials", nil)
	require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
	assert.Equal(t, "password", e.juju.Action.Results["changed"])
	assert.Equal(t, `"Refreshed-Passw0rd"`, e.juju.LocalData(rel)["password"])

	e.action("refresh-credentials", nil)
	assert.Equal(t, "none", e.juju.Action.Results["changed"])
}

func TestCloudConfigAction(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.hook("config-changed")
	for _, format := range []string{"in-tree", "cpi", "csi"} {
		t.Run(format, func(t *testing.T) {
			e.action("cloud-config", map[string]any{"format": format})
			require.False(t, e.juju.Action.Failed, e.juju.Action.Message)
			cfg, _ := e.juju.Action.Results["config"].(string)
			assert.Contains(t, cfg, e.vc.URL.Hostname())
			assert.NotContains(t, cfg, e.vc.Password())
		})
	}
	e.action("cloud-config", map[string]any{"format": "in-tree", "show-password": true})
	cfg, _ := e.juju.Action.Results["config"].(string)
	assert.Contains(t, cfg, e.vc.Password(), "asked for")

	// Juju refuses a format outside actions.yaml's enum before the charm runs.
	assert.ErrorContains(t, e.juju.StartAction("cloud-config", map[string]any{"format": "yaml"}), "must match one of the enum values")
}

// TestStatusForEachOutcome: every outcome, and an unusable input, maps to
// a status Juju accepts, with what the charm does about it said once.
func TestStatusForEachOutcome(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		d      decision
		status hooktools.Status
		msg    string
	}{
		{"input", decision{resolveErr: credentials.ErrNoCredentials}, hooktools.StatusBlocked, "missing credentials access; grant with: juju trust"},
		{"verified", decision{record: &checkRecord{Outcome: outcomeVerified, Reason: "ignored"}}, hooktools.StatusActive, "ready"},
		{"verified, a consumer cannot read it", decision{record: &checkRecord{Outcome: outcomeVerified}, consumers: "; vsphere-cloud-provider cannot read: a port or path in vsphere_ip"}, hooktools.StatusActive,
			"ready; vsphere-cloud-provider cannot read: a port or path in vsphere_ip"},
		{"rejected", decision{record: &checkRecord{Outcome: outcomeRejected, Reason: "datastore 'x' not found"}}, hooktools.StatusBlocked, "datastore 'x' not found"},
		{"login rejected", decision{record: &checkRecord{Outcome: outcomeRejected, Reason: "rejected login", LoginRejected: true, At: at}}, hooktools.StatusBlocked,
			"rejected login; not tried again until 10:30 UTC (a config change or the refresh-credentials action tries at once)"},
		{"unverified", decision{record: &checkRecord{Outcome: outcomeUnverified, Reason: "cannot reach vCenter"}}, hooktools.StatusWaiting,
			"cannot reach vCenter; published unverified, will retry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, msg := statusFor(tt.d)
			assert.True(t, s.Valid())
			assert.Equal(t, tt.status, s)
			assert.Equal(t, tt.msg, msg)
		})
	}
}

// TestHangingVCenter: a vCenter that accepts and never answers is reported
// as waiting within about the check's deadline, the values are published
// unverified, and update-status returns to ready once it answers again.
func TestHangingVCenter(t *testing.T) {
	e := newEnv(t)
	e.trust()
	e.checkTimeout = 2 * time.Second
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.vc.Hang()
	start := time.Now()
	e.hook("config-changed")
	elapsed := time.Since(start)
	name, msg := e.status()
	assert.Equal(t, "waiting", name, msg)
	assert.Contains(t, msg, "will retry")
	assert.Len(t, e.juju.CharmData(rel), 7, "published unverified: consumers retry on their own")
	// Generous: the point is "bounded by the deadline", not a timing target.
	assert.Less(t, elapsed, 4*e.checkTimeout)

	e.vc.Resume()
	e.hook("update-status")
	name, msg = e.status()
	assert.Equal(t, "active", name, msg)
}
