// Package relation is the vsphere-integration wire format: it encodes
// the 7 keys exactly as the Python interface's provider does, and decodes
// them strictly (Decode), as what this charm publishes. How each known
// consumer decodes them is emulated for the tests in
// internal/consumers/consumerstest.
package relation

import (
	"strconv"
	"strings"
)

// The relation keys, in the order the Python provider sorts them.
const (
	KeyDatacenter  = "datacenter"
	KeyDatastore   = "datastore"
	KeyFolder      = "folder"
	KeyPassword    = "password"
	KeyRespoolPath = "respool_path"
	KeyUser        = "user"
	KeyVsphereIP   = "vsphere_ip"
)

// Keys lists every key the provider publishes.
var Keys = []string{KeyDatacenter, KeyDatastore, KeyFolder, KeyPassword, KeyRespoolPath, KeyUser, KeyVsphereIP}

// Data is what the integrator publishes on every clients relation.
type Data struct {
	VsphereIP   string
	User        string
	Password    string
	Datacenter  string
	Datastore   string
	Folder      string
	RespoolPath string
}

// Encode returns the 7 relation values, each JSON-encoded byte for byte as
// Python's json.dumps would, so a switch from the Python charm changes no
// relation value. An empty string encodes as `""`, never as an empty value
// (which relation-set would take as "delete the key").
func (d Data) Encode() map[string]string {
	return map[string]string{
		KeyVsphereIP:   PyJSONString(d.VsphereIP),
		KeyUser:        PyJSONString(d.User),
		KeyPassword:    PyJSONString(d.Password),
		KeyDatacenter:  PyJSONString(d.Datacenter),
		KeyDatastore:   PyJSONString(d.Datastore),
		KeyFolder:      PyJSONString(d.Folder),
		KeyRespoolPath: PyJSONString(d.RespoolPath),
	}
}

// PyJSONString encodes s as Python's json.dumps(s) does with its defaults
// (ensure_ascii=True): `"` and `\` backslash-escaped, \b \f \n \r \t by
// name, other control characters and every non-ASCII character as \uXXXX
// (surrogate pairs above U+FFFF), and no HTML escaping of < > &. Invalid
// UTF-8 bytes become U+FFFD, as Juju would not carry them anyway.
func PyJSONString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r < 0x20 || (r >= 0x7f && r <= 0xffff):
			writeU(&b, r)
		case r > 0xffff:
			r -= 0x10000
			writeU(&b, 0xd800+(r>>10))
			writeU(&b, 0xdc00+(r&0x3ff))
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func writeU(b *strings.Builder, r rune) {
	h := strconv.FormatInt(int64(r), 16)
	b.WriteString(`\u`)
	b.WriteString(strings.Repeat("0", 4-len(h)))
	b.WriteString(h)
}
