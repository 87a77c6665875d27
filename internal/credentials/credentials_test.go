package credentials

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

var trusted = hooktools.CloudSpec{
	Type: "vsphere", Name: "vsphere", Region: "DC-trust", Endpoint: "10.0.0.1",
	Credential: &hooktools.CloudCredential{AuthType: "userpass", Attrs: map[string]string{"user": "trust-user", "password": "trust-pass"}},
}

var notTrusted = &hooktools.ToolError{Tool: "credential-get", Message: "cannot access cloud credentials: permission denied", Err: hooktools.ErrNotTrusted}

func cfg(kv ...string) map[string]any {
	m := map[string]any{
		"credentials": "", "vsphere_ip": "", "user": "", "password": "", "datacenter": "",
		"datastore": "datastore1", "folder": "juju-kubernetes", "respool_path": "", "ca_cert": "", "thumbprint": "",
	}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestResolvePrecedence(t *testing.T) {
	tests := []struct {
		name    string
		spec    hooktools.CloudSpec
		trust   error
		config  map[string]any
		want    relation.Data
		sources map[string]Source
	}{
		{
			name: "trust only", spec: trusted, config: cfg(),
			want:    relation.Data{VsphereIP: "10.0.0.1", User: "trust-user", Password: "trust-pass", Datacenter: "DC-trust", Datastore: "datastore1", Folder: "juju-kubernetes"},
			sources: map[string]Source{"vsphere_ip": sourceTrust, "user": sourceTrust, "password": sourceTrust, "datacenter": sourceTrust},
		},
		{
			name: "trust and one flat option overriding it", spec: trusted, config: cfg("datacenter", "DC-opt"),
			want:    relation.Data{VsphereIP: "10.0.0.1", User: "trust-user", Password: "trust-pass", Datacenter: "DC-opt", Datastore: "datastore1", Folder: "juju-kubernetes"},
			sources: map[string]Source{"vsphere_ip": sourceTrust, "user": sourceTrust, "password": sourceTrust, "datacenter": sourceOption},
		},
		{
			name: "credentials blob, flat shape, over trust", spec: trusted,
			config: cfg("credentials", b64(`{"vsphere_ip":"vc.example.com","user":"blob-user","password":"blob-pass","datacenter":"DC-blob"}`)),
			want:   relation.Data{VsphereIP: "vc.example.com", User: "blob-user", Password: "blob-pass", Datacenter: "DC-blob", Datastore: "datastore1", Folder: "juju-kubernetes"},
		},
		{
			name: "credentials blob, credential-get shape (JSON attrs)", trust: notTrusted,
			config: cfg("credentials", b64(`{"endpoint":"vc1","region":"DC1","credential":{"auth-type":"userpass","attrs":{"user":"u1","password":"p1"}}}`)),
			want:   relation.Data{VsphereIP: "vc1", User: "u1", Password: "p1", Datacenter: "DC1", Datastore: "datastore1", Folder: "juju-kubernetes"},
		},
		{
			name: "credentials blob, credential-get YAML shape (attributes) as the Python charm read it", trust: notTrusted,
			config: cfg("credentials", b64(`{"endpoint":"vc1","region":"DC1","credential":{"attributes":{"user":"u1","password":"p1"}}}`)),
			want:   relation.Data{VsphereIP: "vc1", User: "u1", Password: "p1", Datacenter: "DC1", Datastore: "datastore1", Folder: "juju-kubernetes"},
		},
		{
			name: "blob then flat option", trust: notTrusted,
			config: cfg("credentials", b64(`{"vsphere_ip":"vc1","user":"u1","password":"p1","datacenter":"DC1"}`), "password", "p2", "respool_path", "c/Resources"),
			want:   relation.Data{VsphereIP: "vc1", User: "u1", Password: "p2", Datacenter: "DC1", Datastore: "datastore1", Folder: "juju-kubernetes", RespoolPath: "c/Resources"},
		},
		{
			name: "flat options only", trust: notTrusted,
			config: cfg("vsphere_ip", "[fd00::1]:443", "user", "u", "password", "p", "datacenter", "d"),
			want:   relation.Data{VsphereIP: "[fd00::1]:443", User: "u", Password: "p", Datacenter: "d", Datastore: "datastore1", Folder: "juju-kubernetes"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.spec, tt.trust, tt.config)
			require.NoError(t, err)
			assert.Equal(t, tt.want, r.Data)
			for k, s := range tt.sources {
				assert.Equal(t, s, r.Sources[k], k)
			}
			assert.True(t, r.TLS.Insecure, "no CA or thumbprint: connect like the consumers do")
		})
	}
}

func TestResolveErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    hooktools.CloudSpec
		trust   error
		config  map[string]any
		is      error
		option  string   // configError.Option
		missing []string // missingError.Options
		text    string   // substring of the status text
	}{
		{name: "nothing and no trust", trust: notTrusted, config: cfg(), is: ErrNoCredentials, text: "missing credentials access; grant with: juju trust"},
		{name: "partial flat options without trust", trust: notTrusted, config: cfg("vsphere_ip", "vc", "user", "u"),
			missing: []string{"password", "datacenter"}, text: "juju trust"},
		{name: "trusted credential without region", spec: hooktools.CloudSpec{Endpoint: "vc", Credential: trusted.Credential}, config: cfg(),
			missing: []string{"datacenter"}, text: "datacenter=…"},
		{name: "blob not base64", trust: notTrusted, config: cfg("credentials", "%%%secret%%%"), option: "credentials", text: "invalid value for credentials config: not base64"},
		{name: "blob not JSON", trust: notTrusted, config: cfg("credentials", b64("secret: yaml")), option: "credentials", text: "not a JSON object"},
		{name: "blob wrong shape", trust: notTrusted, config: cfg("credentials", b64(`{"host":"secret"}`)), option: "credentials", text: "has none of"},
		{name: "blob wrong type", trust: notTrusted, config: cfg("credentials", b64(`{"vsphere_ip":"vc","password":42}`)), option: "credentials", text: `"password" must be a string`},
		{name: "empty datastore", spec: trusted, config: cfg("datastore", ""), option: "datastore", text: "datastore=…"},
		{name: "empty folder", spec: trusted, config: cfg("folder", " "), option: "folder"},
		{name: "bad vsphere_ip", spec: trusted, config: cfg("vsphere_ip", "https://vc:notaport/sdk"), option: "vsphere_ip"},
		{name: "bad ca_cert", spec: trusted, config: cfg("ca_cert", "not a certificate"), option: "ca_cert"},
		{name: "bad thumbprint", spec: trusted, config: cfg("thumbprint", "AB:CD"), option: "thumbprint"},
		{name: "credential-get broken", trust: &hooktools.ToolError{Tool: "credential-get", Err: hooktools.ErrBadOutput}, config: cfg(), is: hooktools.ErrBadOutput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.spec, tt.trust, tt.config)
			require.Error(t, err)
			if tt.is != nil {
				assert.ErrorIs(t, err, tt.is)
			}
			if tt.option != "" {
				var ce *configError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tt.option, ce.Option)
			}
			if tt.missing != nil {
				var me *missingError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, tt.missing, me.Options)
			}
			assert.Contains(t, err.Error(), tt.text)
			for _, secret := range []string{"secret", "trust-pass", "%%%"} {
				assert.NotContains(t, err.Error(), secret)
			}
			if b, _ := tt.config["credentials"].(string); b != "" {
				assert.NotContains(t, err.Error(), b)
			}
		})
	}
}

// TestTLSDecision is the README's TLS table, row by row: the more explicit
// setting wins.
func TestTLSDecision(t *testing.T) {
	pem, other := testCA(t), testCA(t)
	tp := strings.TrimSuffix(strings.Repeat("AB:", 20), ":")
	cloudCA := func(s *hooktools.CloudSpec) { s.CACertificates = []string{other} }
	skip := func(s *hooktools.CloudSpec) { s.SkipTLSVerify = true }
	both := func(s *hooktools.CloudSpec) { cloudCA(s); skip(s) }
	tests := []struct {
		name       string
		spec       hooktools.CloudSpec
		config     map[string]any
		insecure   bool
		cas        []string
		thumbprint string
		notices    []string // substrings, one per notice, in order
	}{
		{name: "thumbprint, cloud nothing", spec: trusted, config: cfg("thumbprint", strings.ToLower(strings.ReplaceAll(tp, ":", ""))), thumbprint: tp},
		{name: "thumbprint and ca_cert: ca_cert ignored", spec: trusted, config: cfg("thumbprint", tp, "ca_cert", pem), thumbprint: tp,
			notices: []string{"ca_cert is ignored"}},
		{name: "thumbprint over skip-tls-verify", spec: withCloud(skip), config: cfg("thumbprint", tp), thumbprint: tp,
			notices: []string{"thumbprint is set, so the vCenter certificate is verified although the cloud credential sets skip-tls-verify"}},
		{name: "thumbprint over cloud CAs", spec: withCloud(cloudCA), config: cfg("thumbprint", tp), thumbprint: tp},
		{name: "ca_cert, cloud nothing", spec: trusted, config: cfg("ca_cert", pem), cas: []string{pem}},
		{name: "ca_cert base64 of PEM", spec: trusted, config: cfg("ca_cert", b64(pem)), cas: []string{pem}},
		{name: "ca_cert replaces cloud CAs", spec: withCloud(cloudCA), config: cfg("ca_cert", pem), cas: []string{pem}},
		{name: "ca_cert over skip-tls-verify", spec: withCloud(both), config: cfg("ca_cert", pem), cas: []string{pem},
			notices: []string{"ca_cert is set, so the vCenter certificate is verified although the cloud credential sets skip-tls-verify"}},
		{name: "cloud CAs", spec: withCloud(cloudCA), config: cfg(), cas: []string{other}},
		{name: "cloud skip-tls-verify", spec: withCloud(skip), config: cfg(), insecure: true},
		{name: "cloud CAs and skip-tls-verify: as Juju connects", spec: withCloud(both), config: cfg(), insecure: true},
		{name: "nothing: insecure like the consumers, logged", spec: trusted, config: cfg(), insecure: true, notices: []string{"not verifying"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Resolve(tt.spec, nil, tt.config)
			require.NoError(t, err)
			assert.Equal(t, tt.insecure, r.TLS.Insecure)
			var cas []string
			for _, ca := range r.TLS.CAs {
				cas = append(cas, strings.TrimSpace(ca))
			}
			for i := range tt.cas {
				tt.cas[i] = strings.TrimSpace(tt.cas[i])
			}
			assert.Equal(t, tt.cas, cas)
			assert.Equal(t, tt.thumbprint, r.TLS.Thumbprint)
			assert.NotEmpty(t, r.TLSWhy)
			require.Len(t, r.Notices, len(tt.notices), r.Notices)
			for i, n := range tt.notices {
				assert.Contains(t, r.Notices[i], n)
			}
		})
	}
}

