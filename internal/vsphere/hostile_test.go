package vsphere

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// hostilePassword has the characters XML, JSON and URLs escape, so that an
// echo in any of those forms differs from the raw password.
const hostilePassword = `Pw&<x>'"9%/+`

// maxErrorText bounds an error's text whatever the server sent
// (docs/vcenter.md, "What the charm accepts from a server").
const maxErrorText = 4096

// hostile starts vcsim (accepting hostilePassword) behind a Hostile server
// running script, and returns the target that checks through it.
func hostile(t *testing.T, script vspheretest.Script) (*vspheretest.Hostile, Target) {
	t.Helper()
	sim := vspheretest.NewServer(t, vspheretest.Options{Password: hostilePassword})
	h := vspheretest.NewHostile(t, sim)
	h.SetScript(script)
	return h, Target{
		Server: h.URL.Host, User: sim.User, Password: hostilePassword,
		Datacenter: "DC0", Datastore: "LocalDS_0", TLS: TLS{Insecure: true},
	}
}

// checkNoPanic runs Check and turns a panic into a test failure with the
// panic's value, so one case does not take the others down.
func checkNoPanic(t *testing.T, tg Target) (rep *Report, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("Check panicked: %v", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return Check(ctx, tg)
}

// assertSafe: no form of the password, and a bounded length.
func assertSafe(t *testing.T, what, text string) {
	t.Helper()
	var sec redact.Secrets
	sec.Add(hostilePassword)
	assert.False(t, sec.Leaks(text), "%s holds a form of the password: %.300q", what, text)
	assert.LessOrEqual(t, len(text), maxErrorText, "%s is %d bytes", what, len(text))
}

// on answers the n-th request (from 0) of a check with a, and forwards the
// others.
func on(n int, a vspheretest.Answer) vspheretest.Script {
	return func(req vspheretest.Request, _ func() vspheretest.Answer) *vspheretest.Answer {
		if req.N == n {
			return &a
		}
		return nil
	}
}

// TestHostileLoginFaultQuotesPassword: a server that answers Login with a
// SOAP fault quoting the refused request (the password XML-escaped in it)
// does not put the password in the error.
func TestHostileLoginFaultQuotesPassword(t *testing.T) {
	quoted := "Request rejected: <Login><userName>k8s</userName><password>" + xmlEscaped(hostilePassword) + "</password></Login>"
	for name, detail := range map[string]string{
		"ServerFaultCode": "",
		"InvalidLogin":    `<InvalidLoginFault xmlns="urn:vim25" xsi:type="InvalidLogin"></InvalidLoginFault>`,
		"InvalidRequest":  `<InvalidRequestFault xmlns="urn:vim25" xsi:type="InvalidRequest"></InvalidRequestFault>`,
	} {
		t.Run(name, func(t *testing.T) {
			_, tg := hostile(t, on(1, vspheretest.Answer{Status: http.StatusInternalServerError, Body: vspheretest.Fault(quoted, detail)}))
			_, err := checkNoPanic(t, tg)
			require.Error(t, err)
			assertSafe(t, "error", err.Error())
			var fe *FaultError
			var le *LoginError
			assert.True(t, errors.As(err, &fe) || errors.As(err, &le), "%T %v", err, err)
			if name == "InvalidLogin" {
				require.True(t, errors.As(err, &le), "%T %v", err, err)
			} else {
				require.True(t, errors.As(err, &fe), "%T %v", err, err)
				assert.Contains(t, err.Error(), "fault "+name, "the fault's kind is named")
			}
		})
	}
}

// TestHostileEmptyAnswers: HTTP 200 with an empty SOAP body, or no body at
// all, to the service content or the login is an error, not a panic.
func TestHostileEmptyAnswers(t *testing.T) {
	for _, c := range []struct {
		name string
		n    int
		body []byte
		op   string
	}{
		{"service content, empty envelope", 0, vspheretest.Envelope(""), "connect"},
		{"service content, no body", 0, nil, "connect"},
		{"service content, not XML", 0, []byte("<html><" + strings.Repeat("h", 100<<10) + xmlEscaped(hostilePassword) + ">"), "connect"},
		{"login, empty envelope", 1, vspheretest.Envelope(""), "login"},
		{"login, no body", 1, nil, "login"},
		{"login, empty response", 1, vspheretest.Envelope(`<LoginResponse xmlns="urn:vim25"></LoginResponse>`), "login"},
		{"inventory, empty envelope", 2, vspheretest.Envelope(""), "read inventory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, tg := hostile(t, on(c.n, vspheretest.Answer{Body: c.body}))
			rep, err := checkNoPanic(t, tg)
			require.Error(t, err, "report: %+v", rep)
			assertSafe(t, "error", err.Error())
			var bad *BadAnswerError
			require.True(t, errors.As(err, &bad), "%T %v", err, err)
			assert.Equal(t, c.op, bad.Op)
		})
	}
}

