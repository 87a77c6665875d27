package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

const unit = "vsphere-integrator/0"

// bin is the fakejuju binary, built once for all tests.
var bin string

func TestMain(m *testing.M) {
	os.Exit(func() int {
		dir, err := os.MkdirTemp("", "fakejuju-test-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		bin = filepath.Join(dir, "fakejuju")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
			return 1
		}
		return m.Run()
	}())
}

// fixture installs the tools in a directory put first on PATH and writes a
// state with one clients relation.
func fixture(t *testing.T) (toolsDir, statePath string) {
	t.Helper()
	dir := t.TempDir()
	toolsDir = filepath.Join(dir, "tools")
	require.NoError(t, os.Mkdir(toolsDir, 0o755))
	install := exec.Command(bin, "install", toolsDir)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("fakejuju install: %v\n%s", err, out)
	}

	j := hooktoolstest.New(unit)
	id := j.AddRelation("clients", "kcp", "kcp/0")
	j.SetRemoteData(id, "kcp/0", map[string]string{"ingress-address": "10.0.0.9"})
	statePath = filepath.Join(dir, "state.json")
	require.NoError(t, j.WriteFile(statePath))

	t.Setenv("PATH", toolsDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	t.Setenv(hooktoolstest.StateFileEnv, statePath)
	t.Setenv("JUJU_RELATION_ID", "")
	t.Setenv("JUJU_REMOTE_UNIT", "")
	return toolsDir, statePath
}

func TestInstall(t *testing.T) {
	toolsDir, _ := fixture(t)
	for _, name := range hooktoolstest.ToolNames() {
		target, err := os.Readlink(filepath.Join(toolsDir, name))
		require.NoError(t, err, name)
		assert.Equal(t, "fakejuju", filepath.Base(target), name)
		assert.True(t, filepath.IsAbs(target), name)
	}
	// Installing again replaces the links.
	self, err := os.Readlink(filepath.Join(toolsDir, "is-leader"))
	require.NoError(t, err)
	out, err := exec.Command(self, "install", toolsDir).CombinedOutput()
	require.NoError(t, err, string(out))
}

func TestToolsAsProcesses(t *testing.T) {
	_, statePath := fixture(t)
	tests := []struct {
		name     string
		env      []string
		tool     string
		args     []string
		stdin    string
		wantOut  string
		wantErr  string
		wantCode int
	}{{
		name:  "relation-set reads stdin",
		tool:  "relation-set",
		args:  []string{"-r", "clients:0", "--file", "-"},
		stdin: "password: '\"s3cret\"'\n",
	}, {
		name:    "relation-get sees it",
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "password", unit},
		wantOut: `"\"s3cret\""` + "\n",
	}, {
		name:    "relation-get of its own databag shows Juju's addresses",
		tool:    "relation-get",
		args:    []string{"-r", "clients:0", "--format=json", "-", unit},
		wantOut: `{"egress-subnets":"10.0.0.100/32","ingress-address":"10.0.0.100","password":"\"s3cret\"","private-address":"10.0.0.100"}` + "\n",
	}, {
		name:    "relation-get in a relation hook defaults to the remote unit",
		env:     []string{"JUJU_RELATION_ID=clients:0", "JUJU_REMOTE_UNIT=kcp/0"},
		tool:    "relation-get",
		args:    []string{"--format=json"},
		wantOut: `{"ingress-address":"10.0.0.9"}` + "\n",
	}, {
		name: "status-set",
		tool: "status-set",
		args: []string{"active", "ready"},
	}, {
		name:     "credential-get before trust",
		tool:     "credential-get",
		args:     []string{"--format=json"},
		wantErr:  "ERROR cannot access cloud credentials: permission denied\n",
		wantCode: 1,
	}, {
		name:     "relation-list of an unknown relation",
		tool:     "relation-list",
		args:     []string{"-r", "clients:4", "--format=json"},
		wantErr:  "ERROR invalid value \"clients:4\" for option -r: relation not found\n",
		wantCode: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(tt.tool, tt.args...)
			cmd.Env = append(os.Environ(), tt.env...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, stdout.String(), "stdout")
			assert.Equal(t, tt.wantErr, stderr.String(), "stderr")
			assert.Equal(t, tt.wantCode, code, "exit code")
		})
	}

	j, err := hooktoolstest.ReadFile(statePath)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"password": `"s3cret"`}, j.CharmData("clients:0"))
	assert.Equal(t, hooktoolstest.Status{Name: "active", Message: "ready"}, j.Status)
	require.Len(t, j.Calls, len(tests))
	for i, tt := range tests {
		assert.Equal(t, hooktoolstest.Call{Tool: tt.tool, Args: tt.args, Stdin: tt.stdin}, j.Calls[i])
	}
}

// TestExecAgainstFakeJuju is the charm's real Runner talking to fakejuju:
// what the end-to-end tests do.
func TestExecAgainstFakeJuju(t *testing.T) {
	_, statePath := fixture(t)
	ctx := context.Background()
	h := hooktools.New(hooktools.Exec{}, nil)

	_, err := h.CredentialGet(ctx)
	assert.ErrorIs(t, err, hooktools.ErrNotTrusted)
	require.NoError(t, h.RelationSet(ctx, "clients:0", map[string]string{"vsphere_ip": `"10.0.0.1"`}))
	_, err = h.RelationGet(ctx, "clients:7", "kcp/0")
	assert.ErrorIs(t, err, hooktools.ErrRelationNotFound)
	require.NoError(t, h.StateSet(ctx, map[string]string{"hash": "abc"}))
	state, err := h.StateGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"hash": "abc"}, state)

	j, err := hooktoolstest.ReadFile(statePath)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"vsphere_ip": `"10.0.0.1"`}, j.CharmData("clients:0"))
}

