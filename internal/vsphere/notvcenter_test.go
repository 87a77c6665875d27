package vsphere

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serviceContentWithoutSessions is what a SOAP service that is not a
// vCenter may answer to RetrieveServiceContent: a service content without
// a session manager.
const serviceContentWithoutSessions = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<soapenv:Body><RetrieveServiceContentResponse xmlns="urn:vim25"><returnval>
<rootFolder type="Folder">group-d1</rootFolder>
<propertyCollector type="PropertyCollector">propertyCollector</propertyCollector>
<about><name>Other</name><fullName>Some SOAP service 1.0</fullName><version>1.0</version><apiType>Other</apiType></about>
</returnval></RetrieveServiceContentResponse></soapenv:Body></soapenv:Envelope>`

// TestNotAVCenter: an endpoint whose service content has no session manager
// is diagnosed as such, never a panic.
func TestNotAVCenter(t *testing.T) {
	var logins int
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Login") {
			logins++
		}
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(serviceContentWithoutSessions))
	}))
	defer srv.Close()
	host := strings.TrimPrefix(srv.URL, "https://")
	_, err := Check(context.Background(), Target{
		Server: host, User: "u", Password: "p", Datacenter: "DC0", Datastore: "ds", TLS: TLS{Insecure: true},
	})
	var nv *NotVCenterError
	require.True(t, errors.As(err, &nv), "%v", err)
	assert.Equal(t, host, nv.Server)
	assert.Contains(t, err.Error(), "Some SOAP service 1.0")
	assert.Contains(t, err.Error(), "no session manager")
	assert.Zero(t, logins)
}
