package charm

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// fuzzPassword has the characters XML, JSON and URLs escape, so that an
// echo in any of those forms differs from the raw password.
const fuzzPassword = `Fz&<pw>'"1%/+`

// fuzzCap is the cap on one answer during the fuzz run (the real one is
// 64 MiB, docs/vcenter.md), so that an answer over it is cheap to send.
const fuzzCap = 1 << 20

// Bounds the fuzz target holds the check to (docs/vcenter.md, "What the
// charm accepts from a server").
const (
	maxFuzzError  = 4 << 10
	maxFuzzStatus = 1024
	// fuzzDeadline bounds one check: an answer shorter than its declared
	// length waits out the deadline, and a long one leaves the fuzzer
	// idle for most of its run.
	fuzzDeadline = 2 * time.Second
)

// FuzzCheck runs the vCenter check against a loopback HTTPS server whose
// answers come from the fuzzer, and the charm's classification and status
// of its result. The fuzzer chooses one answer (status, headers, body) for
// the request numbered at (0 is RetrieveServiceContent, 1 Login, 2 the
// inventory read, ...) and, when then is not empty, the body of a 200 for
// the request after it; every other request goes to vcsim behind, so the
// fuzzer reaches past the service content. "{{pw}}" in a body stands for
// the password, XML-escaped (it reads back as the raw password).
//
// Properties: no panic; no form of the password in the error, the record's
// reason, the status or the report; the error at most 4 KiB and the status
// message at most 1 KiB.
func FuzzCheck(f *testing.F) {
	restore := vsphere.LimitAnswersForTest(fuzzCap)
	f.Cleanup(restore)
	sim := vspheretest.NewServer(f, vspheretest.Options{Password: fuzzPassword})
	h := vspheretest.NewHostile(f, sim)

	var esc bytes.Buffer
	_ = xml.EscapeText(&esc, []byte(fuzzPassword))
	pwXML := esc.String()
	var sec redact.Secrets
	sec.Add(fuzzPassword)

	sc := serviceContent(f, sim)
	huge := strings.Repeat("v", 200<<10)
	hugeAbout := sc
	for _, field := range []string{"fullName", "version", "build", "name", "apiVersion"} {
		hugeAbout = replaceElement(hugeAbout, field, "{{pw}}"+huge)
	}
	// Fault escapes its text once more: the fault reads back with the
	// password XML-escaped; the envelope after it quotes it raw.
	quoting := string(vspheretest.Fault("Request rejected: <Login><userName>k8s</userName><password>{{pw}}</password></Login>", ""))
	f.Add(uint8(1), uint16(500), "", []byte(quoting), []byte(nil))
	f.Add(uint8(1), uint16(500), "", vspheretest.Envelope(`<soapenv:Fault><faultcode>ServerFaultCode</faultcode><faultstring>bad password {{pw}}</faultstring></soapenv:Fault>`), []byte(nil))
	f.Add(uint8(1), uint16(200), "", vspheretest.Envelope(""), []byte(nil))
	f.Add(uint8(0), uint16(200), "", []byte(nil), []byte(nil))
	f.Add(uint8(1), uint16(302), "Location: https://k8s:"+fuzzPassword+"@vc.example:8443/sdk?p="+fuzzPassword, []byte(nil), []byte(nil))
	f.Add(uint8(0), uint16(200), "", []byte(hugeAbout), []byte(nil))
	f.Add(uint8(0), uint16(200), "", []byte(hugeAbout), vspheretest.Envelope(""))
	f.Add(uint8(0), uint16(200), "", []byte(noSessionManager.ReplaceAllString(sc, "")), []byte(nil))
	f.Add(uint8(2), uint16(200), "", vspheretest.Envelope("<!--"+strings.Repeat(" ", fuzzCap)+"-->"), []byte(nil))
	f.Add(uint8(2), uint16(200), "", vspheretest.Envelope(`<RetrievePropertiesExResponse xmlns="urn:vim25"><returnval><objects><obj type="Datacenter">dc-{{pw}}</obj><propSet><name>name</name><val xsi:type="xsd:string">{{pw}}</val></propSet></objects></returnval></RetrievePropertiesExResponse>`), []byte(nil))
	f.Add(uint8(3), uint16(503), "Retry-After: {{pw}}", []byte("{{pw}}"), []byte(nil))

	f.Fuzz(func(t *testing.T, at uint8, status uint16, header string, body, then []byte) {
		fill := func(b []byte) []byte { return bytes.ReplaceAll(b, []byte("{{pw}}"), []byte(pwXML)) }
		first := vspheretest.Answer{Status: int(status), Header: headers(header, pwXML), Body: fill(body)}
		if first.Status < 200 || first.Status > 599 {
			first.Status = http.StatusOK
		}
		n := int(at % 8)
		h.SetScript(func(req vspheretest.Request, _ func() vspheretest.Answer) *vspheretest.Answer {
			switch {
			case req.N == n:
				return &first
			case req.N == n+1 && len(then) > 0:
				return &vspheretest.Answer{Body: fill(then)}
			}
			return nil
		})
		d := relation.Data{VsphereIP: h.URL.Host, User: sim.User, Password: fuzzPassword, Datacenter: "DC0", Datastore: "LocalDS_0"}
		ctx, cancel := context.WithTimeout(context.Background(), fuzzDeadline)
		defer cancel()
		rep, err := vsphere.Check(ctx, vsphere.Target{
			Server: d.VsphereIP, User: d.User, Password: d.Password, Datacenter: d.Datacenter, Datastore: d.Datastore,
			TLS: vsphere.TLS{Insecure: true},
		})
		if err != nil {
			if sec.Leaks(err.Error()) {
				t.Fatalf("the error holds a form of the password: %q", err.Error())
			}
			if len(err.Error()) > maxFuzzError {
				t.Fatalf("the error is %d bytes: %.300q", len(err.Error()), err.Error())
			}
		} else if s := fmt.Sprintf("%+v", rep); sec.Leaks(s) {
			t.Fatalf("the report holds a form of the password: %q", s)
		}
		rec := classify(d, rep, err, fuzzDeadline)
		if sec.Leaks(rec.Reason) {
			t.Fatalf("the record's reason holds a form of the password: %q", rec.Reason)
		}
		st, msg := statusFor(decision{record: &rec})
		t.Logf("%s: %.200s", st, msg)
		if sec.Leaks(msg) {
			t.Fatalf("the status holds a form of the password: %q", msg)
		}
		if len(msg) > maxFuzzStatus {
			t.Fatalf("the status message is %d bytes: %.300q", len(msg), msg)
		}
	})
}

