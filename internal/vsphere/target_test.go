package vsphere_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

func TestParseServer(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" means an error
	}{
		{"vc.example.com", "https://vc.example.com/sdk"},
		{"  vc.example.com  ", "https://vc.example.com/sdk"},
		{"vc.example.com:8443", "https://vc.example.com:8443/sdk"},
		{"10.0.0.1", "https://10.0.0.1/sdk"},
		{"10.0.0.1:443", "https://10.0.0.1:443/sdk"},
		{"https://vc.example.com/sdk", "https://vc.example.com/sdk"},
		{"https://vc.example.com", "https://vc.example.com/sdk"},
		{"https://vc.example.com/", "https://vc.example.com/sdk"},
		{"HTTPS://vc.example.com:9443/sdk", "https://vc.example.com:9443/sdk"},
		{"fd00::10", "https://[fd00::10]/sdk"},
		{"[fd00::10]", "https://[fd00::10]/sdk"},
		{"[fd00::10]:8443", "https://[fd00::10]:8443/sdk"},
		{"https://[fd00::10]:8443/sdk", "https://[fd00::10]:8443/sdk"},
		{"fe80::1%eth0", "https://[fe80::1%25eth0]/sdk"},
		{"", ""},
		{"   ", ""},
		{"http://vc.example.com/sdk", ""},
		{"ftp://vc.example.com", ""},
		{"https://admin:secret@vc.example.com/sdk", ""},
		{"admin:secret@vc.example.com", ""},
		{"vc.example.com:0", ""},
		{"vc.example.com:70000", ""},
		{"vc.example.com:", ""},
		{"vc.example.com:https", ""},
		{"vc example.com", ""},
		{"https://vc.example.com/sdk?x=1", ""},
		{"https://vc.example.com/sdk#frag", ""},
		{"https://:443/sdk", ""},
		{"https:vc.example.com", ""},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			u, err := vsphere.ParseServer(tc.in)
			if tc.want == "" {
				var te *vsphere.TargetError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "vCenter address", te.Field)
				assert.NotContains(t, err.Error(), "secret", "never echo a password pasted into the address")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, u.String())
			assert.Nil(t, u.User)
		})
	}
}

func TestNormalizeThumbprint(t *testing.T) {
	sha1 := "68:7E:06:95:DD:37:11:CF:46:F7:0F:6F:D6:6F:F6:0A:AD:CF:0B:C9"
	sha256 := "3E:C8:C6:15:EE:30:E6:8A:65:CE:CF:60:6E:5D:83:6A:56:35:31:89:A2:1D:60:61:F0:2F:2F:02:B1:8E:99:04"
	bare := func(s string) string { return strings.ReplaceAll(s, ":", "") }
	tests := []struct {
		name, in, want string // want "" means an error
	}{
		{"SHA-1 canonical", sha1, sha1},
		{"SHA-1 lower", strings.ToLower(sha1), sha1},
		{"SHA-1 bare", bare(sha1), sha1},
		{"SHA-1 bare lower padded", "  " + strings.ToLower(bare(sha1)) + "\n", sha1},
		{"SHA-256 canonical", sha256, sha256},
		{"SHA-256 lower bare", strings.ToLower(bare(sha256)), sha256},
		{"empty", "", ""},
		{"not hex", strings.Replace(sha1, "7E", "ZZ", 1), ""},
		{"odd digits", bare(sha1)[1:], ""},
		{"19 bytes", bare(sha1)[2:], ""},
		{"MD5 length", strings.Repeat("ab", 16), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := vsphere.NormalizeThumbprint(tc.in)
			if tc.want == "" {
				var te *vsphere.TargetError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "thumbprint", te.Field)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseCAs(t *testing.T) {
	a, b := vspheretest.UnrelatedCA(t), vspheretest.UnrelatedCA(t)
	key := "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"
	broken := "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
	tests := []struct {
		name  string
		in    string
		certs int // 0 means an error
	}{
		{"one", a, 1},
		{"two in one text", a + b, 2},
		{"with text around", "issuer: test\n" + a + "\ntrailing\n", 1},
		{"key skipped", key + a, 1},
		{"empty", "", 0},
		{"not PEM", "MIIB...", 0},
		{"key only", key, 0},
		{"broken certificate", a + broken, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pool, err := vsphere.ParseCAs(tc.in)
			if tc.certs == 0 {
				var te *vsphere.TargetError
				require.ErrorAs(t, err, &te)
				assert.Equal(t, "CA certificates", te.Field)
				return
			}
			require.NoError(t, err)
			//lint:ignore SA1019 Subjects lacks only the system roots, and this pool has none: it counts what ParseCAs parsed
			assert.Len(t, pool.Subjects(), tc.certs)
		})
	}
}

// TestCheckInvalidTarget: a bad setting is reported before any I/O, so the
// server address here is never dialed.
func TestCheckInvalidTarget(t *testing.T) {
	good := vsphere.Target{Server: "vc.invalid", User: "u", Password: "p", Datacenter: "DC0", Datastore: "ds"}
	tests := []struct {
		name   string
		modify func(*vsphere.Target)
		field  string
	}{
		{"no server", func(tg *vsphere.Target) { tg.Server = "" }, "vCenter address"},
		{"http server", func(tg *vsphere.Target) { tg.Server = "http://vc" }, "vCenter address"},
		{"no user", func(tg *vsphere.Target) { tg.User = "" }, "user"},
		{"no password", func(tg *vsphere.Target) { tg.Password = "" }, "password"},
		{"no datacenter", func(tg *vsphere.Target) { tg.Datacenter = " " }, "datacenter"},
		{"no datastore", func(tg *vsphere.Target) { tg.Datastore = "" }, "datastore"},
		{"bad thumbprint", func(tg *vsphere.Target) { tg.TLS.Thumbprint = "abc" }, "thumbprint"},
		{"bad CA", func(tg *vsphere.Target) { tg.TLS.CAs = []string{"not a certificate"} }, "CA certificates"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tg := good
			tc.modify(&tg)
			_, err := vsphere.Check(context.Background(), tg)
			var te *vsphere.TargetError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tc.field, te.Field)
		})
	}
}
