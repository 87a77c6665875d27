package credentials

import (
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// TestTooLongBlocked: an option longer than the charm takes is refused
// naming the option and its length, never quoting any of it.
func TestTooLongBlocked(t *testing.T) {
	tests := []struct {
		name   string
		spec   hooktools.CloudSpec
		trust  error
		config map[string]any
		option string
		length int
	}{
		{name: "datastore 70 KB", spec: trusted, config: cfg("datastore", strings.Repeat("d", 70_000)), option: "datastore", length: 70_000},
		{name: "datastore 140 KB", spec: trusted, config: cfg("datastore", strings.Repeat("d", 140_000)), option: "datastore", length: 140_000},
		{name: "user 140 KB", spec: trusted, config: cfg("user", strings.Repeat("u", 140_000)), option: "user", length: 140_000},
		{name: "folder", spec: trusted, config: cfg("folder", strings.Repeat("f", 3000)), option: "folder", length: 3000},
		{name: "respool_path", spec: trusted, config: cfg("respool_path", strings.Repeat("r", 3000)), option: "respool_path", length: 3000},
		{name: "datacenter", spec: trusted, config: cfg("datacenter", strings.Repeat("c", 3000)), option: "datacenter", length: 3000},
		{name: "password", spec: trusted, config: cfg("password", strings.Repeat("p", 5000)), option: "password", length: 5000},
		{name: "vsphere_ip", spec: trusted, config: cfg("vsphere_ip", strings.Repeat("v", 600)), option: "vsphere_ip", length: 600},
		{name: "thumbprint", spec: trusted, config: cfg("thumbprint", strings.Repeat("t", 300)), option: "thumbprint", length: 300},
		{name: "ca_cert", spec: trusted, config: cfg("ca_cert", strings.Repeat("a", 300_000)), option: "ca_cert", length: 300_000},
		{name: "credentials", trust: notTrusted, config: cfg("credentials", strings.Repeat("b", 70_000)), option: "credentials", length: 70_000},
		{
			name: "the cloud credential's password", config: cfg(),
			spec:   hooktools.CloudSpec{Endpoint: "vc", Region: "DC", Credential: &hooktools.CloudCredential{Attrs: map[string]string{"user": "u", "password": strings.Repeat("p", 5000)}}},
			option: "the cloud credential's password (override with password)", length: 5000,
		},
		{
			name: "a user inside the credentials blob", trust: notTrusted,
			config: cfg("credentials", b64(`{"vsphere_ip":"vc","user":"`+strings.Repeat("u", 40_000)+`","password":"p","datacenter":"DC"}`)),
			option: "credentials", length: 40_000,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Resolve(tt.spec, tt.trust, tt.config)
			var le *lengthError
			require.ErrorAs(t, err, &le)
			assert.Equal(t, tt.option, le.Option)
			assert.Equal(t, tt.length, le.Len)
			msg := err.Error()
			assert.Contains(t, msg, "'"+tt.option+"'")
			assert.Contains(t, msg, strconv.Itoa(tt.length)+" bytes long")
			assert.Less(t, len(msg), 300, "the value is never quoted")
			for _, c := range []string{"ddd", "uuu", "fff", "rrr", "ccc", "ppp", "vvv", "ttt", "aaa", "bbb"} {
				assert.NotContains(t, msg, c)
			}
		})
	}
}

// TestLongestAccepted: values at the bounds are taken.
func TestLongestAccepted(t *testing.T) {
	_, err := Resolve(trusted, nil, cfg("datastore", strings.Repeat("d", 2048), "user", strings.Repeat("u", 256), "password", strings.Repeat("p", 4096)))
	require.NoError(t, err)
}

// TestUserInfoRefused: a vCenter address with user info is refused without
// repeating any part of it: the password may be in it, and after a '/',
// '?' or '#' a URL parser takes it for the path and quotes it as a port.
func TestUserInfoRefused(t *testing.T) {
	for _, addr := range []string{
		"https://admin:S3cret/x@vc.example/sdk",
		"https://admin:S3cret#x@vc.example/sdk",
		"https://admin:S3cret?x@vc.example/sdk",
		"https://admin:S3cret@vc.example/sdk",
		"admin@vc",
		"user:pw@host",
	} {
		t.Run(addr, func(t *testing.T) {
			for _, src := range []struct {
				name  string
				spec  hooktools.CloudSpec
				trust error
				cfg   map[string]any
			}{
				{"option", trusted, nil, cfg("vsphere_ip", addr)},
				{"cloud endpoint", hooktools.CloudSpec{Endpoint: addr, Region: "DC", Credential: trusted.Credential}, nil, cfg()},
				{"credentials blob", hooktools.CloudSpec{}, notTrusted, cfg("credentials", b64(`{"vsphere_ip":"`+addr+`","user":"u","password":"p","datacenter":"DC"}`))},
			} {
				_, err := Resolve(src.spec, src.trust, src.cfg)
				require.ErrorIs(t, err, errUserInfo, src.name)
				assert.Equal(t, "option 'vsphere_ip' (or the credential endpoint) holds user info ('user@' before the host); give the user in the 'user' option", err.Error())
			}
		})
	}
}

// TestSecretValues: every raw secret the inputs hold.
func TestSecretValues(t *testing.T) {
	blob := b64(`{"vsphere_ip":"vc","user":"u","password":"blob-pw","datacenter":"DC"}`)
	wrapped := blob[:10] + "\n" + blob[10:]
	got := SecretValues(trusted, cfg("password", "opt-pw", "credentials", wrapped))
	for _, want := range []string{"trust-pass", "opt-pw", wrapped, blob, "blob-pw"} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "u", "the user is no secret")
}