// headers parses "Name: value" lines; lines that are not a valid header are
// left out (net/http would refuse to send them).
func headers(s, pw string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(s, "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsFunc(name, func(r rune) bool { return r <= ' ' || r >= 0x7f || strings.ContainsRune(`()<>@,;:\"/[]?={}`, r) }) {
			continue
		}
		h.Add(name, strings.TrimSpace(strings.ReplaceAll(value, "{{pw}}", pw)))
	}
	return h
}

// serviceContent is vcsim's answer to RetrieveServiceContent, the base of
// the seeds that alter one of its fields.
func serviceContent(f *testing.F, sim *vspheretest.Server) string {
	f.Helper()
	req := `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/"><Body><RetrieveServiceContent xmlns="urn:vim25"><_this type="ServiceInstance">ServiceInstance</_this></RetrieveServiceContent></Body></Envelope>`
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback vcsim
	defer c.CloseIdleConnections()
	res, err := c.Post(sim.URL.String(), "text/xml", strings.NewReader(req))
	if err != nil {
		f.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != http.StatusOK {
		f.Fatalf("service content: %v %s", err, res.Status)
	}
	return string(b)
}

var noSessionManager = regexp.MustCompile(`<sessionManager[^>]*>[^<]*</sessionManager>`)

// replaceElement replaces the text of every <name>…</name> in s.
func replaceElement(s, name, text string) string {
	var out strings.Builder
	open, end := "<"+name+">", "</"+name+">"
	for {
		i := strings.Index(s, open)
		if i < 0 {
			// An element with attributes: <sessionManager type="...">.
			i = strings.Index(s, "<"+name+" ")
		}
		if i < 0 {
			out.WriteString(s)
			return out.String()
		}
		gt := strings.Index(s[i:], ">")
		j := strings.Index(s[i:], end)
		if gt < 0 || j < 0 {
			out.WriteString(s)
			return out.String()
		}
		out.WriteString(s[:i+gt+1] + text + end)
		s = s[i+j+len(end):]
	}
}
