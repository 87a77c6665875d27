package hooktools_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

const password = "Pa55-w0rd=with'quote\"s"

// fileSpy is a Runner that looks at the file secret-add is given while
// the tool runs, then lets the fake Juju answer.
type fileSpy struct {
	next              hooktools.Runner
	path              string
	fileMode, dirMode fs.FileMode
	content           map[string]string
}

func (s *fileSpy) Run(ctx context.Context, tool string, args []string, stdin []byte) ([]byte, error) {
	for _, a := range args {
		if p, ok := strings.CutPrefix(a, "--file="); ok {
			s.path = p
			if fi, err := os.Stat(p); err == nil {
				s.fileMode = fi.Mode().Perm()
			}
			if fi, err := os.Stat(filepath.Dir(p)); err == nil {
				s.dirMode = fi.Mode().Perm()
			}
			if b, err := os.ReadFile(p); err == nil {
				_ = json.Unmarshal(b, &s.content)
			}
		}
	}
	return s.next.Run(ctx, tool, args, stdin)
}

func TestSecretAdd(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/0")
	j.SetLeader(true)
	require.NoError(t, j.BeginHook())
	spy := &fileSpy{next: j.Runner()}
	s := &redact.Secrets{}
	h := hooktools.New(spy, s)

	uri, err := h.SecretAdd(ctx, hooktools.SecretAddArgs{
		Label: "-vc-user", Description: "vCenter user for kcp",
		Content: map[string]string{"username": "kcp@vsphere.local", "password": password},
	})
	require.NoError(t, err)
	assert.Regexp(t, `^secret://`+hooktoolstest.DefaultModelUUID+`/[0-9a-v]{20}$`, uri)

	// The content went in a private file, gone once the tool returned, and
	// nowhere on the command line.
	assert.True(t, filepath.IsAbs(spy.path), spy.path)
	assert.Equal(t, fs.FileMode(0o600), spy.fileMode)
	assert.Equal(t, fs.FileMode(0o700), spy.dirMode)
	assert.Equal(t, map[string]string{"username#base64": "a2NwQHZzcGhlcmUubG9jYWw=", "password#base64": "UGE1NS13MHJkPXdpdGgncXVvdGUicw=="}, spy.content)
	_, err = os.Stat(filepath.Dir(spy.path))
	assert.ErrorIs(t, err, fs.ErrNotExist)
	calls := j.CallsTo("secret-add")
	require.Len(t, calls, 1)
	assert.Equal(t, []string{"--owner=application", "--file=" + spy.path, "--label=-vc-user", "--description=vCenter user for kcp"}, calls[0].Args)
	assert.Empty(t, calls[0].Stdin)
	assert.Equal(t, redact.Mask, s.Clean(password), "the value is registered as a secret")

	// The same hook reads it back; the commit stores it.
	got, err := h.SecretGet(ctx, uri)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"username": "kcp@vsphere.local", "password": password}, got)
	require.NoError(t, j.EndHook(0))
	secrets := j.Secrets()
	require.Len(t, secrets, 1)
	assert.Equal(t, "-vc-user", secrets[0].Label)
	values, err := secrets[0].Values()
	require.NoError(t, err)
	assert.Equal(t, password, values["password"])

	ids, err := h.SecretIDs(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{hooktools.SecretID(uri)}, ids)
	for _, c := range j.Calls {
		for _, a := range c.Args {
			assert.NotContains(t, a, "Pa55", "%s %v", c.Tool, c.Args)
		}
	}
}

// TestSecretGetRegisters: every value a unit reads, leader or not, is a
// secret its texts are cleaned of from then on.
func TestSecretGetRegisters(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/1")
	uri := j.AddSecret(hooktoolstest.OwnerApplication, "", map[string]string{"password": password})
	s := &redact.Secrets{}
	h := hooktools.New(j.Runner(), s)
	require.Equal(t, password, s.Clean(password))
	got, err := h.SecretGet(ctx, uri)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"password": password}, got)
	assert.Equal(t, redact.Mask, s.Clean(password))
}

func TestSecretErrors(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/1")
	h := hooktools.New(j.Runner(), nil)

	_, err := h.SecretAdd(ctx, hooktools.SecretAddArgs{Content: map[string]string{"password": "x"}})
	assert.ErrorIs(t, err, hooktools.ErrNotLeader, "a minion adds no application secret")
	_, err = h.SecretAdd(ctx, hooktools.SecretAddArgs{Owner: hooktools.SecretOwnerUnit, Content: map[string]string{"password": "x"}})
	assert.NoError(t, err, "but a secret of its own")

	_, err = h.SecretGet(ctx, "secret:d0hq6ff9v2ur2lhfdpb0")
	assert.ErrorIs(t, err, hooktools.ErrSecretNotFound)
	var te *hooktools.ToolError
	require.True(t, errors.As(err, &te))
	assert.Equal(t, `secret "secret:d0hq6ff9v2ur2lhfdpb0" not found`, te.Message)

	// Juju records a removal and ignores, at the commit, a secret it does
	// not know.
	assert.NoError(t, h.SecretRemove(ctx, "secret:d0hq6ff9v2ur2lhfdpb0"))

	calls := len(j.Calls)
	for _, a := range []hooktools.SecretAddArgs{
		{Owner: "model", Content: map[string]string{"password": "x"}},
		{},
		{Content: map[string]string{"Password": "x"}},
		{Content: map[string]string{"pw": "x"}},
	} {
		_, err := h.SecretAdd(ctx, a)
		assert.ErrorIs(t, err, hooktools.ErrInvalidArgument, "%+v", a)
	}
	_, err = h.SecretAdd(ctx, hooktools.SecretAddArgs{Content: map[string]string{"password": strings.Repeat("x", 750_000)}})
	assert.ErrorIs(t, err, hooktools.ErrTooLong)
	assert.Len(t, j.Calls, calls, "refused before anything ran")
}

func TestSecretRemove(t *testing.T) {
	ctx := context.Background()
	j := hooktoolstest.New("vsphere-integrator/0")
	j.SetLeader(true)
	uri := j.AddSecret(hooktoolstest.OwnerApplication, "", map[string]string{"password": "x"})
	h := hooktools.New(j.Runner(), nil)
	require.NoError(t, j.BeginHook())
	require.NoError(t, h.SecretRemove(ctx, uri))
	ids, err := h.SecretIDs(ctx)
	require.NoError(t, err)
	assert.Empty(t, ids)
	assert.NotNil(t, ids, "null is an empty list")
	require.NoError(t, j.EndHook(0))
	assert.Empty(t, j.Secrets())
	assert.Equal(t, []string{uri}, j.CallsTo("secret-remove")[0].Args)
}

func TestSecretID(t *testing.T) {
	for _, uri := range []string{
		"secret://3f2a7c1e-5b8d-4e6f-9a0b-1c2d3e4f5a6b/d0hq6ff9v2ur2lhfdpb0",
		"secret:d0hq6ff9v2ur2lhfdpb0",
		"d0hq6ff9v2ur2lhfdpb0",
	} {
		assert.Equal(t, "d0hq6ff9v2ur2lhfdpb0", hooktools.SecretID(uri), uri)
	}
}
