package vsphere

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strings"
)

// fipsOnly mirrors govmomi's soap.ThumbprintSHA1: SHA-1 may not be used when
// Go runs in FIPS 140-only mode.
var fipsOnly = strings.Contains(os.Getenv("GODEBUG"), "fips140=only")

// Thumbprints returns the SHA-1 and SHA-256 thumbprints of a certificate as
// upper hex with colons (SHA-1 empty in FIPS-only mode).
func Thumbprints(cert *x509.Certificate) (sha1Hex, sha256Hex string) {
	s256 := sha256.Sum256(cert.Raw)
	if fipsOnly {
		return "", colonHex(s256[:])
	}
	s1 := sha1.Sum(cert.Raw)
	return colonHex(s1[:]), colonHex(s256[:])
}

// tlsConfig verifies the server certificate itself, in VerifyConnection,
// instead of letting crypto/tls do it: that way a rejected certificate is
// still seen, and its thumbprints go into the error for the admin to compare
// and pin. It also replaces govmomi's own TLS dialer, which ignores the
// context (a server that accepts TCP and never speaks TLS would hang it).
func tlsConfig(p *prepared) *tls.Config {
	host := p.url.Hostname()
	server := p.url.Host
	return &tls.Config{
		// Verification is done below; Go's own is turned off so that it does
		// not fail the handshake before VerifyConnection sees the certificate.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		MinVersion:         tls.VersionTLS12,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return &CertificateError{Server: server, Err: errors.New("no certificate presented")}
			}
			if p.target.TLS.Insecure {
				return nil
			}
			leaf := cs.PeerCertificates[0]
			s1, s256 := Thumbprints(leaf)
			if p.pin != "" {
				if p.pin == s256 || (s1 != "" && p.pin == s1) {
					return nil
				}
				return &CertificateError{Server: server, SHA1: s1, SHA256: s256, Mismatch: true, Pinned: p.pin}
			}
			opts := x509.VerifyOptions{
				DNSName:       host,
				Roots:         p.roots,
				Intermediates: x509.NewCertPool(),
			}
			for _, c := range cs.PeerCertificates[1:] {
				opts.Intermediates.AddCert(c)
			}
			if _, err := leaf.Verify(opts); err != nil {
				return &CertificateError{Server: server, SHA1: s1, SHA256: s256, Err: err}
			}
			return nil
		},
	}
}
