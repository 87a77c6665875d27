package vsphere_test

import (
	"context"
	"fmt"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// BenchmarkDedicate reports what one dedicated identity costs vCenter
// (docs/performance.md, "Dedicated credentials"): the vim25 and SSO
// requests and the sessions of making one, of granting an existing one on a
// changed set of node VMs, and of removing one. The requests are the ones
// Dedicate reports, checked on every call against what the simulator
// served, so that a report that undercounts fails the benchmark. The
// identity each case needs beforehand (the roles, the user to grant or to
// remove) is made outside the timer and outside the counts.
func BenchmarkDedicate(b *testing.B) {
	b.Run("make", func(b *testing.B) {
		f := newDedicateFixture(b)
		// The roles are made by the first identity only: make one first,
		// so every timed call is the steady one.
		f.remove(b, f.make(b, f.user(0)))
		i := 0
		for b.Loop() {
			i++
			u := f.user(i)
			f.measure(b, vsphere.DedicateRequest{Make: []vsphere.NewUser{u}}, func(rep *vsphere.DedicateReport) error {
				if len(rep.Made) != 1 || rep.Made[0] != full(u) {
					return fmt.Errorf("made %v, want %s", rep.Made, full(u))
				}
				return nil
			})
			b.StopTimer()
			f.remove(b, full(u))
			b.StartTimer()
		}
		f.report(b)
	})

	b.Run("grant", func(b *testing.B) {
		f := newDedicateFixture(b)
		user := f.make(b, f.user(0))
		i := 0
		for b.Loop() {
			// One node fewer, then one more: each grant removes or sets
			// the permission on one node VM and leaves the rest.
			i++
			f.tg.Nodes = f.nodes[:2-i%2]
			f.measure(b, vsphere.DedicateRequest{Grant: []string{user}}, func(rep *vsphere.DedicateReport) error {
				if rep.Changes != 1 {
					return fmt.Errorf("%d permissions changed, want 1", rep.Changes)
				}
				return nil
			})
		}
		f.report(b)
	})

	b.Run("remove", func(b *testing.B) {
		f := newDedicateFixture(b)
		i := 0
		for b.Loop() {
			b.StopTimer()
			i++
			user := f.make(b, f.user(i))
			b.StartTimer()
			f.measure(b, vsphere.DedicateRequest{Remove: []string{user}}, func(rep *vsphere.DedicateReport) error {
				if len(rep.Removed) != 1 || rep.Removed[0] != user {
					return fmt.Errorf("removed %v, want %s", rep.Removed, user)
				}
				return nil
			})
		}
		f.report(b)
	})
}

// dedicateFixture is a simulator with SSO and a target on DC0 with two
// node VMs, and the counts of the measured calls.
type dedicateFixture struct {
	srv   *vspheretest.Server
	tg    vsphere.Target
	nodes []vsphere.Node
	// vimLogins and ssoLogins count the sessions the simulator opened.
	vimLogins, ssoLogins *atomic.Int64
	// Sums over the measured calls.
	calls, requests, ssoRequests, sessions, ssoSessions int
}

func newDedicateFixture(b *testing.B) *dedicateFixture {
	b.Helper()
	m := simulator.VPX()
	m.Machine = 2
	srv := vspheretest.NewServer(b, vspheretest.Options{Model: m, SSO: true})
	tg := target(srv)
	tg.Folder = ""
	tg.Nodes = workers(b, srv, 2)
	f := &dedicateFixture{srv: srv, tg: tg, nodes: tg.Nodes}
	f.vimLogins, f.ssoLogins = countLogins(b, srv)
	return f
}

// countLogins counts the vim25 and SSO admin logins the simulator serves.
// Each endpoint's handler is wrapped before any Dedicate call, as
// tools/deploy counts vim25 logins.
func countLogins(b *testing.B, srv *vspheretest.Server) (vim, sso *atomic.Int64) {
	b.Helper()
	vim, sso = &atomic.Int64{}, &atomic.Int64{}
	count := func(reg *simulator.Registry, n *atomic.Int64) {
		prev := reg.Handler
		reg.Handler = func(ctx *simulator.Context, m *simulator.Method) (mo.Reference, types.BaseMethodFault) {
			if m.Name == "Login" {
				n.Add(1)
			}
			if prev == nil {
				return nil, nil
			}
			return prev(ctx, m)
		}
	}
	svc := srv.Model.Service.Context
	count(svc.Map, vim)
	// The SSO admin endpoint is where the simulator's own setting says.
	for _, o := range svc.Map.OptionManager().Setting {
		v := o.GetOptionValue()
		if v.Key != "config.vpxd.sso.admin.uri" {
			continue
		}
		raw, _ := v.Value.(string)
		u, err := url.Parse(raw)
		if err != nil {
			b.Fatalf("SSO admin URI %q: %v", raw, err)
		}
		if admin := svc.For(u.Path).Map; admin != nil {
			count(admin, sso)
			return vim, sso
		}
	}
	b.Fatal("the simulator serves no SSO admin endpoint")
	return nil, nil
}

func (f *dedicateFixture) user(i int) vsphere.NewUser {
	return vsphere.NewUser{Name: fmt.Sprintf("juju-bench-%d", i), Password: "Kq7#vR2!pLx9", Description: "vsphere-integrator bench"}
}

// make makes u outside the counts and returns its principal.
func (f *dedicateFixture) make(b *testing.B, u vsphere.NewUser) string {
	b.Helper()
	if _, err := vsphere.Dedicate(f.ctx(b), f.tg, vsphere.DedicateRequest{Make: []vsphere.NewUser{u}}); err != nil {
		b.Fatalf("make %s: %v", u.Name, err)
	}
	return full(u)
}

// remove removes user outside the counts.
func (f *dedicateFixture) remove(b *testing.B, user string) {
	b.Helper()
	if _, err := vsphere.Dedicate(f.ctx(b), f.tg, vsphere.DedicateRequest{Remove: []string{user}}); err != nil {
		b.Fatalf("remove %s: %v", user, err)
	}
}

func (f *dedicateFixture) ctx(b *testing.B) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	b.Cleanup(cancel)
	return ctx
}

