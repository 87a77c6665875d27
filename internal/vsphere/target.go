package vsphere

import (
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// TLS says how the vCenter certificate is trusted. Insecure wins over the
// rest; a pinned Thumbprint wins over CAs (the admin named the exact
// certificate); with neither, CAs (or the system roots when CAs is empty)
// must sign a certificate valid for the server name.
type TLS struct {
	Insecure   bool
	CAs        []string // PEM texts, each may hold several certificates
	Thumbprint string   // SHA-1 or SHA-256, any case, with or without colons
}

// Target is what one check connects to and looks up.
type Target struct {
	Server       string // host, host:port, https://host[:port]/sdk; IPv6 literals allowed
	User         string
	Password     string
	Datacenter   string // name, or inventory path ("/F0/DC1", "F0/DC1")
	Datastore    string // name, or path under the datacenter's datastore folder
	Folder       string // path under the datacenter's VM folder, or absolute; "" is the VM folder itself
	ResourcePool string // name, path under the datacenter's host folder, or absolute; "" skips the lookup
	TLS          TLS
	// Nodes are the Kubernetes nodes (related Juju units) whose VMs the
	// check looks at: disk.enableUUID and the privileges volumes need on
	// them. None skips the VM lookups.
	Nodes []Node
}

// Node is one related unit and the address Juju gives it. Its VM is the one
// whose VMware Tools report that address as the guest's IP.
type Node struct {
	Name    string // Juju unit, "kubernetes-worker/1"
	Address string // ingress-address, else private-address; "" when Juju gave none
}

// ParseServer turns the configured vCenter address into the SDK URL:
// https only, default path /sdk, no user info, query or fragment. Its errors
// never repeat the input, which might hold a password pasted as user info.
func ParseServer(s string) (*url.URL, error) {
	bad := func(format string, args ...any) error {
		return &TargetError{Field: "vCenter address", Err: fmt.Errorf(format, args...)}
	}
	raw := strings.TrimSpace(s)
	if raw == "" {
		return nil, bad("empty")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + bracketIPv6(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the whole input
		}
		return nil, bad("%w", err)
	}
	switch {
	case u.Scheme != "https":
		return nil, bad("scheme %q not supported, use https", u.Scheme)
	case u.User != nil:
		return nil, bad("must not contain a user name or password; set them separately")
	case u.Opaque != "" || u.Hostname() == "":
		return nil, bad("no host name")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, bad("must not contain a query or fragment")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, bad("port %q out of range", p)
		}
	}
	path := u.Path
	if path == "" || path == "/" {
		path = "/sdk"
	}
	return &url.URL{Scheme: "https", Host: u.Host, Path: path}, nil
}

// bracketIPv6 adds the brackets a URL needs around a bare IPv6 literal
// ("fe80::1", "fe80::1%eth0"); anything else is returned as is.
func bracketIPv6(s string) string {
	if strings.HasPrefix(s, "[") || strings.Count(s, ":") < 2 {
		return s
	}
	host, zone, _ := strings.Cut(s, "%")
	if ip := net.ParseIP(host); ip == nil || ip.To4() != nil {
		return s
	}
	if zone != "" {
		return "[" + host + "%25" + zone + "]"
	}
	return "[" + host + "]"
}

// NormalizeThumbprint returns a certificate thumbprint as upper-case hex
// pairs joined by colons, the form vCenter shows. It must be 20 bytes (SHA-1)
// or 32 bytes (SHA-256).
func NormalizeThumbprint(s string) (string, error) {
	bad := func(format string, args ...any) error {
		return &TargetError{Field: "thumbprint", Err: fmt.Errorf(format, args...)}
	}
	h := strings.ReplaceAll(strings.TrimSpace(s), ":", "")
	if h == "" {
		return "", bad("empty")
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return "", bad("not hexadecimal")
	}
	if len(b) != 20 && len(b) != 32 {
		return "", bad("%d bytes, want 20 (SHA-1) or 32 (SHA-256)", len(b))
	}
	return colonHex(b), nil
}

func colonHex(b []byte) string {
	var sb strings.Builder
	const digits = "0123456789ABCDEF"
	for i, c := range b {
		if i > 0 {
			sb.WriteByte(':')
		}
		sb.WriteByte(digits[c>>4])
		sb.WriteByte(digits[c&0xf])
	}
	return sb.String()
}

// ParseCAs reads every CERTIFICATE block of a PEM text into a pool. Other
// block types (a key pasted along) are skipped; a text without any
// certificate, or with one that does not parse, is an error.
func ParseCAs(text string) (*x509.CertPool, error) {
	bad := func(format string, args ...any) error {
		return &TargetError{Field: "CA certificates", Err: fmt.Errorf(format, args...)}
	}
	pool := x509.NewCertPool()
	n := 0
	rest := []byte(text)
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, bad("certificate %d: %w", n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, bad("no PEM certificate found")
	}
	return pool, nil
}

// prepared is a Target checked and parsed before any network I/O.
type prepared struct {
	url    *url.URL
	addr   string // host:port to dial
	target Target
	roots  *x509.CertPool // nil: system roots
	pin    string         // normalized thumbprint, or ""
	// secrets holds the password: server text is redacted of it before it
	// is reported (docs/vcenter.md).
	secrets *redact.Secrets
}

func prepare(t Target) (*prepared, error) {
	u, err := ParseServer(t.Server)
	if err != nil {
		return nil, err
	}
	for _, f := range []struct{ name, value string }{
		{"user", t.User},
		{"password", t.Password},
		{"datacenter", t.Datacenter},
		{"datastore", t.Datastore},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, &TargetError{Field: f.name, Err: errors.New("empty")}
		}
	}
	p := &prepared{url: u, addr: u.Host, target: t, secrets: &redact.Secrets{}}
	p.secrets.Add(t.Password)
	if u.Port() == "" {
		p.addr = net.JoinHostPort(u.Hostname(), "443")
	}
	if t.TLS.Insecure {
		return p, nil
	}
	if strings.TrimSpace(t.TLS.Thumbprint) != "" {
		if p.pin, err = NormalizeThumbprint(t.TLS.Thumbprint); err != nil {
			return nil, err
		}
	}
	if cas := strings.TrimSpace(strings.Join(t.TLS.CAs, "\n")); cas != "" {
		if p.roots, err = ParseCAs(cas); err != nil {
			return nil, err
		}
	}
	return p, nil
}
