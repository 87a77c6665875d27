package hooktools_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// toolDir puts shell scripts named like hook tools first on PATH.
func toolDir(t *testing.T, scripts map[string]string) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range scripts {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body), 0o755))
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestExec(t *testing.T) {
	toolDir(t, map[string]string{
		// Echoes its argv, one per line, then its stdin.
		"echo-tool": `for a in "$@"; do echo "[$a]"; done; cat`,
		"fail-tool": `echo partial; echo "ERROR cannot access cloud credentials: permission denied" >&2; exit 1`,
		"slow-tool": `sleep 10`,
	})
	ctx := context.Background()
	tests := []struct {
		name     string
		ctx      func() (context.Context, context.CancelFunc)
		tool     string
		args     []string
		stdin    []byte
		wantOut  string
		wantExit *hooktools.ExitError
		wantIs   error
	}{{
		name:    "argv kept apart and stdin passed",
		tool:    "echo-tool",
		args:    []string{"-r", "clients:3", "two words", ""},
		stdin:   []byte("password: s3cret\n"),
		wantOut: "[-r]\n[clients:3]\n[two words]\n[]\npassword: s3cret\n",
	}, {
		name:    "no stdin reads as empty",
		tool:    "echo-tool",
		wantOut: "",
	}, {
		name:     "non-zero exit carries stderr",
		tool:     "fail-tool",
		wantOut:  "partial\n",
		wantExit: &hooktools.ExitError{Code: 1, Stderr: "ERROR cannot access cloud credentials: permission denied\n"},
	}, {
		name:   "missing tool",
		tool:   "no-such-hook-tool",
		wantIs: hooktools.ErrToolMissing,
	}, {
		name: "cancelled tool reports the context",
		ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 100*time.Millisecond)
		},
		tool:   "slow-tool",
		wantIs: context.DeadlineExceeded,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctx
			if tt.ctx != nil {
				var cancel context.CancelFunc
				ctx, cancel = tt.ctx()
				defer cancel()
			}
			start := time.Now()
			out, err := hooktools.Exec{}.Run(ctx, tt.tool, tt.args, tt.stdin)
			assert.Less(t, time.Since(start), 4*time.Second, "a child holding the pipes is not waited for")
			switch {
			case tt.wantExit != nil:
				var exit *hooktools.ExitError
				require.ErrorAs(t, err, &exit)
				assert.Equal(t, tt.wantExit, exit)
			case tt.wantIs != nil:
				require.ErrorIs(t, err, tt.wantIs)
				return
			default:
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantOut, string(out))
		})
	}
}

// TestExecThroughTools checks the typed errors survive a real process.
func TestExecThroughTools(t *testing.T) {
	toolDir(t, map[string]string{
		"credential-get": `echo "ERROR cannot access cloud credentials: permission denied" >&2; exit 1`,
		"relation-list":  `echo 'ERROR invalid value "'"$2"'" for option -r: relation not found' >&2; exit 2`,
		"config-get":     `echo '{"folder":"k8s"}'`,
	})
	h := hooktools.New(hooktools.Exec{}, nil)
	ctx := context.Background()

	_, err := h.CredentialGet(ctx)
	assert.ErrorIs(t, err, hooktools.ErrNotTrusted)
	var exit *hooktools.ExitError
	if assert.ErrorAs(t, err, &exit) {
		assert.Equal(t, 1, exit.Code)
	}

	_, err = h.RelationList(ctx, "clients:9")
	assert.ErrorIs(t, err, hooktools.ErrRelationNotFound)
	assert.EqualError(t, err, `relation-list: invalid value "clients:9" for option -r: relation not found`)

	config, err := h.ConfigGet(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]any{"folder": "k8s"}, config)

	_, err = h.StateGet(ctx)
	assert.ErrorIs(t, err, hooktools.ErrToolMissing)
	assert.False(t, errors.Is(err, hooktools.ErrBadOutput))
}