// TestHostileRedirect: a 302 is not followed (net/http would re-send the
// POST as a GET, whose answer has no login in it) and the error says where
// it pointed, host only.
func TestHostileRedirect(t *testing.T) {
	var h *vspheretest.Hostile
	h, tg := hostile(t, func(req vspheretest.Request, _ func() vspheretest.Answer) *vspheretest.Answer {
		switch {
		case req.HTTPMethod != http.MethodPost:
			return &vspheretest.Answer{Body: vspheretest.Envelope("")}
		case req.N == 1:
			loc := "https://user:" + hostilePassword + "@" + h.URL.Host + "/elsewhere?p=" + hostilePassword
			return &vspheretest.Answer{Status: http.StatusFound, Header: http.Header{"Location": {loc}}}
		}
		return nil
	})
	_, err := checkNoPanic(t, tg)
	require.Error(t, err)
	assertSafe(t, "error", err.Error())
	var bad *BadAnswerError
	require.True(t, errors.As(err, &bad), "%T %v", err, err)
	assert.Equal(t, "login", bad.Op)
	assert.Contains(t, err.Error(), "HTTP 302 redirect to "+h.URL.Host+";")
	assert.Contains(t, err.Error(), h.URL.Host)
	for _, r := range h.Requests() {
		assert.Equal(t, http.MethodPost, r.HTTPMethod, "request %d to %s", r.N, r.Path)
	}
}

var aboutField = regexp.MustCompile(`<(fullName|version|build|name|apiVersion)>[^<]*</`)

// TestHostileHugeAbout: 200 KB in about.fullName, version, build and name
// reach neither the report nor an error whole.
func TestHostileHugeAbout(t *testing.T) {
	huge := strings.Repeat("x", 200<<10)
	rewrite := func(withSessions bool) vspheretest.Script {
		return func(req vspheretest.Request, forward func() vspheretest.Answer) *vspheretest.Answer {
			if req.N != 0 {
				return nil
			}
			a := forward()
			a.Body = aboutField.ReplaceAll(a.Body, []byte("<$1>"+xmlEscaped(hostilePassword)+huge+"</"))
			if !withSessions {
				a.Body = regexp.MustCompile(`<sessionManager[^>]*>[^<]*</sessionManager>`).ReplaceAll(a.Body, nil)
			}
			return &a
		}
	}
	t.Run("vCenter", func(t *testing.T) {
		_, tg := hostile(t, rewrite(true))
		rep, err := checkNoPanic(t, tg)
		require.NoError(t, err)
		for _, f := range []string{rep.Product.Name, rep.Product.Version, rep.Product.Build, rep.Product.APIVersion} {
			assertSafe(t, "product field", f)
			assert.LessOrEqual(t, len(f), 256)
		}
		assertSafe(t, "report", fmt.Sprintf("%+v", rep))
	})
	t.Run("not a vCenter", func(t *testing.T) {
		_, tg := hostile(t, rewrite(false))
		_, err := checkNoPanic(t, tg)
		require.Error(t, err)
		assertSafe(t, "error", err.Error())
		var nv *NotVCenterError
		require.True(t, errors.As(err, &nv), "%T %v", err, err)
		assert.LessOrEqual(t, len(nv.Product), 256)
	})
}

