package hooktoolstest_test

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools/hooktoolstest"
)

// everyKey is a CloudSpec with every key Juju's params.CloudSpec has set.
var everyKey = hooktoolstest.CloudSpec{
	Type: "vsphere", Name: "vs", Region: "DC0", Endpoint: "10.0.0.1",
	IdentityEndpoint: "https://id", StorageEndpoint: "https://storage",
	Credential: &hooktoolstest.CloudCredential{
		AuthType: "userpass",
		Attrs:    map[string]string{"user": "u", "password": "p", "vmfolder": "k8s"},
		Redacted: []string{"secret"},
	},
	CACertificates: []string{"PEM"}, SkipTLSVerify: true, IsControllerCloud: true,
}

// TestCredentialGetShape: credential-get prints Juju's params.CloudSpec key
// for key, and the charm's hooktools.CloudSpec reads every key it has from
// it. The keys the charm does not read are named, so that a key spelled
// differently on either side shows.
func TestCredentialGetShape(t *testing.T) {
	j := hooktoolstest.New(unit)
	j.Trust(everyKey)
	out, errOut, code := j.Run("credential-get", []string{"--format=json"}, nil)
	require.Equal(t, 0, code, string(errOut))
	assert.JSONEq(t, `{
		"type": "vsphere", "name": "vs", "region": "DC0", "endpoint": "10.0.0.1",
		"identity-endpoint": "https://id", "storage-endpoint": "https://storage",
		"credential": {"auth-type": "userpass", "attrs": {"user": "u", "password": "p", "vmfolder": "k8s"}, "redacted": ["secret"]},
		"cacertificates": ["PEM"], "skip-tls-verify": true, "is-controller-cloud": true
	}`, string(out))

	got, err := hooktools.New(j.Runner(), nil).CredentialGet(context.Background())
	require.NoError(t, err)
	assert.Equal(t, hooktools.CloudSpec{
		Type: "vsphere", Name: "vs", Region: "DC0", Endpoint: "10.0.0.1",
		IdentityEndpoint: "https://id", StorageEndpoint: "https://storage",
		Credential:     &hooktools.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": "u", "password": "p", "vmfolder": "k8s"}},
		CACertificates: []string{"PEM"}, SkipTLSVerify: true,
	}, got)

	// What the charm's type keeps, against what Juju printed.
	kept, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Equal(t, []string{"credential.redacted", "is-controller-cloud"}, keysMissing(t, out, kept),
		"the only keys the charm does not read")
}

// TestCredentialGetOmitsUnset: an unset key is left out, except type and
// name (and auth-type in a credential), which Juju always prints.
func TestCredentialGetOmitsUnset(t *testing.T) {
	j := hooktoolstest.New(unit)
	j.Trust(hooktoolstest.CloudSpec{Type: "vsphere", Credential: &hooktoolstest.CloudCredential{}})
	out, _, code := j.Run("credential-get", []string{"--format=json"}, nil)
	require.Equal(t, 0, code)
	assert.Equal(t, `{"type":"vsphere","name":"","credential":{"auth-type":""}}`+"\n", string(out))
}

// TestCredentialGetYAML: Juju's type has no YAML tags, so the default
// format prints yaml.v2's lower-cased field names, every field included.
func TestCredentialGetYAML(t *testing.T) {
	j := hooktoolstest.New(unit)
	j.Trust(hooktoolstest.CloudSpec{Type: "vsphere", Name: "vs", Credential: &hooktoolstest.CloudCredential{
		AuthType: "userpass", Attrs: map[string]string{"user": "u"},
	}})
	out, _, code := j.Run("credential-get", nil, nil)
	require.Equal(t, 0, code)
	assert.Equal(t, `type: vsphere
name: vs
region: ""
endpoint: ""
identityendpoint: ""
storageendpoint: ""
credential:
  authtype: userpass
  attributes:
    user: u
  redacted: []
cacertificates: []
skiptlsverify: false
iscontrollercloud: false
`, string(out))
}

func TestCharmSpecRoundTrip(t *testing.T) {
	spec := hooktools.CloudSpec{
		Type: "vsphere", Name: "vs", Region: "DC0", Endpoint: "vc", IdentityEndpoint: "id", StorageEndpoint: "st",
		Credential:     &hooktools.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": "u"}},
		CACertificates: []string{"PEM"}, SkipTLSVerify: true,
	}
	j := hooktoolstest.New(unit)
	j.Trust(fromCharmSpec(spec))
	got, err := hooktools.New(j.Runner(), nil).CredentialGet(context.Background())
	require.NoError(t, err)
	assert.Equal(t, spec, got, "the charm reads back what it gave")
	assert.Nil(t, fromCharmSpec(hooktools.CloudSpec{}).Credential)
}

// keysMissing lists the dotted keys of JSON object a that b lacks.
func keysMissing(t *testing.T, a, b []byte) []string {
	t.Helper()
	var am, bm map[string]any
	require.NoError(t, json.Unmarshal(a, &am))
	require.NoError(t, json.Unmarshal(b, &bm))
	var missing []string
	var walk func(prefix string, a, b map[string]any)
	walk = func(prefix string, a, b map[string]any) {
		for _, k := range slices.Sorted(maps.Keys(a)) {
			bv, ok := b[k]
			if !ok {
				missing = append(missing, prefix+k)
				continue
			}
			if am, ok := a[k].(map[string]any); ok {
				bm, _ := bv.(map[string]any)
				walk(prefix+k+".", am, bm)
			}
		}
	}
	walk("", am, bm)
	slices.Sort(missing)
	return missing
}

// fromCharmSpec is the Juju CloudSpec carrying the same values as the
// charm's own type.
func fromCharmSpec(s hooktools.CloudSpec) hooktoolstest.CloudSpec {
	out := hooktoolstest.CloudSpec{
		Type: s.Type, Name: s.Name, Region: s.Region, Endpoint: s.Endpoint,
		IdentityEndpoint: s.IdentityEndpoint, StorageEndpoint: s.StorageEndpoint,
		CACertificates: s.CACertificates, SkipTLSVerify: s.SkipTLSVerify,
	}
	if s.Credential != nil {
		out.Credential = &hooktoolstest.CloudCredential{AuthType: s.Credential.AuthType, Attrs: s.Credential.Attrs}
	}
	return out
}
