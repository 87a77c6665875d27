package vsphere

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/vmware/govmomi/fault"
	vimsession "github.com/vmware/govmomi/session"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// logoutGrace is the least time a logout gets, even when the check's context
// is already done: an abandoned session counts against vCenter's session cap
// until it idles out (30 minutes by default), so it is worth a short wait
// past the deadline. Only a check that logged in can overrun, by this much.
const logoutGrace = 3 * time.Second

// userAgent names the charm in vCenter's session list, so an admin can tell
// whose sessions they are.
const userAgent = "vsphere-integrator-charm"

// session is one vCenter login. Every lookup of a check goes through it, so
// login is paid once and logout happens in one place (close).
type session struct {
	p        *prepared
	start    time.Time
	soap     *soap.Client
	client   *vim25.Client
	counter  *checked
	loggedIn bool
	user     string // as vCenter names the logged-in user
}

// openSession connects, reads the service content and logs in. On error
// nothing is left open.
func openSession(ctx context.Context, p *prepared) (*session, error) {
	sc := soap.NewClient(p.url, p.target.TLS.Insecure)
	tr := sc.DefaultTransport()
	// Let net/http do the TLS handshake (it honours the request context) with
	// our verification, rather than govmomi's dialer (it does not).
	tr.DialTLSContext = nil
	tr.TLSClientConfig = tlsConfig(p)
	// The context bounds the check; these only bound a dial or handshake
	// that net/http keeps going after the request gave up on it.
	tr.DialContext = (&net.Dialer{Timeout: DefaultTimeout, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = DefaultTimeout
	tr.MaxResponseHeaderBytes = maxHeaderBytes
	// A redirect is refused below (guard) and never followed: net/http
	// would re-send the POST as a GET.
	sc.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	sc.Client.Transport = newGuard(tr, p.secrets, p.url.Host)
	sc.Namespace = "urn:" + vim25.Namespace
	sc.Version = vim25.Version
	sc.UserAgent = userAgent

	s := &session{p: p, start: time.Now(), soap: sc, counter: &checked{rt: sc, sec: p.secrets, server: p.url.Host}}
	client, err := vim25.NewClient(ctx, s.counter)
	if err != nil {
		s.close(ctx)
		return nil, s.fail(ctx, "connect", err)
	}
	// NewClient sets its soap.Client only when handed one; every request
	// goes through s.counter all the same.
	client.Client = sc
	s.client = client
	content := client.ServiceContent
	// Some other SOAP service, or a vCenter with its session service down,
	// has no session manager: nothing to log in to, and dereferencing would
	// panic. Without a property collector or root folder nothing can be
	// read.
	missing := ""
	switch {
	case content.SessionManager == nil:
		missing = "session manager"
	case content.PropertyCollector.Value == "":
		missing = "property collector"
	case content.RootFolder.Value == "":
		missing = "root folder"
	}
	if missing != "" {
		s.close(ctx)
		return nil, &NotVCenterError{Server: p.url.Host, Product: p.secrets.Server(content.About.FullName, maxServerText), Missing: missing}
	}

	// The one raw call (docs/vcenter.md, "What the charm accepts from a
	// server"): session.Manager.Login keeps the UserSession it gets to
	// itself, and reading it back (UserSession) is one more request per
	// check; the answer's Key and UserName are needed here, the Key to tell
	// a login from an answer that logged nothing in.
	login, err := methods.Login(ctx, s.counter, &types.Login{
		This:     *content.SessionManager,
		UserName: p.target.User,
		Password: p.target.Password,
	})
	if err != nil {
		s.close(ctx)
		return nil, s.fail(ctx, "login", err)
	}
	s.loggedIn = true
	if login.Returnval.Key == "" {
		// Every vCenter session has a key; an answer without one logged
		// nothing in (a proxy's page, a server that is not vCenter).
		err := &BadAnswerError{Server: p.url.Host, Op: "login", What: "no session in the Login answer"}
		s.close(ctx)
		return nil, err
	}
	// vCenter's own spelling of the user ("VSPHERE.LOCAL\\k8s") is what its
	// privilege queries take.
	s.user = login.Returnval.UserName
	if s.user == "" {
		s.user = p.target.User
	}
	return s, nil
}

// close logs out if logged in, with a context that outlives ctx by up to
// logoutGrace (see there), and drops the connections.
func (s *session) close(ctx context.Context) {
	defer s.soap.CloseIdleConnections()
	if !s.loggedIn {
		return
	}
	s.loggedIn = false
	// Logged in means openSession found the session manager.
	if s.client == nil || s.client.ServiceContent.SessionManager == nil {
		return
	}
	lctx, cancel := graceContext(ctx, logoutGrace)
	defer cancel()
	// A failed logout leaves nothing for the caller to do: the session idles
	// out on the server side.
	_ = vimsession.NewManager(s.client).Logout(lctx)
}

// graceContext is for cleanup that must happen even when ctx is done (a
// logout, deleting a test disk): a context not canceled with ctx that ends
// at ctx's deadline, or grace from now if that is later.
func graceContext(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	deadline := time.Now().Add(grace)
	if d, ok := ctx.Deadline(); ok && d.After(deadline) && ctx.Err() == nil {
		deadline = d
	}
	return context.WithDeadline(context.WithoutCancel(ctx), deadline)
}

func (s *session) requests() int { return int(s.counter.n.Load()) }

// fail turns an error of operation op into one of the package's typed errors
// when it is one of the cases an admin can act on.
func (s *session) fail(ctx context.Context, op string, err error) error {
	var certErr *CertificateError
	if errors.As(err, &certErr) {
		return certErr
	}
	if bad, ok := badAnswer(s.p.secrets, s.p.url.Host, op, err); ok {
		return bad
	}
	if fault.Is(err, &types.InvalidLogin{}) {
		return &LoginError{Server: s.p.url.Host, User: s.p.target.User, Err: err}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		budget := ""
		if d, ok := ctx.Deadline(); ok {
			budget = " within " + d.Sub(s.start).Round(100*time.Millisecond).String()
		}
		return &UnreachableError{Address: s.p.addr, Err: fmt.Errorf("no answer%s (%s): %w", budget, op, context.DeadlineExceeded)}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("vCenter %s: %s: %w", s.p.url.Host, op, ctx.Err())
	}
	if cause, ok := networkError(err); ok {
		return &UnreachableError{Address: s.p.addr, Err: cause}
	}
	var fe *FaultError
	if errors.As(err, &fe) {
		return fmt.Errorf("vCenter %s: %s: %w", s.p.url.Host, op, err)
	}
	// Anything else may quote the server (a url.Error quotes what it could
	// not parse): only redacted and cut.
	return fmt.Errorf("vCenter %s: %s: %w", s.p.url.Host, op, &boundedError{text: s.p.secrets.Server(err.Error(), maxServerText), err: err})
}

// boundedError is an error shown only redacted and cut; Unwrap keeps the
// original for errors.Is and errors.As.
type boundedError struct {
	text string
	err  error
}

func (e *boundedError) Error() string { return e.text }

func (e *boundedError) Unwrap() error { return e.err }

// networkError reports whether err is a transport failure (DNS, refused,
// reset, TLS handshake) rather than an answer from the server, and returns it
// without the url.Error wrapper, whose text repeats the URL.
func networkError(err error) (error, bool) {
	var ue *url.Error
	if !errors.As(err, &ue) {
		return nil, false
	}
	cause := ue.Err
	var ne net.Error
	var rh tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(cause, &ne), errors.As(cause, &rh), errors.As(cause, &alert),
		errors.Is(cause, io.EOF), errors.Is(cause, io.ErrUnexpectedEOF):
		return cause, true
	}
	return nil, false
}
