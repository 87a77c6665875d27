package vsphere_test

import (
	"context"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/fault"
	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// newVCenter starts a simulator with two datacenters (DC0, DC1; each with
// cluster DC0_C0 holding child pool DC0_C0_RP1, standalone host DC0_H0 and
// datastore LocalDS_0) and VM folders k8s and k8s/nodes in DC0, k8s in DC1.
func newVCenter(t testing.TB, tweak ...func(*simulator.Model)) *vspheretest.Server {
	t.Helper()
	m := simulator.VPX()
	m.Datacenter = 2
	m.Pool = 1
	m.Machine = 1
	for _, f := range tweak {
		f(m)
	}
	srv := vspheretest.NewServer(t, vspheretest.Options{Model: m})

	ctx := context.Background()
	finder := find.NewFinder(srv.Client())
	for _, p := range []struct{ dc, parent, name string }{
		{"DC0", "", "k8s"},
		{"DC0", "k8s", "nodes"},
		{"DC1", "", "k8s"},
	} {
		dc, err := finder.Datacenter(ctx, p.dc)
		require.NoError(t, err)
		folders, err := dc.Folders(ctx)
		require.NoError(t, err)
		parent := folders.VmFolder
		if p.parent != "" {
			parent, err = finder.Folder(ctx, "/"+p.dc+"/vm/"+p.parent)
			require.NoError(t, err)
		}
		_, err = parent.CreateFolder(ctx, p.name)
		require.NoError(t, err)
	}
	return srv
}

// target is a valid target for srv: DC0, LocalDS_0, folder k8s, trusted CA.
func target(srv *vspheretest.Server) vsphere.Target {
	return vsphere.Target{
		Server:     srv.URL.Host,
		User:       srv.User,
		Password:   srv.Password(),
		Datacenter: "DC0",
		Datastore:  "LocalDS_0",
		Folder:     "k8s",
		TLS:        vsphere.TLS{CAs: []string{srv.CA}},
	}
}

func timeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func sessions(t testing.TB, srv *vspheretest.Server) int {
	t.Helper()
	n, err := srv.SessionCount(timeout(t, 10*time.Second))
	require.NoError(t, err)
	return n
}

func TestCheckResolves(t *testing.T) {
	srv := newVCenter(t)
	tests := []struct {
		name   string
		modify func(*vsphere.Target)
		want   vsphere.Report // paths only
	}{{
		name:   "relative folder, no pool",
		modify: func(*vsphere.Target) {},
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s"},
	}, {
		name: "second datacenter, absolute folder, pool path",
		modify: func(tg *vsphere.Target) {
			tg.Datacenter, tg.Folder, tg.ResourcePool = "DC1", "/DC1/vm/k8s", "DC1_C0/Resources"
		},
		want: vsphere.Report{Datacenter: "/DC1", Datastore: "/DC1/datastore/LocalDS_0", Folder: "/DC1/vm/k8s", ResourcePool: "/DC1/host/DC1_C0/Resources"},
	}, {
		name:   "nested relative folder, trailing slash",
		modify: func(tg *vsphere.Target) { tg.Folder = "k8s/nodes/" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s/nodes"},
	}, {
		name:   "empty folder is the VM folder",
		modify: func(tg *vsphere.Target) { tg.Folder = "" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm"},
	}, {
		name:   "absolute datacenter and datastore paths",
		modify: func(tg *vsphere.Target) { tg.Datacenter, tg.Datastore = "/DC0", "/DC0/datastore/LocalDS_0" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s"},
	}, {
		name:   "child pool by name",
		modify: func(tg *vsphere.Target) { tg.ResourcePool = "DC0_C0_RP1" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s", ResourcePool: "/DC0/host/DC0_C0/Resources/DC0_C0_RP1"},
	}, {
		name:   "absolute pool path",
		modify: func(tg *vsphere.Target) { tg.ResourcePool = "/DC0/host/DC0_H0/Resources" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s", ResourcePool: "/DC0/host/DC0_H0/Resources"},
	}, {
		name:   "cluster stands for its root pool",
		modify: func(tg *vsphere.Target) { tg.ResourcePool = "DC0_C0" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s", ResourcePool: "/DC0/host/DC0_C0/Resources"},
	}, {
		name:   "server as URL",
		modify: func(tg *vsphere.Target) { tg.Server = "https://" + srv.URL.Host + "/sdk" },
		want:   vsphere.Report{Datacenter: "/DC0", Datastore: "/DC0/datastore/LocalDS_0", Folder: "/DC0/vm/k8s"},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := target(srv)
			tc.modify(&tg)
			served := srv.Requests()
			rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			require.NoError(t, err)
			assert.Equal(t, srv.Requests()-served, rep.Requests, "the report counts what the server served")
			assert.Equal(t, srv.URL.Host, rep.Server)
			assert.Equal(t, tc.want.Datacenter, rep.Datacenter)
			assert.Equal(t, tc.want.Datastore, rep.Datastore)
			assert.Equal(t, tc.want.Folder, rep.Folder)
			assert.Equal(t, tc.want.ResourcePool, rep.ResourcePool)
			assert.Equal(t, "VMware vCenter Server", rep.Product.Name)
			assert.NotEmpty(t, rep.Product.Version)
			assert.NotEmpty(t, rep.Product.Build)
			assert.Equal(t, "VirtualCenter", rep.Product.APIType)
			assert.LessOrEqual(t, rep.Requests, 8)
			assert.Equal(t, 5, rep.Requests, "service content, login, one inventory read, privilege query, logout")
			assert.Positive(t, rep.Elapsed)
		})
	}
	assert.Zero(t, sessions(t, srv), "every check logged out")
}

func TestCheckIPv6(t *testing.T) {
	srv := vspheretest.NewServer(t, vspheretest.Options{IPv6: true})
	for _, server := range []string{srv.URL.Host, "https://" + srv.URL.Host + "/sdk", "https://" + srv.URL.Host} {
		t.Run(server, func(t *testing.T) {
			tg := target(srv)
			tg.Server, tg.Folder = server, ""
			rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			require.NoError(t, err)
			assert.Equal(t, "/DC0/vm", rep.Folder)
		})
	}
}

func TestCheckLookupErrors(t *testing.T) {
	srv := newVCenter(t)
	tests := []struct {
		name      string
		modify    func(*vsphere.Target)
		kind      string
		available []string
		where     string
	}{{
		name:      "unknown datacenter lists datacenters",
		modify:    func(tg *vsphere.Target) { tg.Datacenter = "DC9" },
		kind:      "datacenter",
		available: []string{"DC0", "DC1"},
		where:     "vCenter " + srv.URL.Host,
	}, {
		name:      "unknown datastore lists the datacenter's datastores",
		modify:    func(tg *vsphere.Target) { tg.Datastore = "ds9" },
		kind:      "datastore",
		available: []string{"LocalDS_0"},
		where:     "datacenter DC0",
	}, {
		name:      "unknown folder lists folders under the VM folder",
		modify:    func(tg *vsphere.Target) { tg.Folder = "juju-kubernetes" },
		kind:      "folder",
		available: []string{"k8s", "k8s/nodes"},
		where:     "the VM folder of datacenter DC0",
	}, {
		name:      "folder of another datacenter",
		modify:    func(tg *vsphere.Target) { tg.Folder = "/DC1/vm/k8s" },
		kind:      "folder",
		available: []string{"k8s", "k8s/nodes"},
		where:     "the VM folder of datacenter DC0",
	}, {
		name:      "unknown resource pool lists pools",
		modify:    func(tg *vsphere.Target) { tg.ResourcePool = "DC0_C0/Resources/gold" },
		kind:      "resource pool",
		available: []string{"DC0_C0/Resources", "DC0_C0/Resources/DC0_C0_RP1", "DC0_H0/Resources"},
		where:     "datacenter DC0",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := target(srv)
			tc.modify(&tg)
			_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			var nf *vsphere.NotFoundError
			require.ErrorAs(t, err, &nf)
			assert.Equal(t, tc.kind, nf.Kind)
			assert.Equal(t, tc.available, nf.Available)
			assert.Equal(t, tc.where, nf.Where)
			assert.Zero(t, nf.More)
			assert.NotContains(t, err.Error(), tg.Password)
			t.Log(err)
		})
	}

	t.Run("ambiguous pool name lists the matching paths", func(t *testing.T) {
		tg := target(srv)
		tg.ResourcePool = "Resources"
		_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
		var amb *vsphere.AmbiguousError
		require.ErrorAs(t, err, &amb)
		assert.Equal(t, "resource pool", amb.Kind)
		assert.Equal(t, []string{"/DC0/host/DC0_C0/Resources", "/DC0/host/DC0_H0/Resources"}, amb.Matches)
		t.Log(err)
	})
	assert.Zero(t, sessions(t, srv), "failed lookups logged out too")
}

func TestNotFoundListIsCapped(t *testing.T) {
	srv := newVCenter(t, func(m *simulator.Model) { m.Datastore = 13 })
	tg := target(srv)
	tg.Datastore = "ds9"
	_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
	var nf *vsphere.NotFoundError
	require.ErrorAs(t, err, &nf)
	assert.Len(t, nf.Available, 10)
	assert.Equal(t, 3, nf.More)
	assert.Contains(t, err.Error(), "and 3 more")
}

func TestCheckLogin(t *testing.T) {
	srv := newVCenter(t)
	old := srv.Password()
	tests := []struct {
		name     string
		password string // "" means the current one
		rotate   string // new password set on the server before the check
		ok       bool
	}{
		{name: "right password", ok: true},
		{name: "wrong password", password: "not-" + old},
		{name: "old password after rotation", password: old, rotate: "Rotated-1!"},
		{name: "new password after rotation", rotate: "Rotated-2!", ok: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rotate != "" {
				srv.SetPassword(tc.rotate)
			}
			tg := target(srv)
			if tc.password != "" {
				tg.Password = tc.password
			}
			_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var le *vsphere.LoginError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, srv.User, le.User)
			assert.Equal(t, srv.URL.Host, le.Server)
			assert.True(t, fault.Is(err, &types.InvalidLogin{}))
			assert.NotContains(t, err.Error(), tg.Password)
		})
	}
	assert.Zero(t, sessions(t, srv))
}

func TestCheckTLS(t *testing.T) {
	srv := vspheretest.NewServer(t, vspheretest.Options{})
	lowerBare := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, ":", "")) }
	tests := []struct {
		name     string
		tls      vsphere.TLS
		untrust  bool // CertificateError expected
		mismatch bool
	}{
		{name: "insecure", tls: vsphere.TLS{Insecure: true}},
		{name: "insecure wins over a wrong CA", tls: vsphere.TLS{Insecure: true, CAs: []string{vspheretest.UnrelatedCA(t)}}},
		{name: "correct CA", tls: vsphere.TLS{CAs: []string{srv.CA}}},
		{name: "correct CA among others in one PEM", tls: vsphere.TLS{CAs: []string{vspheretest.UnrelatedCA(t) + srv.CA}}},
		{name: "correct CA as second entry", tls: vsphere.TLS{CAs: []string{vspheretest.UnrelatedCA(t), srv.CA}}},
		{name: "wrong CA", tls: vsphere.TLS{CAs: []string{vspheretest.UnrelatedCA(t)}}, untrust: true},
		{name: "no CA: system roots do not know it", tls: vsphere.TLS{}, untrust: true},
		{name: "SHA-256 upper with colons", tls: vsphere.TLS{Thumbprint: srv.SHA256}},
		{name: "SHA-256 lower without colons", tls: vsphere.TLS{Thumbprint: lowerBare(srv.SHA256)}},
		{name: "SHA-1 upper with colons", tls: vsphere.TLS{Thumbprint: srv.SHA1}},
		{name: "SHA-1 lower with colons", tls: vsphere.TLS{Thumbprint: strings.ToLower(srv.SHA1)}},
		{name: "SHA-1 upper without colons", tls: vsphere.TLS{Thumbprint: strings.ToUpper(lowerBare(srv.SHA1))}},
		{name: "pinned thumbprint wins over a wrong CA", tls: vsphere.TLS{Thumbprint: srv.SHA256, CAs: []string{vspheretest.UnrelatedCA(t)}}},
		{name: "wrong SHA-256", tls: vsphere.TLS{Thumbprint: strings.Repeat("AB", 32)}, untrust: true, mismatch: true},
		{name: "wrong SHA-1 even with the right CA", tls: vsphere.TLS{Thumbprint: strings.Repeat("ab:", 19) + "ab", CAs: []string{srv.CA}}, untrust: true, mismatch: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := target(srv)
			tg.Folder = ""
			tg.TLS = tc.tls
			_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			if !tc.untrust {
				require.NoError(t, err)
				return
			}
			var ce *vsphere.CertificateError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, srv.SHA1, ce.SHA1, "presented certificate's SHA-1")
			assert.Equal(t, srv.SHA256, ce.SHA256, "presented certificate's SHA-256")
			assert.Equal(t, tc.mismatch, ce.Mismatch)
			assert.Contains(t, err.Error(), srv.SHA256, "the admin can read what to pin")
			if !tc.mismatch {
				var unknown x509.UnknownAuthorityError
				var sys x509.SystemRootsError
				assert.True(t, errors.As(err, &unknown) || errors.As(err, &sys), "cause kept: %v", err)
			}
			t.Log(err)
		})
	}
	assert.Zero(t, sessions(t, srv))
}