// measure runs one Dedicate call, checks it did what want says and that it
// reported the requests the simulator served, and adds its counts.
func (f *dedicateFixture) measure(b *testing.B, req vsphere.DedicateRequest, want func(*vsphere.DedicateReport) error) {
	b.Helper()
	vim, sso := f.srv.Requests(), f.srv.SSORequests()
	vimLogins, ssoLogins := f.vimLogins.Load(), f.ssoLogins.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	rep, err := vsphere.Dedicate(ctx, f.tg, req)
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	if err := want(rep); err != nil {
		b.Fatal(err)
	}
	served, ssoServed := f.srv.Requests()-vim, f.srv.SSORequests()-sso
	if rep.Requests != served || rep.SSORequests != ssoServed {
		b.Fatalf("reported %d vim25 and %d SSO requests, the simulator served %d and %d", rep.Requests, rep.SSORequests, served, ssoServed)
	}
	f.calls++
	f.requests += rep.Requests
	f.ssoRequests += rep.SSORequests
	f.sessions += int(f.vimLogins.Load() - vimLogins)
	f.ssoSessions += int(f.ssoLogins.Load() - ssoLogins)
}

func (f *dedicateFixture) report(b *testing.B) {
	n := float64(f.calls)
	b.ReportMetric(float64(f.requests)/n, "soap-requests/op")
	b.ReportMetric(float64(f.ssoRequests)/n, "sso-requests/op")
	b.ReportMetric(float64(f.sessions)/n, "sessions/op")
	b.ReportMetric(float64(f.ssoSessions)/n, "sso-sessions/op")
}
