package vspheretest

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/sts"
	stssim "github.com/vmware/govmomi/sts/simulator"
	"github.com/vmware/govmomi/vim25/types"
)

// stsFault is what vCenter's STS answers a token request whose user name
// and password it does not accept: a WS-Security FailedAuthentication
// fault, without detail.
const stsFault = `<?xml version="1.0" encoding="UTF-8"?>` +
	`<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"><S:Body><S:Fault>` +
	`<faultcode xmlns:ns0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">ns0:FailedAuthentication</faultcode>` +
	`<faultstring>Invalid credentials</faultstring>` +
	`</S:Fault></S:Body></S:Envelope>`

// stsSubject is the subject of the one token vcsim's STS issues to anyone.
const stsSubject = `>Administrator@VSPHERE.LOCAL</saml2:NameID>`

// installSTS puts a credential check in front of vcsim's STS, on both paths
// vcsim serves it at. The patterns name the method, so they are more
// specific than vcsim's own and win; only POST reaches an STS.
func (s *Server) installSTS(svc *simulator.Service, settings []types.BaseOptionValue) {
	p, stock := stssim.New(svc.Listen, settings)
	if stock == nil {
		return
	}
	h := s.stsHandler(stock)
	svc.ServeMux.Handle(http.MethodPost+" "+p, h)
	svc.ServeMux.Handle(http.MethodPost+" "+sts.SystemPath, h)
}

// stsHandler issues a token only for the user name and password of the
// trusted account or of a user made through SSO admin, and names that user
// as the token's subject, so that a vim25 LoginByToken with it is a session
// of that user. Renewals go to vcsim as they are.
func (s *Server) stsHandler(stock http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.sso.requests.Add(1)
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		action := path.Base(strings.Trim(r.Header.Get("SOAPAction"), `"`))
		s.wait()
		s.holdCall(action)

		r = r.Clone(r.Context())
		r.Body = io.NopCloser(bytes.NewReader(body))
		if action != "Issue" {
			stock.ServeHTTP(w, r)
			return
		}
		user, password, ok := usernameToken(body)
		name, valid := s.authenticate(user, password)
		if !ok || !valid {
			w.Header().Set("Content-Type", "text/xml; charset=utf-8")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, stsFault)
			return
		}
		rec := httptest.NewRecorder()
		stock.ServeHTTP(rec, r)
		out := rec.Body.String()
		if u, d, ok := splitPrincipal(name); ok {
			var subject strings.Builder
			_ = xml.EscapeText(&subject, []byte(u+"@"+strings.ToUpper(d)))
			out = strings.Replace(out, stsSubject, ">"+subject.String()+"</saml2:NameID>", 1)
		}
		for k, vs := range rec.Header() {
			w.Header()[k] = vs
		}
		w.WriteHeader(rec.Code)
		_, _ = io.WriteString(w, out)
	})
}

// usernameToken reads the WS-Security user name and password of a request.
func usernameToken(body []byte) (user, password string, ok bool) {
	var env struct {
		Header struct {
			Security struct {
				Token *struct {
					Username string `xml:"Username"`
					Password string `xml:"Password"`
				} `xml:"UsernameToken"`
			} `xml:"Security"`
		} `xml:"Header"`
	}
	if err := xml.Unmarshal(body, &env); err != nil || env.Header.Security.Token == nil {
		return "", "", false
	}
	t := env.Header.Security.Token
	return t.Username, t.Password, t.Username != ""
}
