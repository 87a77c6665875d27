package vspheretest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Hostile is a loopback HTTPS server standing where vCenter would, whose
// answers a test (or a fuzzer) chooses: each SOAP request goes to the
// Script, which returns the answer to send, or nil to forward the request
// to the simulator behind (when there is one) and send its answer back. It
// is the "anything on the path" of docs/vcenter.md: a proxy, a WAF, or a
// server that is not vCenter at all.
type Hostile struct {
	URL *url.URL // https://127.0.0.1:PORT/sdk
	// Behind is the simulator requests are forwarded to; nil answers every
	// request the script leaves alone with HTTP 500 and no body.
	Behind *Server

	srv *httptest.Server
	fwd *http.Client

	mu     sync.Mutex
	script Script
	seen   []Request
}

// Request is one request the Hostile server received.
type Request struct {
	N          int    // its place among the requests since the last SetScript, from 0
	HTTPMethod string // POST for SOAP; a client following a redirect sends GET
	Path       string
	Method     string // the SOAP method, "RetrieveServiceContent", "Login", ...; "" when none
	Body       []byte
}

// Answer is what the Hostile server sends for one request.
type Answer struct {
	Status int // 200 when 0
	Header http.Header
	Body   []byte
}

// Script chooses the answer to a request; forward asks the simulator
// behind and returns its answer, for a script that alters it.
type Script func(req Request, forward func() Answer) *Answer

// NewHostile starts a Hostile server in front of behind (nil: no
// simulator) and stops it when the test ends.
func NewHostile(t testing.TB, behind *Server) *Hostile {
	t.Helper()
	h := &Hostile{Behind: behind}
	if behind != nil {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM([]byte(behind.CA))
		h.fwd = &http.Client{
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(h.serve))
	// Idle keep-alive connections of clients that are done would make Close
	// wait; they are closed with the server.
	t.Cleanup(func() {
		h.srv.CloseClientConnections()
		h.srv.Close()
		if h.fwd != nil {
			h.fwd.CloseIdleConnections()
		}
	})
	u, _ := url.Parse(h.srv.URL)
	h.URL = &url.URL{Scheme: "https", Host: u.Host, Path: "/sdk"}
	return h
}

// SetScript replaces the script and starts counting requests from 0.
func (h *Hostile) SetScript(s Script) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.script = s
	h.seen = nil
}

// Requests returns the requests received since the last SetScript.
func (h *Hostile) Requests() []Request {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]Request(nil), h.seen...)
}

func (h *Hostile) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 16<<20))
	h.mu.Lock()
	req := Request{N: len(h.seen), HTTPMethod: r.Method, Path: r.URL.Path, Method: soapMethod(body), Body: body}
	h.seen = append(h.seen, req)
	script := h.script
	h.mu.Unlock()

	forward := func() Answer { return h.forward(r, body) }
	var a *Answer
	if script != nil {
		a = script(req, forward)
	}
	if a == nil {
		fa := forward()
		a = &fa
	}
	for k, vs := range a.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	}
	status := a.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(a.Body)
}

// forward sends the request on to the simulator and returns its answer.
func (h *Hostile) forward(r *http.Request, body []byte) Answer {
	if h.Behind == nil {
		return Answer{Status: http.StatusInternalServerError}
	}
	// The path the client asked for: /sdk for vim25, and the lookup, STS
	// and SSO admin paths, which the client reaches through this proxy
	// too when it keeps the host it was given (docs/vcenter.md).
	u := *h.Behind.URL
	u.Path, u.RawQuery = r.URL.Path, r.URL.RawQuery
	req, err := http.NewRequestWithContext(r.Context(), r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return Answer{Status: http.StatusBadGateway}
	}
	for _, k := range []string{"Content-Type", "SOAPAction", "Cookie", "User-Agent"} {
		if v := r.Header.Get(k); v != "" {
			req.Header.Set(k, v)
		}
	}
	res, err := h.fwd.Do(req)
	if err != nil {
		return Answer{Status: http.StatusBadGateway}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	hdr := http.Header{}
	for _, c := range res.Header.Values("Set-Cookie") {
		hdr.Add("Set-Cookie", c)
	}
	return Answer{Status: res.StatusCode, Header: hdr, Body: b}
}

// soapMethod is the name of the first element in the SOAP body, "" when the
// request is not a SOAP envelope.
func soapMethod(body []byte) string {
	dec := xml.NewDecoder(bytes.NewReader(body))
	inBody := false
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		if se, ok := tok.(xml.StartElement); ok {
			if inBody {
				return se.Name.Local
			}
			inBody = se.Name.Local == "Body"
		}
	}
}

// Envelope wraps the XML of a SOAP body's content in an envelope, as
// vCenter answers.
func Envelope(content string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` +
		`<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
		`<soapenv:Body>` + content + `</soapenv:Body></soapenv:Envelope>`)
}

// Fault is a SOAP fault envelope with faultstring text (XML-escaped here)
// and, when detail is not "", that XML as its detail.
func Fault(text, detail string) []byte {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(text))
	f := `<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>` + b.String() + `</faultstring>`
	if detail != "" {
		f += `<detail>` + detail + `</detail>`
	}
	return Envelope(f + `</soapenv:Fault>`)
}
