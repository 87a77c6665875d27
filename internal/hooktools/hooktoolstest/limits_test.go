package hooktoolstest_test

import (
	"context"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// TestRunnerArgvLimits: the fake refuses the arguments execve refuses, with
// the same error os/exec gives (E2BIG, "argument list too long"), and runs
// nothing; the longest argument the kernel takes runs.
func TestRunnerArgvLimits(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/0")
	r := j.Runner()
	longest := strings.Repeat("x", hooktoolstest.MaxArgStrlen-1)

	_, err := r.Run(ctx, "juju-log", []string{longest}, nil)
	require.NoError(t, err, "an argument of MAX_ARG_STRLEN with its NUL passes")
	require.Len(t, j.Logs, 1)

	_, err = r.Run(ctx, "juju-log", []string{longest + "x"}, nil)
	require.ErrorIs(t, err, syscall.E2BIG)
	assert.Contains(t, err.Error(), "argument list too long")
	var exit *hooktools.ExitError
	assert.NotErrorAs(t, err, &exit, "the kernel refuses the exec: the tool never runs, Juju never answers")

	many := make([]string, 20)
	for i := range many {
		many[i] = strings.Repeat("y", 120*1024)
	}
	_, err = r.Run(ctx, "juju-log", many, nil)
	require.ErrorIs(t, err, syscall.E2BIG, "2.4 MiB of arguments is over ARG_MAX")
	assert.Len(t, j.Logs, 1, "no refused call reached Juju")
	assert.Len(t, j.Calls, 1)
}

// TestRunnerArgvLimitMatchesKernel: the real exec, through hooktools.Exec,
// agrees with the fake at the boundary.
func TestRunnerArgvLimitMatchesKernel(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("MAX_ARG_STRLEN is Linux's")
	}
	if _, err := exec.LookPath("true"); err != nil {
		t.Skip("no true(1) on PATH")
	}
	ctx := context.Background()
	_, err := hooktools.Exec{}.Run(ctx, "true", []string{strings.Repeat("x", hooktoolstest.MaxArgStrlen-1)}, nil)
	require.NoError(t, err)
	_, err = hooktools.Exec{}.Run(ctx, "true", []string{strings.Repeat("x", hooktoolstest.MaxArgStrlen)}, nil)
	require.ErrorIs(t, err, syscall.E2BIG)
	assert.Contains(t, err.Error(), "argument list too long")
	assert.Equal(t, hooktoolstest.MaxArgStrlen-1, hooktools.MaxArg, "the tools layer's bound is the kernel's")
}
