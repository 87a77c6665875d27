package vspheretest_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/vmware/govmomi/lookup"
	lookupmethods "github.com/vmware/govmomi/lookup/methods"
	lookuptypes "github.com/vmware/govmomi/lookup/types"
	"github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/ssoadmin"
	ssomethods "github.com/vmware/govmomi/ssoadmin/methods"
	ssotypes "github.com/vmware/govmomi/ssoadmin/types"
	"github.com/vmware/govmomi/sts"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/soap"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// reverseProxy is a plain HTTPS reverse proxy in front of the simulator,
// forwarding every path as it came, as one in front of vCenter must for its
// SSO to be usable; it records the paths it forwarded.
type reverseProxy struct {
	URL *url.URL // https://127.0.0.1:PORT/sdk
	srv *httptest.Server

	mu    sync.Mutex
	paths []string
}

func newReverseProxy(t *testing.T, behind *vspheretest.Server) *reverseProxy {
	t.Helper()
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM([]byte(behind.CA)))
	p := &reverseProxy{}
	rp := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			p.mu.Lock()
			p.paths = append(p.paths, pr.In.URL.Path)
			p.mu.Unlock()
			pr.SetURL(&url.URL{Scheme: "https", Host: behind.URL.Host})
		},
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
	}
	p.srv = httptest.NewTLSServer(rp)
	t.Cleanup(func() {
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	u, err := url.Parse(p.srv.URL)
	require.NoError(t, err)
	p.URL = &url.URL{Scheme: "https", Host: u.Host, Path: "/sdk"}
	return p
}

// forwarded reports whether the proxy forwarded a request under prefix.
func (p *reverseProxy) forwarded(prefix string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.ContainsFunc(p.paths, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// TestSSOBehindProxy: the lookup service names STS and SSO admin at the
// simulator's own address, as vCenter names them at its own name, whatever
// proxy the client came through. govmomi's stock clients go there when they
// can reach and trust it, past the proxy; a client that keeps the host it
// was given and takes only the path from the lookup service stays on the
// proxy, and STS and SSO admin work through it.
func TestSSOBehindProxy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	srv := vspheretest.NewServer(t, vspheretest.Options{SSO: true})
	proxy := newReverseProxy(t, srv)
	proxyThumb := soap.ThumbprintSHA256(proxy.srv.Certificate())

	login := func(t *testing.T, trustSimulator bool) *vim25.Client {
		t.Helper()
		sc := soap.NewClient(proxy.URL, false)
		sc.SetThumbprint(proxy.URL.Host, proxyThumb)
		if trustSimulator {
			sc.SetThumbprint(srv.URL.Host, srv.SHA256)
		}
		c, err := vim25.NewClient(ctx, sc)
		require.NoError(t, err)
		require.NoError(t, session.NewManager(c).Login(ctx, url.UserPassword(srv.User, srv.Password())))
		return c
	}

	t.Run("the lookup service names the simulator's own address", func(t *testing.T) {
		c := login(t, false)
		sc := c.NewServiceClient(lookup.Path, lookup.Namespace)
		sc.Version = lookup.Version
		lc := &lookup.Client{Client: sc, RoundTripper: sc}
		res, err := lookupmethods.RetrieveServiceContent(ctx, lc, &lookuptypes.RetrieveServiceContent{This: lookup.ServiceInstance})
		require.NoError(t, err)
		lc.ServiceContent = res.Returnval
		infos, err := lc.List(ctx, &lookuptypes.LookupServiceRegistrationFilter{
			ServiceType: &lookuptypes.LookupServiceRegistrationServiceType{Product: "com.vmware.cis", Type: "cs.identity"},
		})
		require.NoError(t, err)
		require.NotEmpty(t, infos)
		for _, info := range infos {
			for _, ep := range info.ServiceEndpoints {
				u, err := url.Parse(ep.Url)
				require.NoError(t, err)
				assert.Equal(t, srv.URL.Host, u.Host, ep.Url)
			}
		}
		assert.True(t, proxy.forwarded(lookup.Path), "the lookup service was asked through the proxy")
	})

	t.Run("govmomi goes past the proxy when it trusts the simulator", func(t *testing.T) {
		before := srv.SSORequests()
		stsc, err := sts.NewClient(ctx, login(t, true))
		require.NoError(t, err)
		assert.Equal(t, srv.URL.Host, stsc.URL().Host)
		_, err = stsc.Issue(ctx, sts.TokenRequest{Userinfo: url.UserPassword(srv.User, srv.Password())})
		require.NoError(t, err)
		assert.Greater(t, srv.SSORequests(), before)
		assert.False(t, proxy.forwarded("/sts/"), "STS was reached directly")
	})

	t.Run("govmomi falls back to the proxy when the simulator is not trusted", func(t *testing.T) {
		stsc, err := sts.NewClient(ctx, login(t, false))
		require.NoError(t, err)
		assert.Equal(t, proxy.URL.Host, stsc.URL().Host)
	})

	t.Run("path only, on the host given", func(t *testing.T) {
		c := login(t, false)
		stsc := c.NewServiceClient("/sts/STSService/vsphere.local", sts.Namespace)
		signer, err := (&sts.Client{Client: stsc, RoundTripper: stsc}).Issue(ctx, sts.TokenRequest{Userinfo: url.UserPassword(srv.User, srv.Password())})
		require.NoError(t, err)
		assert.True(t, proxy.forwarded("/sts/STSService/vsphere.local"))

		sc := c.NewServiceClient("/sso-adminserver/sdk/vsphere.local", ssoadmin.Namespace)
		sc.Version = ssoadmin.Version
		admin := &ssoadmin.Client{Client: sc, RoundTripper: sc, Domain: "vsphere.local", Limit: 100}
		res, err := ssomethods.SsoAdminServiceInstance(ctx, admin, &ssotypes.SsoAdminServiceInstance{This: ssoadmin.ServiceInstance})
		require.NoError(t, err)
		admin.ServiceContent = res.Returnval
		require.NoError(t, admin.Login(admin.WithHeader(ctx, soap.Header{Security: signer})))
		require.NoError(t, admin.CreatePersonUser(ctx, "via-proxy", ssotypes.AdminPersonDetails{}, goodPassword))
		assert.True(t, proxy.forwarded("/sso-adminserver/sdk/vsphere.local"))
		assert.Equal(t, []string{"via-proxy@vsphere.local"}, srv.SSOUsers())
	})
}