// TestBadValuesBlocked: white space only or a control character in any
// field is refused, naming where it came from and never quoting it.
func TestBadValuesBlocked(t *testing.T) {
	tests := []struct {
		name   string
		spec   hooktools.CloudSpec
		trust  error
		config map[string]any
		option string
	}{
		{"user spaces", trusted, nil, cfg("user", "   "), "user"},
		{"password newline", trusted, nil, cfg("password", "secret\n"), "password"},
		{"datacenter newline", trusted, nil, cfg("datacenter", "DC0\n"), "datacenter"},
		{"vsphere_ip tab", trusted, nil, cfg("vsphere_ip", "10.0.0.1\t"), "vsphere_ip"},
		{"datastore spaces", trusted, nil, cfg("datastore", "  "), "datastore"},
		{"folder NUL", trusted, nil, cfg("folder", "k8s\x00"), "folder"},
		{"respool_path spaces", trusted, nil, cfg("respool_path", " "), "respool_path"},
		{"cloud region newline", withCloud(func(s *hooktools.CloudSpec) { s.Region = "DC0\n" }), nil, cfg(),
			"the cloud credential's region (override with datacenter)"},
		{"cloud password spaces", withCloud(func(s *hooktools.CloudSpec) {
			s.Credential = &hooktools.CloudCredential{Attrs: map[string]string{"user": "u", "password": "  "}}
		}), nil, cfg(), "the cloud credential's password (override with password)"},
		{"blob user spaces", hooktools.CloudSpec{}, notTrusted,
			cfg("credentials", b64(`{"vsphere_ip":"vc","user":" ","password":"secret","datacenter":"DC0"}`)), "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.spec, tt.trust, tt.config)
			var ce *configError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.option, ce.Option)
			assert.NotContains(t, err.Error(), "secret")
			assert.NotContains(t, err.Error(), "\n")
		})
	}
}

func withCloud(f func(*hooktools.CloudSpec)) hooktools.CloudSpec {
	s := trusted
	f(&s)
	return s
}

func TestHash(t *testing.T) {
	base, err := Resolve(trusted, nil, cfg())
	require.NoError(t, err)
	rotated := trusted
	rotated.Credential = &hooktools.CloudCredential{Attrs: map[string]string{"user": "trust-user", "password": "rotated"}}
	r2, err := Resolve(rotated, nil, cfg())
	require.NoError(t, err)
	again, err := Resolve(trusted, nil, cfg())
	require.NoError(t, err)

	key, other := []byte("unit-key-0123456789abcdef0123456"), []byte("another-key-0123456789abcdef0123")
	assert.Equal(t, base.Hash(key), again.Hash(key), "same inputs, same hash")
	assert.NotEqual(t, base.Hash(key), r2.Hash(key), "a rotated password must change the hash")
	assert.NotEqual(t, base.Hash(key), base.Hash(other), "keyed: without the unit's key the hash tells nothing")
	assert.NotContains(t, base.Hash(key), "trust-pass")
}
