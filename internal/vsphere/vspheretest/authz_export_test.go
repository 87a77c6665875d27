package vspheretest

import "github.com/vmware/govmomi/vim25/types"

// AllowLogin lets user log in with password as well as the trusted account,
// for the tests of what other users may do. It changes the session
// manager's login check under vcsim's lock on it, which Login holds too.
func (s *Server) AllowLogin(user, password string) {
	ctx := s.Model.Service.Context
	sm := ctx.Map.SessionManager()
	ctx.WithLock(sm, func() {
		prev := sm.ValidLogin
		sm.ValidLogin = func(req *types.Login) bool {
			return (req.UserName == user && req.Password == password) || (prev != nil && prev(req))
		}
	})
}
