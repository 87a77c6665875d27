package charm

import (
	"bytes"
	"context"
	"errors"
	"html"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// hostilePassword differs in every escaping: XML, JSON, URL.
const hostilePassword = `S3cr&t<"pw">/x?y#z`

// assertNotJujuFault: the event ended as a fault outside Juju must, in a
// status, never in a failed hook or "cannot talk to Juju".
func assertNotJujuFault(t *testing.T, e *env) {
	t.Helper()
	for _, l := range e.juju.Logs {
		assert.NotContains(t, l.Message, "cannot talk to Juju")
	}
	if e.juju.Action != nil {
		assert.NotContains(t, e.juju.Action.Message, "cannot talk to Juju")
		assert.NotContains(t, e.juju.Action.Message, "exit status")
	}
}

// TestLongOperatorInput is the case 4: an option far longer than
// any vCenter name blocks the unit naming the option and its length,
// never quoting it; the hook exits 0 and publishes nothing; verify fails
// with the same reason, not with "cannot talk to Juju".
func TestLongOperatorInput(t *testing.T) {
	for _, tt := range []struct {
		option string
		length int
	}{
		{"datastore", 70_000},
		{"datastore", 140_000},
		{"user", 140_000},
	} {
		t.Run(tt.option+" "+strconv.Itoa(tt.length), func(t *testing.T) {
			e := newEnv(t)
			e.trust()
			rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
			e.juju.SetConfig(map[string]any{tt.option: strings.Repeat("x", tt.length)})
			require.NoError(t, e.hookErr("config-changed"), "a fault outside Juju exits 0")
			name, msg := e.status()
			assert.Equal(t, "blocked", name)
			assert.Contains(t, msg, "option '"+tt.option+"' is "+strconv.Itoa(tt.length)+" bytes long")
			assert.NotContains(t, msg, "xxxxxxxx")
			assert.Empty(t, integrationKeys(e.juju.LocalData(rel)), "nothing published")
			assert.Zero(t, e.checks.Load(), "vCenter not asked")

			e.action("verify", nil)
			require.True(t, e.juju.Action.Failed)
			assert.Contains(t, e.juju.Action.Message, "option '"+tt.option+"'")
			assert.NotContains(t, e.juju.Action.Message, "xxxxxxxx")
			assertNotJujuFault(t, e)
		})
	}
}

// TestUserInfoInVsphereIP is the case 5: an address with user info
// is refused, and no part of it is repeated anywhere.
func TestUserInfoInVsphereIP(t *testing.T) {
	for _, addr := range []string{
		"https://admin:S3cret/x@vc.example/sdk",
		"https://admin:S3cret#x@vc.example/sdk",
		"https://admin:S3cret?x@vc.example/sdk",
		"admin:S3cret@vc.example",
	} {
		t.Run(addr, func(t *testing.T) {
			e := newEnv(t)
			e.addSecret("S3cret") // the audit looks for it everywhere
			e.trust()
			e.juju.SetConfig(map[string]any{"vsphere_ip": addr})
			e.hook("config-changed")
			name, msg := e.status()
			assert.Equal(t, "blocked", name)
			assert.Equal(t, "option 'vsphere_ip' (or the credential endpoint) holds user info ('user@' before the host); give the user in the 'user' option", msg)
			assert.NotContains(t, msg, "vc.example")
			e.action("verify", nil)
			assert.Equal(t, msg, e.juju.Action.Message)
		})
	}
}

// TestLoginFaultQuotesPassword is the case 1, end to end: a server
// on the vCenter address answers Login with a SOAP fault quoting the
// refused request. No form of the password reaches the status, juju-log,
// unit state, or the action-fail of verify and check-prerequisites (the
// audit every test runs checks each of them, and every hook tool's argv).
func TestLoginFaultQuotesPassword(t *testing.T) {
	e := newEnv(t)
	e.rotate(hostilePassword)
	e.trust()
	h := vspheretest.NewHostile(t, e.vc)
	quoted := "Request rejected: <Login><userName>" + e.vc.User + "</userName><password>" + html.EscapeString(hostilePassword) + "</password></Login>"
	h.SetScript(func(req vspheretest.Request, _ func() vspheretest.Answer) *vspheretest.Answer {
		if req.Method != "Login" {
			return nil
		}
		return &vspheretest.Answer{Status: 500, Body: vspheretest.Fault(quoted+" raw: "+hostilePassword, `<InvalidRequestFault xmlns="urn:vim25" xsi:type="InvalidRequest"></InvalidRequestFault>`)}
	})
	e.juju.SetConfig(map[string]any{"vsphere_ip": h.URL.Host})
	rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.place(rel, "kubernetes-worker/0", "", "10.0.0.9", "")
	require.NoError(t, e.hookErr("config-changed"))
	logins := 0
	for _, r := range h.Requests() {
		if r.Method == "Login" {
			logins++
		}
	}
	require.Positive(t, logins, "the check reached the hostile server's Login")
	name, msg := e.status()
	assert.Contains(t, []string{"blocked", "waiting"}, name, msg)
	require.NotEmpty(t, e.juju.State[stateRecord], "a record kept")
	e.action("verify", nil)
	assert.True(t, e.juju.Action.Failed)
	e.action("check-prerequisites", nil)
	assert.True(t, e.juju.Action.Failed)
	assertNotJujuFault(t, e)
}

// quotingVCenter is a vCenter whose every answer quotes what it was given,
// the password in each escaping, at great length: what the simulator
// cannot be made to say. It stands for a vsphere package that let the
// server's text through, so that these tests prove the hook tools layer
// alone keeps the promise.
type quotingVCenter struct {
	err error
	rep *vsphere.Report
}

func (q quotingVCenter) Check(context.Context, vsphere.Target) (*vsphere.Report, error) {
	return q.rep, q.err
}

func (q quotingVCenter) EnableDiskUUID(context.Context, vsphere.Target, bool) (*vsphere.DiskUUIDReport, error) {
	return nil, q.err
}

func (q quotingVCenter) TestVolume(context.Context, vsphere.Target, int) (*vsphere.VolumeReport, error) {
	return nil, q.err
}

func (q quotingVCenter) Dedicate(context.Context, vsphere.Target, vsphere.DedicateRequest) (*vsphere.DedicateReport, error) {
	return nil, q.err
}

func (q quotingVCenter) Identities(context.Context, vsphere.Target, string) ([]vsphere.Identity, *vsphere.DedicateReport, error) {
	return nil, nil, q.err
}

// echo is 200 KB of server text with the password in every form in it.
func echo(password string) string {
	return strings.Join(redact.Forms(password), " | ") + strings.Repeat("é", 100_000)
}

// TestServerTextNeverFailsATool is the case 3 and the audit of
// every path from a server's text to a hook tool: status, juju-log, the
// unit-state record's Reason, action-fail, action-set and
// application-version-set. Long texts holding the password end in a
// status and exit 0, each tool's text within its bound.
func TestServerTextNeverFailsATool(t *testing.T) {
	long := func() string { return echo(hostilePassword) }
	tests := []struct {
		name string
		vc   quotingVCenter
	}{
		{"a check error quoting the password", quotingVCenter{err: errors.New(long())}},
		{"unreachable, quoting it", quotingVCenter{err: &vsphere.UnreachableError{Address: "vc:443", Err: errors.New(long())}}},
		{"a report whose every name is huge", quotingVCenter{rep: &vsphere.Report{
			Product:    vsphere.Product{Name: long(), Version: long(), Build: long()},
			Datacenter: long(), Datastore: long(), Folder: long(), ResourcePool: long(),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.rotate(hostilePassword)
			e.trust()
			e.vcenter = tt.vc
			e.juju.SetLeader(true)
			rel := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
			e.place(rel, "kubernetes-worker/0", "", "10.0.0.9", "")
			require.NoError(t, e.hookErr("config-changed"), "a server's text never fails the hook")
			require.NoError(t, e.hookErr("update-status"))
			for _, a := range []string{"verify", "check-prerequisites", "refresh-credentials"} {
				e.action(a, nil)
				assertNotJujuFault(t, e)
			}
			_, msg := e.status()
			assert.LessOrEqual(t, len(msg), hooktools.MaxStatus)
			assert.LessOrEqual(t, len(e.juju.ApplicationVersion), hooktools.MaxVersion)
			for _, l := range e.juju.Logs {
				assert.LessOrEqual(t, len(l.Message), hooktools.MaxLog)
			}
			for k, v := range e.juju.State {
				assert.LessOrEqual(t, len(v), hooktools.MaxStateValue, k)
			}
		})
	}
}

// TestStderrRedacted: what the charm writes to stderr (Juju copies it into
// the unit log; it is where a line goes when juju-log fails) passes the
// same redaction and a bound.
func TestStderrRedacted(t *testing.T) {
	e := newEnv(t)
	e.rotate(hostilePassword)
	e.trust()
	var buf bytes.Buffer
	tools := hooktools.New(e.juju.Runner(), nil)
	c := New(tools, hookenv.Context{Kind: hookenv.KindHook, Name: "config-changed", Unit: unit}, countingVCenter{e}, Options{Stderr: &buf, Key: e.key})
	require.NoError(t, e.juju.BeginHook())
	_, err := c.read(context.Background(), readAll) // registers the secrets
	require.NoError(t, err)
	require.NoError(t, e.juju.EndHook(0))
	e.juju.InjectFault("juju-log", refused)
	c.log(context.Background(), hooktools.LevelError, echo(hostilePassword))
	out := buf.String()
	require.NotEmpty(t, out, "juju-log failed, so the line went to stderr")
	assert.True(t, strings.HasSuffix(out, "\n"))
	assert.LessOrEqual(t, len(out), maxStderr+1)
	var s redact.Secrets
	s.Add(hostilePassword)
	assert.False(t, s.Leaks(out), "%.300s", out)
}
