package vsphere

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"

	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/xml"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// What the check accepts from a server (docs/vcenter.md, "What the charm
// accepts from a server"): whatever answers on the vCenter address, a proxy
// or a server that is not vCenter at all included, is untrusted input.
const (
	// maxAnswerBytes caps one answer's body. The largest answer of a check
	// is the inventory read: under 1 MiB at 4,000 VMs, a whole check with
	// 1,000 nodes 3.6 MiB (BenchmarkCheckScale, docs/vcenter.md), so the
	// cap leaves over 60 times that.
	maxAnswerBytes = 64 << 20
	// maxSessionBytes caps the answers of one session together: a server
	// that pages forever, each page under the cap, must not grow memory
	// until the deadline.
	maxSessionBytes = 4 * maxAnswerBytes
	// maxHeaderBytes caps an answer's HTTP headers (net/http's default is
	// 10 MB); vCenter sends well under 1 KiB.
	maxHeaderBytes = 64 << 10
	// maxServerText bounds a piece of text the server sent (a product
	// field, a fault's message, an object name) wherever it is reported.
	maxServerText = 256
	// maxPathText bounds an inventory path, a chain of server names.
	maxPathText = 512
)

// answerLimits is what one session may still read; tests lower the caps.
var answerLimits = struct{ answer, session int64 }{maxAnswerBytes, maxSessionBytes}

// LimitAnswersForTest lowers the cap on one answer to n bytes (the session
// cap to 4n) until restore is called, so that a test or fuzz target outside
// the package can send an answer over the cap without sending 64 MiB. Not
// safe to call while a check runs.
func LimitAnswersForTest(n int64) (restore func()) {
	saved := answerLimits
	answerLimits.answer, answerLimits.session = n, 4*n
	return func() { answerLimits = saved }
}

// BadAnswerError is an answer the check cannot use: an HTTP redirect or an
// HTTP status other than SOAP's 200 and 500, a body that is not the SOAP
// answer asked for, a missing part the check needs, or a body over the cap
// (then Err is an *AnswerTooLargeError). What says what was wrong, quoting
// at most a short, redacted piece of the server's text.
type BadAnswerError struct {
	Server string
	Op     string // "connect", "login", "read inventory", ...; "" when not known
	What   string
	Err    error
}

func (e *BadAnswerError) Error() string {
	op := ""
	if e.Op != "" {
		op = " to " + e.Op
	}
	return fmt.Sprintf("vCenter %s gave an unusable answer%s: %s", e.Server, op, e.What)
}

func (e *BadAnswerError) Unwrap() error { return e.Err }

// AnswerTooLargeError is an answer, or the answers of one check together,
// over the cap the check reads.
type AnswerTooLargeError struct {
	Limit   int64
	Session bool // the cap on one session's answers together
}

func (e *AnswerTooLargeError) Error() string {
	if e.Session {
		return fmt.Sprintf("the answers exceeded the %s the charm reads in one check", size(e.Limit))
	}
	return fmt.Sprintf("the answer exceeded the %s the charm reads of one answer", size(e.Limit))
}

