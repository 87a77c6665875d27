package vspheretest

import (
	"context"

	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// CanLogin reports whether user logs in to vim25 with password, by a real
// login and logout over HTTPS; any failure, the server's or the network's,
// is a no. Its own requests are not counted in Requests, so a test may
// call it between an operation and the count of what the operation cost.
func (s *Server) CanLogin(ctx context.Context, user, password string) bool {
	u := *s.URL
	sc := soap.NewClient(&u, false)
	sc.SetThumbprint(u.Host, s.SHA256)
	sc.Namespace, sc.Version = "urn:"+vim25.Namespace, vim25.Version
	defer sc.CloseIdleConnections()
	rt := &uncounted{rt: sc}
	defer func() { s.requests.Add(-rt.served) }()

	content, err := methods.GetServiceContent(ctx, rt)
	if err != nil || content.SessionManager == nil {
		return false
	}
	if _, err := methods.Login(ctx, rt, &types.Login{This: *content.SessionManager, UserName: user, Password: password}); err != nil {
		return false
	}
	// The session ends either way; its logout's outcome is not the answer.
	_, _ = methods.Logout(ctx, rt, &types.Logout{This: *content.SessionManager})
	return true
}

// uncounted counts the requests the simulator served (answered, with a
// result or a fault) so that CanLogin can take them back out of Requests.
type uncounted struct {
	rt     soap.RoundTripper
	served int64
}

func (c *uncounted) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	err := c.rt.RoundTrip(ctx, req, res)
	if err == nil || soap.IsSoapFault(err) {
		c.served++
	}
	return err
}