// TestHostileNames: object names that quote the password, or are huge, are
// listed in an error only redacted and cut.
func TestHostileNames(t *testing.T) {
	_, tg := hostile(t, func(req vspheretest.Request, forward func() vspheretest.Answer) *vspheretest.Answer {
		if req.Method != "RetrievePropertiesEx" {
			return nil
		}
		a := forward()
		a.Body = bytes.ReplaceAll(a.Body, []byte(">DC0<"), []byte(">"+strings.Repeat("d", 100<<10)+xmlEscaped(hostilePassword)+"<"))
		return &a
	})
	tg.Datacenter = "nope"
	_, err := checkNoPanic(t, tg)
	require.Error(t, err)
	assertSafe(t, "error", err.Error())
	var nf *NotFoundError
	require.True(t, errors.As(err, &nf), "%T %v", err, err)
	assert.LessOrEqual(t, len(err.Error()), 1000, "fits a status line")
}

// TestHostileHTTPStatus: a status SOAP does not use is named by its code,
// without the server's text.
func TestHostileHTTPStatus(t *testing.T) {
	_, tg := hostile(t, on(1, vspheretest.Answer{Status: http.StatusServiceUnavailable, Body: []byte(hostilePassword)}))
	_, err := checkNoPanic(t, tg)
	var bad *BadAnswerError
	require.True(t, errors.As(err, &bad), "%T %v", err, err)
	assertSafe(t, "error", err.Error())
	assert.Contains(t, err.Error(), "HTTP status 503 Service Unavailable")
}

// TestHostileAnswerOverCap: an answer over the cap is not read past it, and
// the error says the cap was hit. The cap is lowered to 1 MiB for the test.
func TestHostileAnswerOverCap(t *testing.T) {
	saved := answerLimits
	answerLimits.answer = 1 << 20
	t.Cleanup(func() { answerLimits = saved })
	pad := []byte("<!--" + strings.Repeat(" ", 3<<19) + "-->")
	_, tg := hostile(t, func(req vspheretest.Request, forward func() vspheretest.Answer) *vspheretest.Answer {
		if req.Method != "RetrievePropertiesEx" {
			return nil
		}
		a := forward()
		a.Body = bytes.Replace(a.Body, []byte("<soapenv:Body>"), append([]byte("<soapenv:Body>"), pad...), 1)
		return &a
	})
	_, err := checkNoPanic(t, tg)
	var big *AnswerTooLargeError
	require.True(t, errors.As(err, &big), "%T %v", err, err)
	assert.Contains(t, err.Error(), "exceeded the 1 MiB the charm reads of one answer")
	var bad *BadAnswerError
	require.True(t, errors.As(err, &bad))
	assert.Equal(t, "read inventory", bad.Op)
}

// xmlEscaped is s as it appears in an XML text.
func xmlEscaped(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// TestHostileTaskState: a task whose state is one the API does not define
// is waited on until the deadline, and the VM's outcome stays unknown; no
// panic. govmomi's Task.Wait panics on such a state, one reason the charm
// polls tasks itself (waitTasks); the script rewrites both the poller's
// answer and Task.Wait's, so the test tells if that changes.
func TestHostileTaskState(t *testing.T) {
	var rewritten atomic.Int32
	h, tg := hostile(t, func(req vspheretest.Request, forward func() vspheretest.Answer) *vspheretest.Answer {
		if req.Method != "RetrievePropertiesEx" && req.Method != "WaitForUpdatesEx" {
			return nil
		}
		a := forward()
		for _, done := range []string{`TaskInfoState">success<`, `<state>success</state>`} {
			if bytes.Contains(a.Body, []byte(done)) {
				rewritten.Add(1)
				a.Body = bytes.ReplaceAll(a.Body, []byte(done), []byte(strings.ReplaceAll(done, "success", "vanished")))
			}
		}
		return &a
	})
	setup, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, h.Behind.SetGuestIP(setup, "DC0_H0_VM0", "10.0.0.10"))
	tg.Nodes = []Node{{Name: "kubernetes-worker/0", Address: "10.0.0.10"}}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	rep, err := func() (rep *DiskUUIDReport, err error) {
		defer func() {
			if r := recover(); r != nil {
				t.Fatalf("EnableDiskUUID panicked: %v", r)
			}
		}()
		return EnableDiskUUID(ctx, tg, false)
	}()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assertSafe(t, "error", err.Error())
	require.NotNil(t, rep)
	require.Len(t, rep.Nodes, 1)
	assert.Equal(t, DiskUUIDUnknown, rep.Nodes[0].Result)
	assert.Positive(t, rewritten.Load(), "the task's state was never rewritten: the test tests nothing")
}