// refusedAddr is a loopback address nothing listens on.
func refusedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// silentAddr accepts TCP connections and never sends a byte: a TLS
// handshake against it can only end by the deadline.
func silentAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return l.Addr().String()
}

func TestCheckUnreachable(t *testing.T) {
	tg := vsphere.Target{User: "u", Password: "p", Datacenter: "DC0", Datastore: "LocalDS_0", TLS: vsphere.TLS{Insecure: true}}
	tests := []struct {
		name    string
		server  string
		cause   error // errors.Is target, nil: any
		timeout bool
	}{
		{name: "connection refused", server: refusedAddr(t), cause: syscall.ECONNREFUSED},
		{name: "TLS handshake never completes", server: silentAddr(t), cause: context.DeadlineExceeded, timeout: true},
		{name: "unknown host", server: "vcenter.invalid"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := tg
			tg.Server = tc.server
			const deadline = time.Second
			start := time.Now()
			_, err := vsphere.Check(timeout(t, deadline), tg)
			elapsed := time.Since(start)
			var ue *vsphere.UnreachableError
			require.ErrorAs(t, err, &ue)
			assert.Contains(t, ue.Address, strings.TrimSuffix(tc.server, ":"))
			if tc.cause != nil {
				assert.ErrorIs(t, err, tc.cause)
			}
			// Generous: only "about the deadline, not a hang" is asserted.
			assert.Less(t, elapsed, deadline+3*time.Second)
			if tc.timeout {
				assert.GreaterOrEqual(t, elapsed, deadline-100*time.Millisecond)
			}
			t.Log(err)
		})
	}
}

