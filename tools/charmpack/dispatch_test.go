package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	jujucharm "github.com/juju/charm/v12"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

const secret = "Proc-Secret-Passw0rd"

// unit is the built charm unpacked as the unit agent unpacks it, with a
// fake Juju state file.
type unit struct {
	dir, state string
}

func newUnit(t *testing.T, setup func(j *hooktoolstest.Juju)) *unit {
	t.Helper()
	archive, err := jujucharm.ReadCharmArchive(built.charm)
	require.NoError(t, err)
	u := &unit{dir: filepath.Join(t.TempDir(), "charm"), state: filepath.Join(t.TempDir(), "juju.json")}
	require.NoError(t, archive.ExpandTo(u.dir))

	// A vCenter address nothing listens on: the install hook's check fails
	// fast with "refused", which is all these process tests need.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())

	j := hooktoolstest.New("vsphere-integrator/0")
	j.SetConfig(map[string]any{
		"credentials": "", "vsphere_ip": addr, "user": "admin", "password": secret, "datacenter": "DC0",
		"datastore": "datastore1", "folder": "juju-kubernetes", "respool_path": "", "ca_cert": "", "thumbprint": "",
	})
	if setup != nil {
		setup(j)
	}
	require.NoError(t, j.WriteFile(u.state))
	return u
}

// run runs argv0 (relative to the charm dir) as Juju would, with env on top
// of the hook environment; it returns the exit code and stderr.
func (u *unit) run(t *testing.T, argv0 string, env map[string]string) (int, string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(u.dir, argv0))
	cmd.Dir = u.dir
	base := map[string]string{
		"PATH":            built.fakeBin + ":/usr/bin:/bin",
		"JUJU_CHARM_DIR":  u.dir,
		"JUJU_UNIT_NAME":  "vsphere-integrator/0",
		"JUJU_MODEL_NAME": "k8s",
		"JUJU_VERSION":    "3.6.0",
		"FAKEJUJU_STATE":  u.state,
	}
	for k, v := range env {
		base[k] = v
	}
	for k, v := range base {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else {
		require.NoError(t, err)
	}
	return code, stderr.String()
}

func (u *unit) juju(t *testing.T) *hooktoolstest.Juju {
	t.Helper()
	j, err := hooktoolstest.ReadFile(u.state)
	require.NoError(t, err)
	return j
}

func assertNoSecretOnArgv(t *testing.T, j *hooktoolstest.Juju) {
	t.Helper()
	for _, c := range j.Calls {
		assert.NotContains(t, strings.Join(c.Args, " "), secret, c.Tool)
	}
	for _, l := range j.Logs {
		assert.NotContains(t, l.Message, secret)
	}
	assert.NotContains(t, j.Status.Message, secret)
}

func TestDispatchInstall(t *testing.T) {
	u := newUnit(t, nil)
	code, stderr := u.run(t, "dispatch", map[string]string{"JUJU_DISPATCH_PATH": "hooks/install"})
	assert.Equal(t, 0, code, stderr)
	j := u.juju(t)
	assert.Equal(t, "waiting", j.Status.Name, "vCenter refused: waiting, not an error")
	assert.Contains(t, j.Status.Message, "will retry")
	assert.NotEmpty(t, j.CallsTo("config-get"))
	assertNoSecretOnArgv(t, j)
}

func TestUnknownEventChangesNothing(t *testing.T) {
	u := newUnit(t, nil)
	before, err := os.ReadFile(u.state)
	require.NoError(t, err)
	// Not stop or remove: the charm handles them (README, Status).
	for _, ev := range []string{"hooks/secret-rotate", "hooks/pre-series-upgrade", "hooks/peers-relation-joined"} {
		env := map[string]string{"JUJU_DISPATCH_PATH": ev}
		if strings.Contains(ev, "-relation-") {
			env["JUJU_RELATION"], env["JUJU_RELATION_ID"], env["JUJU_REMOTE_UNIT"] = "peers", "peers:1", "vsphere-integrator/1"
		}
		code, stderr := u.run(t, "dispatch", env)
		assert.Equal(t, 0, code, "%s: %s", ev, stderr)
	}
	after, err := os.ReadFile(u.state)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "no hook tool was called")
}

// TestBadInput: what Juju or the machine gets wrong is reported, never a
// panic or a hook error.
func TestBadInput(t *testing.T) {
	t.Run("no unit name", func(t *testing.T) {
		u := newUnit(t, nil)
		code, stderr := u.run(t, "dispatch", map[string]string{"JUJU_DISPATCH_PATH": "hooks/install", "JUJU_UNIT_NAME": ""})
		assert.Equal(t, 0, code)
		assert.Contains(t, stderr, "JUJU_UNIT_NAME")
		j := u.juju(t)
		assert.Equal(t, "blocked", j.Status.Name)
		assert.Contains(t, j.Status.Message, "JUJU_UNIT_NAME")
	})
	t.Run("relation hook without relation id", func(t *testing.T) {
		u := newUnit(t, nil)
		code, _ := u.run(t, "dispatch", map[string]string{"JUJU_DISPATCH_PATH": "hooks/clients-relation-joined"})
		assert.Equal(t, 0, code)
		assert.Contains(t, u.juju(t).Status.Message, "JUJU_RELATION_ID")
	})
	// A hook tool that is missing or answers nonsense is Juju's trouble:
	// the hook exits non-zero so that Juju retries it, and says why on
	// stderr (and through juju-log when that works).
	t.Run("hook tools missing from PATH", func(t *testing.T) {
		u := newUnit(t, nil)
		code, stderr := u.run(t, "dispatch", map[string]string{"JUJU_DISPATCH_PATH": "hooks/install", "PATH": "/usr/bin:/bin"})
		assert.Equal(t, 1, code)
		assert.Contains(t, stderr, "hook tool not found")
		assert.Contains(t, stderr, "will be retried")
		assert.NotContains(t, stderr, "panic")
	})
	t.Run("tool prints invalid JSON", func(t *testing.T) {
		u := newUnit(t, func(j *hooktoolstest.Juju) {
			j.InjectFault("config-get", hooktoolstest.Fault{Stdout: "{oops"})
		})
		code, stderr := u.run(t, "dispatch", map[string]string{"JUJU_DISPATCH_PATH": "hooks/config-changed"})
		assert.Equal(t, 1, code, stderr)
		assert.Contains(t, stderr, "config-get")
		j := u.juju(t)
		require.NotEmpty(t, j.Logs)
		assert.Contains(t, j.Logs[len(j.Logs)-1].Message, "config-get")
	})
}