// hookScript is a hook as a shell script: it writes relation data and
// state, sets its status, checks it reads its own pending write, and exits
// with $1.
const hookScript = `relation-set -r clients:0 --file - <<EOF
vsphere_ip: '"10.0.0.1"'
EOF
state-set --file - <<EOF
hash: abc
EOF
status-set active ready
test "$(state-get hash)" = abc || exit 3
exit "$1"
`

// TestHookAsProcesses: a driver brackets each hook process with
// BeginHookFile and EndHookFile (or `fakejuju begin-hook` / `end-hook`):
// the relation data and state a hook writes are kept when it exits 0 and
// dropped when it does not, while its status stays as it set it.
func TestHookAsProcesses(t *testing.T) {
	tests := []struct {
		name      string
		exit      int
		viaBinary bool
		wantData  map[string]string
		wantState map[string]string
	}{
		{name: "exit 0 commits", exit: 0, wantData: map[string]string{"vsphere_ip": `"10.0.0.1"`}, wantState: map[string]string{"hash": "abc"}},
		{name: "exit 1 commits nothing", exit: 1, wantData: map[string]string{}},
		{name: "exit 0 through the binary", exit: 0, viaBinary: true, wantData: map[string]string{"vsphere_ip": `"10.0.0.1"`}, wantState: map[string]string{"hash": "abc"}},
		{name: "exit 1 through the binary", exit: 1, viaBinary: true, wantData: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, statePath := fixture(t)
			begin := func() error { return hooktoolstest.BeginHookFile(statePath) }
			end := func(code int) error { return hooktoolstest.EndHookFile(statePath, code) }
			if tt.viaBinary {
				begin = func() error { return exec.Command(bin, "begin-hook").Run() }
				end = func(code int) error { return exec.Command(bin, "end-hook", fmt.Sprint(code)).Run() }
			}
			require.NoError(t, begin())
			err := exec.Command("sh", "-c", hookScript, "hook", fmt.Sprint(tt.exit)).Run()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tt.exit, code, "the hook ran to its end")
			require.NoError(t, end(code))

			j, err := hooktoolstest.ReadFile(statePath)
			require.NoError(t, err)
			assert.Equal(t, tt.wantData, j.CharmData("clients:0"))
			assert.Equal(t, tt.wantState, j.State)
			assert.Equal(t, hooktoolstest.Status{Name: "active", Message: "ready"}, j.Status, "status is sent at once")
			assert.Nil(t, j.Hook)
		})
	}
}

func TestHookCommands(t *testing.T) {
	fixture(t)
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{args: []string{"end-hook", "0"}, wantCode: 1, wantErr: "fakejuju: hooktoolstest: no hook running\n"},
		{args: []string{"begin-hook"}},
		{args: []string{"begin-hook"}, wantCode: 1, wantErr: "fakejuju: hooktoolstest: a hook is already running\n"},
		{args: []string{"end-hook", "x"}, wantCode: 2, wantErr: "fakejuju: end-hook: exit code \"x\" is not a number\n"},
		{args: []string{"end-hook", "0"}},
	}
	for _, tt := range tests {
		var stderr bytes.Buffer
		code := run(append([]string{"fakejuju"}, tt.args...), nil, io.Discard, &stderr)
		assert.Equal(t, tt.wantCode, code, "%q", tt.args)
		assert.Equal(t, tt.wantErr, stderr.String(), "%q", tt.args)
	}
	t.Setenv(hooktoolstest.StateFileEnv, "")
	var stderr bytes.Buffer
	assert.Equal(t, 1, run([]string{"fakejuju", "begin-hook"}, nil, io.Discard, &stderr))
	assert.Equal(t, "fakejuju: $FAKEJUJU_STATE is not set\n", stderr.String())
}

// TestConcurrentProcesses checks the lock: every call of processes racing
// on one state file is kept.
func TestConcurrentProcesses(t *testing.T) {
	_, statePath := fixture(t)
	const n = 16
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := exec.Command("juju-log", "-l", "INFO", fmt.Sprint("message ", i)).CombinedOutput()
			assert.NoError(t, err, string(out))
		}()
	}
	wg.Wait()
	j, err := hooktoolstest.ReadFile(statePath)
	require.NoError(t, err)
	assert.Len(t, j.Logs, n)
	assert.Len(t, j.Calls, n)
}

func TestWithoutState(t *testing.T) {
	fixture(t)
	t.Setenv(hooktoolstest.StateFileEnv, "")
	out, err := exec.Command("is-leader", "--format=json").CombinedOutput()
	var exit *exec.ExitError
	require.ErrorAs(t, err, &exit)
	assert.Equal(t, 1, exit.ExitCode())
	assert.Equal(t, "ERROR fakejuju: $FAKEJUJU_STATE is not set\n", string(out))
}

func TestReadsStdin(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"-r", "clients:0", "--file", "-"}, true},
		{[]string{"--file=-"}, true},
		{[]string{"--file", "/tmp/settings.yaml"}, false},
		{[]string{"-r", "clients:0", "--format=json", "-", "kcp/0"}, false},
		{[]string{"--", "--file", "-"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, readsStdin(tt.args), "%q", tt.args)
	}
}