func size(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

// FaultError is a SOAP fault the server answered with. Kind is the fault's
// type (InvalidLogin, NoPermission, ...), or its faultcode when it has no
// detail; Message is its faultstring, redacted of the password and cut: a
// server may quote the request it refused, password included. Err is
// govmomi's error, for fault.Is.
type FaultError struct {
	Kind    string
	Message string
	Err     error
}

func (e *FaultError) Error() string {
	if e.Message == "" || e.Message == e.Kind {
		return "fault " + e.Kind
	}
	return fmt.Sprintf("fault %s: %s", e.Kind, e.Message)
}

func (e *FaultError) Unwrap() error { return e.Err }

// newFaultError makes a govmomi fault error a FaultError; other errors are
// returned as they are.
func newFaultError(sec *redact.Secrets, err error) error {
	var kind, msg string
	switch {
	case soap.IsSoapFault(err):
		f := soap.ToSoapFault(err)
		kind = typeName(f.Detail.Fault)
		if kind == "" {
			kind = sec.Server(f.Code, 64)
		}
		msg = f.String
	case soap.IsVimFault(err):
		kind = typeName(soap.ToVimFault(err))
	default:
		return err
	}
	if kind == "" {
		kind = "unknown"
	}
	return &FaultError{Kind: kind, Message: sec.Server(msg, maxServerText), Err: err}
}

// typeName is the name of a fault's Go type, the vim25 type it was decoded
// as ("" for nil): a name from govmomi's type table, never server text.
func typeName(v any) string {
	if v == nil {
		return ""
	}
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}

// guard is the HTTP layer under the SOAP client: it refuses redirects and
// statuses SOAP does not use, and caps the bytes read of each answer and of
// the session.
type guard struct {
	rt     http.RoundTripper
	sec    *redact.Secrets
	server string
	left   atomic.Int64 // bytes the session may still read
}

func newGuard(rt http.RoundTripper, sec *redact.Secrets, server string) *guard {
	g := &guard{rt: rt, sec: sec, server: server}
	g.left.Store(answerLimits.session)
	return g
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := g.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	code := res.StatusCode
	switch {
	case code >= 300 && code < 400:
		// net/http would follow it, re-sending the POST as a GET: its
		// answer is not the one asked for. The admin needs where it
		// pointed, the host only (a Location may hold anything).
		where := "without a location"
		if host := locationHost(res.Header.Get("Location")); host != "" {
			where = "to " + g.sec.Server(host, 128)
		}
		res.Body.Close()
		return nil, &BadAnswerError{Server: g.server, What: fmt.Sprintf("HTTP %d redirect %s; set vsphere_ip to the address vCenter answers on", code, where)}
	case code != http.StatusOK && code != http.StatusInternalServerError:
		res.Body.Close()
		// The status text is the server's; the code says as much.
		return nil, &BadAnswerError{Server: g.server, What: fmt.Sprintf("HTTP status %d %s", code, http.StatusText(code))}
	}
	res.Body = &cappedBody{rc: res.Body, g: g, left: answerLimits.answer}
	return res, nil
}

// locationHost is the host[:port] of a Location header, without the user
// info, path, query or fragment that may come with it, even when the URL
// does not parse: then everything up to the last "@" is taken for user info
// (a password may hold "/" or "@"; a host never holds "@").
func locationHost(loc string) string {
	if u, err := url.Parse(loc); err == nil {
		return u.Host
	}
	_, rest, ok := strings.Cut(loc, "://")
	if !ok {
		return ""
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// cappedBody reads an answer within the caps of its guard.
type cappedBody struct {
	rc   io.ReadCloser
	g    *guard
	left int64 // of this answer
	err  error
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	switch {
	case b.left < 0:
		b.err = &AnswerTooLargeError{Limit: answerLimits.answer}
	case b.g.left.Add(-int64(n)) < 0:
		b.err = &AnswerTooLargeError{Limit: answerLimits.session, Session: true}
	}
	if b.err != nil {
		return 0, b.err
	}
	return n, err
}

func (b *cappedBody) Close() error { return b.rc.Close() }

// checked is the SOAP round tripper of a session: it counts requests
// (keeping a check cheap for vCenter is a requirement, and the count is
// reported), turns faults into *FaultError, and makes an answer without the
// response element asked for a *BadAnswerError: govmomi returns it as nil,
// and every caller would dereference it.
type checked struct {
	rt     soap.RoundTripper
	sec    *redact.Secrets
	server string
	n      atomic.Int64
}

func (c *checked) RoundTrip(ctx context.Context, req, res soap.HasFault) error {
	c.n.Add(1)
	if err := c.rt.RoundTrip(ctx, req, res); err != nil {
		return newFaultError(c.sec, err)
	}
	if method, ok := missingResponse(req, res); ok {
		return &BadAnswerError{Server: c.server, What: "no " + method + "Response in the SOAP body"}
	}
	return nil
}

// missingResponse reports whether res, one of govmomi's method bodies
// (methods.LoginBody, ...), came back without its Res, and names the method.
func missingResponse(req, res soap.HasFault) (string, bool) {
	v := reflect.ValueOf(res)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return "", false
	}
	f := v.Elem().FieldByName("Res")
	if !f.IsValid() || f.Kind() != reflect.Pointer || !f.IsNil() {
		return "", false
	}
	method := "the"
	if rv := reflect.ValueOf(req); rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		if r := rv.Elem().FieldByName("Req"); r.IsValid() {
			method = strings.TrimPrefix(r.Type().String(), "*types.")
		}
	}
	return method, true
}

// badAnswer makes err a *BadAnswerError when it says the answer could not be
// used (over the cap, not XML, empty, or already one), and reports whether
// it did.
func badAnswer(sec *redact.Secrets, server, op string, err error) (*BadAnswerError, bool) {
	var bad *BadAnswerError
	if errors.As(err, &bad) {
		if bad.Op == "" {
			bad.Op = op
		}
		return bad, true
	}
	var big *AnswerTooLargeError
	var syn *xml.SyntaxError
	var unm xml.UnmarshalError
	var what string
	switch {
	case errors.As(err, &big):
		what = big.Error()
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		what = "empty or cut short, no SOAP envelope"
	case errors.As(err, &syn), errors.As(err, &unm):
		// Go's XML errors quote element names the server chose.
		what = "not a SOAP answer: " + sec.Server(err.Error(), maxServerText)
	default:
		return nil, false
	}
	return &BadAnswerError{Server: server, Op: op, What: what, Err: err}, true
}