func TestCheckDeadline(t *testing.T) {
	tests := []struct {
		name     string
		delay    simulator.DelayConfig
		hang     bool
		sessions bool // count sessions afterwards (the count is not delayed)
	}{{
		name:  "every call delayed",
		delay: simulator.DelayConfig{Delay: 3000},
	}, {
		name:     "inventory read delayed after login",
		delay:    simulator.DelayConfig{MethodDelay: map[string]int{"RetrievePropertiesEx": 3000}},
		sessions: true,
	}, {
		name:     "server stops answering",
		hang:     true,
		sessions: true,
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := simulator.VPX()
			m.DelayConfig = tc.delay // set before start: vcsim reads it unlocked
			srv := vspheretest.NewServer(t, vspheretest.Options{Model: m})
			if tc.hang {
				srv.Hang()
			}
			tg := target(srv)
			tg.Folder = ""
			const deadline = time.Second
			start := time.Now()
			_, err := vsphere.Check(timeout(t, deadline), tg)
			elapsed := time.Since(start)
			var ue *vsphere.UnreachableError
			require.ErrorAs(t, err, &ue)
			assert.ErrorIs(t, err, context.DeadlineExceeded)
			assert.GreaterOrEqual(t, elapsed, deadline-100*time.Millisecond)
			// Generous bound: about the deadline (plus at most the logout
			// grace when a session was open), well under the 3 s delay.
			assert.Less(t, elapsed, deadline+2500*time.Millisecond)
			t.Log(elapsed, err)
			if tc.hang {
				srv.Resume()
			}
			if tc.sessions {
				assert.Zero(t, sessions(t, srv), "logged out past the deadline")
			}
		})
	}
}

