package vspheretest_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// login opens a session with govmomi's own client, trusting the server by
// its SHA-256 thumbprint.
func login(ctx context.Context, srv *vspheretest.Server, password string) (*session.Manager, error) {
	sc := soap.NewClient(srv.URL, false)
	sc.SetThumbprint(srv.URL.Host, srv.SHA256)
	c, err := vim25.NewClient(ctx, sc)
	if err != nil {
		return nil, err
	}
	m := session.NewManager(c)
	return m, m.Login(ctx, url.UserPassword(srv.User, password))
}

func TestServer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	assert.Equal(t, "https", srv.URL.Scheme)
	assert.Nil(t, srv.URL.User)

	count := func() int {
		n, err := srv.SessionCount(ctx)
		require.NoError(t, err)
		return n
	}
	require.Zero(t, count())

	_, err := login(ctx, srv, "wrong")
	require.Error(t, err, "the simulator enforces the password")

	m, err := login(ctx, srv, srv.Password())
	require.NoError(t, err)
	assert.Equal(t, 1, count(), "an open session is counted")

	srv.SetPassword("rotated")
	_, err = login(ctx, srv, vspheretest.DefaultPassword)
	require.Error(t, err, "old password refused after SetPassword")
	m2, err := login(ctx, srv, "rotated")
	require.NoError(t, err)
	assert.Equal(t, 2, count())

	srv.Hang()
	hctx, hcancel := context.WithTimeout(ctx, 300*time.Millisecond)
	_, err = m.UserSession(hctx)
	hcancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "no answer while hung")
	assert.Equal(t, 2, count(), "SessionCount is not hung")
	srv.Resume()

	require.NoError(t, m.Logout(ctx))
	require.NoError(t, m2.Logout(ctx))
	assert.Zero(t, count())
}
