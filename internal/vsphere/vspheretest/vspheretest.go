// Package vspheretest runs the govmomi vCenter simulator (vcsim) for tests:
// over real HTTPS on loopback, with a certificate from a throw-away CA, and
// with one user and password that it enforces (vcsim's default accepts any
// login, which would make a wrong-password test prove nothing).
package vspheretest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// Defaults for Options.
const (
	DefaultUser     = "k8s@vsphere.local"
	DefaultPassword = "Sim-Passw0rd!"
)

// Options shape the simulator.
type Options struct {
	User, Password string // DefaultUser / DefaultPassword when empty
	// Model is the inventory (counts of datacenters, pools, ...; DelayConfig),
	// not yet created; simulator.VPX() when nil. Setting DelayConfig here,
	// before start, is the race-free way to slow every call down.
	Model *simulator.Model
	// IPv6 listens on [::1] instead of 127.0.0.1; the test is skipped when
	// the host has no IPv6 loopback.
	IPv6 bool
	// SSO serves vCenter's lookup service, STS and SSO admin service too,
	// made to behave like vCenter's (sso.go); the trusted account is an SSO
	// administrator.
	SSO bool
}

// Server is a running simulator. Its fields are read-only.
type Server struct {
	URL          *url.URL // https://127.0.0.1:PORT/sdk, without user info
	User         string
	CA           string // PEM of the CA that signed the server certificate
	SHA1, SHA256 string // thumbprints of the server certificate, upper hex with colons
	Model        *simulator.Model

	srv *simulator.Server

	requests atomic.Int64

	authz *authorizationManager

	mu       sync.Mutex
	password string
	hold     chan struct{}          // non-nil while Hang is in effect
	held     map[string]*heldMethod // Hold
	closed   bool
	denied   map[types.ManagedObjectReference][]string // DenyPrivilege
	// answerUnknown: AnswerUnknownPrivileges
	answerUnknown bool
	taskFaults    map[string][]types.BaseMethodFault // FailDiskTask, by method

	sso *ssoState // Options.SSO; nil without
}

// internalCall marks calls made in process by the Server itself (Client,
// SessionCount), which Hang must not block.
type internalCall struct{}

// NewServer starts a simulator and stops it when the test ends.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	if opts.IPv6 {
		l, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		_ = l.Close()
	}
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// Start starts a simulator outside a test (the demo); the caller must Close
// it.
func Start(opts Options) (*Server, error) {
	if opts.User == "" {
		opts.User = DefaultUser
	}
	if opts.Password == "" {
		opts.Password = DefaultPassword
	}
	host := "127.0.0.1:0"
	if opts.IPv6 {
		host = "[::1]:0"
	}
	m := opts.Model
	if m == nil {
		m = simulator.VPX()
	}
	if err := m.Create(); err != nil {
		return nil, fmt.Errorf("vcsim model: %w", err)
	}

	ca, err := newCA()
	if err != nil {
		m.Remove()
		return nil, err
	}
	leaf, err := ca.issue()
	if err != nil {
		m.Remove()
		return nil, err
	}
	s := &Server{User: opts.User, CA: ca.pem, Model: m, password: opts.Password}
	s.SHA1, s.SHA256 = thumbprints(leaf.Leaf)

	svc := m.Service
	svc.TLS = &tls.Config{Certificates: []tls.Certificate{leaf}}
	// A user other than simulator.DefaultLogin makes vcsim check logins; the
	// check itself goes through ValidLogin so that SetPassword can rotate it.
	svc.Listen = &url.URL{Host: host, User: url.UserPassword(opts.User, opts.Password)}
	svc.Context.Map.SessionManager().ValidLogin = s.validLogin
	svc.Context.Map.Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if ctx.Value(internalCall{}) == nil {
			s.requests.Add(1)
			s.wait()
			s.holdCall(method.Name)
		}
		return nil, nil
	}

	s.installAuthorization(m)
	s.installDiskManager(m)

	started := s.prepareSSO(svc, opts)
	s.srv = svc.NewServer()
	started()
	s.URL = &url.URL{Scheme: s.srv.URL.Scheme, Host: s.srv.URL.Host, Path: s.srv.URL.Path}
	return s, nil
}

// Password is the password the simulator currently accepts.
func (s *Server) Password() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.password
}

// SetPassword changes the accepted password; sessions already open stay
// open, as on vCenter.
func (s *Server) SetPassword(p string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.password = p
}