func TestCheckFaultAfterLogin(t *testing.T) {
	srv := newVCenter(t)
	before := sessions(t, srv)
	srv.Model.Service.AddFaultRule(&simulator.FaultInjectionRule{
		MethodName:  "RetrievePropertiesEx",
		ObjectType:  "*",
		ObjectName:  "*",
		Probability: 1,
		FaultType:   simulator.FaultTypeGeneric,
		Message:     "injected by test",
		MaxCount:    1,
		Enabled:     true,
	})
	_, err := vsphere.Check(timeout(t, 10*time.Second), target(srv))
	require.Error(t, err)
	assert.True(t, fault.Is(err, &types.SystemErrorFault{}), "fault kept in the chain: %v", err)
	assert.Contains(t, err.Error(), "read inventory")
	assert.Contains(t, err.Error(), "injected by test")
	srv.Model.Service.ClearFaultRules()
	assert.Equal(t, before, sessions(t, srv), "logged out after the fault")
	t.Log(err)
}

func TestNoSessionLeaks(t *testing.T) {
	srv := newVCenter(t)
	before := sessions(t, srv)
	ctx := timeout(t, 2*time.Minute)
	for i := range 200 {
		tg := target(srv)
		if i%2 == 1 {
			tg.Datastore = "ds9" // fails after login
		}
		_, err := vsphere.Check(ctx, tg)
		if i%2 == 1 {
			var nf *vsphere.NotFoundError
			require.ErrorAs(t, err, &nf)
		} else {
			require.NoError(t, err)
		}
	}
	assert.Equal(t, before, sessions(t, srv))
}

