package hooktoolstest

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// secretURI is juju/juju core/secrets URI: the id, and the model it comes
// from when the URI names one.
type secretURI struct {
	SourceUUID string
	ID         string
}

// String is URI.String: "secret:<id>", or "secret://<uuid>/<id>" with a
// source.
func (u secretURI) String() string {
	if u.SourceUUID == "" {
		return (&url.URL{Scheme: "secret", Opaque: u.ID}).String()
	}
	return (&url.URL{Scheme: "secret", Host: u.SourceUUID, Path: u.ID}).String()
}

// xidEncoding is rs/xid's: base32 with the extended hex alphabet, lower
// case, unpadded; 12 bytes make 20 characters.
var xidEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newSecretID is xid.New as the controller calls it for each new secret
// (CreateSecretURIs): 4 bytes of Unix time, then 8 that the fake draws at
// random where xid has machine, process and counter, so that ids stay
// unique across the fakejuju processes sharing one state file.
func newSecretID() string {
	var id [12]byte
	binary.BigEndian.PutUint32(id[:4], uint32(time.Now().Unix()))
	_, _ = rand.Read(id[4:])
	return xidEncoding.EncodeToString(id[:])
}

// validXID is xid.FromString's check: 20 characters of the alphabet whose
// last carries no bits beyond the 96 (rs/xid v1.6 decode).
func validXID(s string) bool {
	if len(s) != 20 {
		return false
	}
	raw, err := xidEncoding.DecodeString(s)
	return err == nil && len(raw) == 12 && xidEncoding.EncodeToString(raw) == s
}

// The parts of a secret URI (core/secrets idSnippet, uuidSnippet).
var (
	secretUUID     = regexp.MustCompile(`[a-f0-9]{8}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{4}-[a-f0-9]{12}`)
	secretURIParts = regexp.MustCompile(`^((?P<source>` + secretUUID.String() + `)/)?(?P<id>[0-9a-z]{20})$`)
)

// parseSecretURI is core/secrets ParseURI, with its texts: "secret:<id>",
// "secret://<uuid>/<id>", "<uuid>/<id>" and a bare id all parse.
func parseSecretURI(str string) (secretURI, error) {
	u, err := url.Parse(str)
	if err != nil {
		return secretURI{}, err
	}
	if u.Scheme == "" {
		u.Scheme = "secret"
	} else if u.Scheme != "secret" {
		return secretURI{}, fmt.Errorf("secret URI scheme %q not valid", u.Scheme)
	}
	if u.Host != "" && !secretUUID.MatchString(u.Host) {
		return secretURI{}, fmt.Errorf("host controller UUID %q not valid", u.Host)
	}
	idStr := strings.TrimLeft(u.Path, "/")
	if idStr == "" {
		idStr = u.Opaque
	}
	m := secretURIParts.FindStringSubmatch(idStr)
	if m == nil || !validXID(m[3]) {
		return secretURI{}, fmt.Errorf("secret URI %q not valid", str)
	}
	source := m[2]
	if source == "" {
		source = u.Host
	}
	return secretURI{SourceUUID: source, ID: m[3]}, nil
}

// DefaultModelUUID is the model New puts the unit in: the source of the
// URIs secret-add prints.
const DefaultModelUUID = "3f2a7c1e-5b8d-4e6f-9a0b-1c2d3e4f5a6b"

// modelUUID is the model's UUID, the default for a state saved before it
// had one.
func (j *Juju) modelUUID() string {
	if j.ModelUUID == "" {
		return DefaultModelUUID
	}
	return j.ModelUUID
}