// Requests is the number of SOAP calls served over HTTP so far (calls made
// through Client and SessionCount excluded): a test can bound what an
// operation costs vCenter.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// Hang makes the simulator stop answering SOAP calls: connections and TLS
// handshakes still succeed, requests are read, no response comes until
// Resume (or Close).
func (s *Server) Hang() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil && !s.closed {
		s.hold = make(chan struct{})
	}
}

// Resume undoes Hang; held calls are then answered.
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

func (s *Server) wait() {
	s.mu.Lock()
	hold := s.hold
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
}

// heldMethod is one Hold in effect.
type heldMethod struct {
	arrived, release chan struct{}
	arrive, free     sync.Once
}

// Hold makes calls of one SOAP method (over HTTP) wait until release is
// called, or Close: the test decides where an operation stalls, so a
// deadline passes at that step and no other. arrived is closed when the
// first held call comes in. Calls already held are answered on release; so
// are later ones, which are no longer held.
func (s *Server) Hold(method string) (arrived <-chan struct{}, release func()) {
	h := &heldMethod{arrived: make(chan struct{}), release: make(chan struct{})}
	s.mu.Lock()
	if s.held == nil {
		s.held = map[string]*heldMethod{}
	}
	s.held[method] = h
	s.mu.Unlock()
	return h.arrived, func() {
		s.mu.Lock()
		if s.held[method] == h {
			delete(s.held, method)
		}
		s.mu.Unlock()
		h.free.Do(func() { close(h.release) })
	}
}

func (s *Server) holdCall(method string) {
	s.mu.Lock()
	h := s.held[method]
	s.mu.Unlock()
	if h == nil {
		return
	}
	h.arrive.Do(func() { close(h.arrived) })
	<-h.release
}

// Close stops the simulator; called automatically at the end of the test.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	held := s.held
	s.held = nil
	s.mu.Unlock()
	for _, h := range held {
		h.free.Do(func() { close(h.release) })
	}
	s.Resume() // the HTTP server waits for in-flight requests
	s.srv.Close()
	s.Model.Remove()
}

// Client is an in-process, always-authenticated client of the simulator for
// test setup (creating folders, pools); Hang does not affect it, fault rules
// and DelayConfig do.
func (s *Server) Client() *vim25.Client {
	c, err := vim25.NewClient(context.Background(), internalRT{s.Model.Service})
	if err != nil {
		panic(err) // in process: cannot fail short of a vcsim bug
	}
	return c
}

type internalRT struct{ svc *simulator.Service }

func (r internalRT) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	return r.svc.RoundTrip(context.WithValue(ctx, internalCall{}, true), req, res)
}

// SessionCount is the number of sessions open on the simulator, from its
// SessionManager's sessionList. It uses RetrieveProperties, not the
// RetrievePropertiesEx a check uses, so that a delay or fault rule aimed at
// the check's inventory read does not hit it.
func (s *Server) SessionCount(ctx context.Context) (int, error) {
	c := s.Client()
	res, err := methods.RetrieveProperties(ctx, c, &types.RetrieveProperties{
		This: c.ServiceContent.PropertyCollector,
		SpecSet: []types.PropertyFilterSpec{{
			ObjectSet: []types.ObjectSpec{{Obj: *c.ServiceContent.SessionManager}},
			PropSet:   []types.PropertySpec{{Type: "SessionManager", PathSet: []string{"sessionList"}}},
		}},
	})
	if err != nil {
		return 0, err
	}
	for _, oc := range res.Returnval {
		for _, p := range oc.PropSet {
			if list, ok := p.Val.(types.ArrayOfUserSession); ok {
				return len(list.UserSession), nil
			}
		}
	}
	return 0, nil
}

// UnrelatedCA returns the PEM of a fresh CA that signed nothing the
// simulator presents, for wrong-CA tests.
func UnrelatedCA(t testing.TB) string {
	t.Helper()
	c, err := newCA()
	if err != nil {
		t.Fatal(err)
	}
	return c.pem
}

type ca struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

var serial struct {
	sync.Mutex
	n int64
}

func nextSerial() *big.Int {
	serial.Lock()
	defer serial.Unlock()
	serial.n++
	return big.NewInt(time.Now().UnixNano() + serial.n)
}

func newCA() (*ca, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: "vspheretest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &ca{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, nil
}

// issue makes a server certificate valid for the loopback names.
func (c *ca) issue() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, &key.PublicKey, c.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

func thumbprints(cert *x509.Certificate) (string, string) {
	return soap.ThumbprintSHA1(cert), soap.ThumbprintSHA256(cert)
}