func TestCheckCanceled(t *testing.T) {
	srv := newVCenter(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := vsphere.Check(ctx, target(srv))
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, sessions(t, srv))
}

func TestCheckNestedDatacenter(t *testing.T) {
	m := simulator.VPX()
	m.Datacenter, m.Folder = 2, 1 // DC1 and its inventory live in folders F0
	srv := vspheretest.NewServer(t, vspheretest.Options{Model: m})
	tests := []struct {
		name, datacenter, datastore, pool string
		want                              vsphere.Report
	}{
		{"by name", "DC1", "LocalDS_0", "", vsphere.Report{Datacenter: "/F0/DC1"}},
		{"by relative path", "F0/DC1", "LocalDS_0", "", vsphere.Report{Datacenter: "/F0/DC1"}},
		{"by absolute path", "/F0/DC1", "LocalDS_0", "", vsphere.Report{Datacenter: "/F0/DC1"}},
		{"top level one by name", "DC0", "LocalDS_0", "", vsphere.Report{Datacenter: "/DC0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := target(srv)
			tg.Datacenter, tg.Datastore, tg.Folder, tg.ResourcePool = tc.datacenter, tc.datastore, "", tc.pool
			rep, err := vsphere.Check(timeout(t, 10*time.Second), tg)
			require.NoError(t, err)
			assert.Equal(t, tc.want.Datacenter, rep.Datacenter)
		})
	}
	t.Run("unknown lists paths", func(t *testing.T) {
		tg := target(srv)
		tg.Datacenter = "DC9"
		_, err := vsphere.Check(timeout(t, 10*time.Second), tg)
		var nf *vsphere.NotFoundError
		require.ErrorAs(t, err, &nf)
		assert.Equal(t, []string{"DC0", "F0/DC1"}, nf.Available)
	})
}
