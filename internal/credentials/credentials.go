// Package credentials decides which vCenter, user, password and datacenter
// the charm uses, from the trusted cloud credential, the `credentials`
// option and the flat options, merged field by field, and validates every
// option the vCenter check needs.
package credentials

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// Source says where a field's value came from, for logs and action results.
type Source string

// The sources, in the order they are merged (later wins).
const (
	sourceTrust       Source = "juju trust"
	sourceCredentials Source = "credentials config"
	sourceOption      Source = "config option"
)

// Resolved is everything the check and the relation need.
type Resolved struct {
	Data relation.Data // exactly what is published
	TLS  vsphere.TLS
	// Sources tells, per relation key, where the value came from.
	Sources map[string]Source
	// Trusted is whether credential-get answered.
	Trusted bool
	// TLSWhy explains the TLS decision in one line for the log.
	TLSWhy string
	// Notices are things worth one log line when these inputs are first
	// used: a config setting that overrides the cloud's TLS choice, an
	// ignored option.
	Notices []string
}

// Target is the vCenter check's input for these credentials.
func (r Resolved) Target() vsphere.Target {
	d := r.Data
	return vsphere.Target{
		Server: d.VsphereIP, User: d.User, Password: d.Password,
		Datacenter: d.Datacenter, Datastore: d.Datastore, Folder: d.Folder, ResourcePool: d.RespoolPath,
		TLS: r.TLS,
	}
}

// Hash identifies the inputs of a check without revealing them: it covers
// every field (password included, so a rotated password is noticed) and is
// stored in unit state instead of the values themselves. It is an
// HMAC-SHA256 under key, the unit's own secret, so that whoever reads the
// unit state cannot test password guesses against it.
func (r Resolved) Hash(key []byte) string {
	h := hmac.New(sha256.New, key)
	write := func(s string) {
		// Length-prefixed so that no two different inputs hash alike.
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	write("vsphere-integrator/v1")
	d := r.Data
	for _, s := range []string{d.VsphereIP, d.User, d.Password, d.Datacenter, d.Datastore, d.Folder, d.RespoolPath} {
		write(s)
	}
	write(fmt.Sprint(r.TLS.Insecure))
	write(r.TLS.Thumbprint)
	for _, ca := range r.TLS.CAs {
		write(ca)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// fields are the four credential fields, by relation key, with the config
// option that sets each and the cloud-credential part it comes from.
var fields = []struct{ key, option, cloud string }{
	{relation.KeyVsphereIP, "vsphere_ip", "endpoint"},
	{relation.KeyUser, "user", "user"},
	{relation.KeyPassword, "password", "password"},
	{relation.KeyDatacenter, "datacenter", "region"},
}

// Resolve merges the sources. spec is credential-get's answer and trustErr
// its error (hooktools.ErrNotTrusted before `juju trust`); config is
// config-get's answer. The error's text is the unit's status (errors.go);
// one not granted trust yet is ErrNoCredentials.
func Resolve(spec hooktools.CloudSpec, trustErr error, config map[string]any) (Resolved, error) {
	r := Resolved{Sources: map[string]Source{}}
	if trustErr != nil {
		spec = hooktools.CloudSpec{} // not trusted: nothing of it is used
	}
	if err := checkLengths(spec, config); err != nil {
		return r, err
	}
	vals := map[string]string{}
	set := func(key, v string, src Source) {
		if v != "" {
			vals[key] = v
			r.Sources[key] = src
		}
	}

	var cloudCAs []string
	skipVerify := false
	switch {
	case trustErr == nil:
		r.Trusted = true
		set(relation.KeyVsphereIP, spec.Endpoint, sourceTrust)
		set(relation.KeyDatacenter, spec.Region, sourceTrust)
		if spec.Credential != nil {
			set(relation.KeyUser, spec.Credential.Attrs["user"], sourceTrust)
			set(relation.KeyPassword, spec.Credential.Attrs["password"], sourceTrust)
		}
		cloudCAs = spec.CACertificates
		skipVerify = spec.SkipTLSVerify
	case errors.Is(trustErr, hooktools.ErrNotTrusted):
	default:
		return r, fmt.Errorf("cannot read the cloud credential: %w", trustErr)
	}

	if blob := option(config, "credentials"); blob != "" {
		flat, err := decodeBlob(blob)
		if err != nil {
			return r, &configError{Option: "credentials", Reason: err.Error()}
		}
		for _, f := range fields {
			set(f.key, flat[f.key], sourceCredentials)
		}
	}
	for _, f := range fields {
		set(f.key, option(config, f.option), sourceOption)
	}

	for _, f := range fields {
		if r.Sources[f.key] == sourceCredentials && len(vals[f.key]) > maxLen[f.option].max {
			l := maxLen[f.option]
			return r, &lengthError{Option: "credentials", Field: f.key, Len: len(vals[f.key]), Max: l.max, Why: l.why}
		}
		if err := checkValue(vals[f.key]); err != nil {
			reason := err.Error()
			if r.Sources[f.key] == sourceCredentials {
				reason = f.key + " " + reason
			}
			return r, &configError{Option: fieldOption(f.option, f.cloud, r.Sources[f.key]), Reason: reason}
		}
	}
	var missing []string
	for _, f := range fields {
		if vals[f.key] == "" {
			missing = append(missing, f.option)
		}
	}
	if len(missing) == len(fields) && !r.Trusted {
		return r, ErrNoCredentials
	}
	if len(missing) > 0 {
		return r, &missingError{Options: missing, Trusted: r.Trusted}
	}

	r.Data = relation.Data{
		VsphereIP:   vals[relation.KeyVsphereIP],
		User:        vals[relation.KeyUser],
		Password:    vals[relation.KeyPassword],
		Datacenter:  vals[relation.KeyDatacenter],
		Datastore:   option(config, "datastore"),
		Folder:      option(config, "folder"),
		RespoolPath: option(config, "respool_path"),
	}
	for _, k := range []string{relation.KeyDatastore, relation.KeyFolder, relation.KeyRespoolPath} {
		r.Sources[k] = sourceOption
	}
	for _, opt := range []string{"datastore", "folder"} {
		if option(config, opt) == "" {
			return r, &configError{Option: opt, Reason: "must not be empty; set with: juju config vsphere-integrator " + opt + "=…"}
		}
	}
	for _, opt := range []string{"datastore", "folder", "respool_path"} {
		if err := checkValue(option(config, opt)); err != nil {
			return r, &configError{Option: opt, Reason: err.Error()}
		}
	}
	// Before ParseServer, whose errors quote the part they refuse.
	if hasUserInfo(r.Data.VsphereIP) {
		return r, errUserInfo
	}
	if _, err := vsphere.ParseServer(r.Data.VsphereIP); err != nil {
		opt := "vsphere_ip"
		if r.Sources[relation.KeyVsphereIP] == sourceTrust {
			opt = "the cloud endpoint (override with vsphere_ip)"
		}
		return r, &configError{Option: opt, Reason: err.Error()}
	}

	tls, err := decideTLS(option(config, "ca_cert"), option(config, "thumbprint"), cloudCAs, skipVerify)
	if err != nil {
		return r, err
	}
	r.TLS, r.TLSWhy, r.Notices = tls.TLS, tls.why, tls.notices
	return r, nil
}

// checkValue refuses a value no vCenter object or account can have and no
// consumer can carry: only white space, or a control character (a line
// break pasted with it, a NUL). The reason never quotes the value.
func checkValue(v string) error {
	if v == "" {
		return nil
	}
	if strings.TrimSpace(v) == "" {
		return errors.New("is only white space")
	}
	for i, r := range v {
		if unicode.IsControl(r) {
			return fmt.Errorf("holds a control character (%U at byte %d)", r, i)
		}
	}
	return nil
}

// fieldOption names where a credential field's value came from, for a
// message: the option, or the cloud credential part it overrides.
func fieldOption(opt, cloud string, src Source) string {
	switch src {
	case sourceTrust:
		return fmt.Sprintf("the cloud credential's %s (override with %s)", cloud, opt)
	case sourceCredentials:
		return "credentials"
	}
	return opt
}

// tlsDecision is decideTLS's answer.
type tlsDecision struct {
	vsphere.TLS
	why     string
	notices []string
}

// decideTLS follows the rule every other field follows: the more explicit
// source wins (docs/vcenter.md, "TLS"). A pinned thumbprint wins over
// everything, a ca_cert replaces the cloud's CAs, and only with neither does
// the cloud decide: its CA certificates, or skip-tls-verify, as Juju itself
// connects. With nothing at all, the charm connects without verifying, as
// the consumers do (insecure-flag = true).
func decideTLS(caOpt, tpOpt string, cloudCAs []string, skipVerify bool) (tlsDecision, error) {
	var d tlsDecision
	overrides := func(opt string) {
		if skipVerify {
			d.notices = append(d.notices, opt+" is set, so the vCenter certificate is verified although the cloud credential sets skip-tls-verify")
		}
	}
	switch {
	case tpOpt != "":
		tp, err := vsphere.NormalizeThumbprint(tpOpt)
		if err != nil {
			return d, &configError{Option: "thumbprint", Reason: err.Error()}
		}
		d.Thumbprint = tp
		d.why = "verifying the vCenter certificate against the pinned thumbprint"
		if caOpt != "" {
			d.notices = append(d.notices, "ca_cert is ignored: thumbprint pins the exact certificate")
		}
		overrides("thumbprint")
	case caOpt != "":
		pem, err := decodeCA(caOpt)
		if err != nil {
			return d, &configError{Option: "ca_cert", Reason: err.Error()}
		}
		d.CAs = []string{pem}
		d.why = "verifying the vCenter certificate against ca_cert"
		if len(cloudCAs) > 0 {
			d.why += " (instead of the cloud's CA certificates)"
		}
		overrides("ca_cert")
	case skipVerify:
		d.Insecure = true
		d.why = "not verifying the vCenter certificate: the cloud credential sets skip-tls-verify"
	case len(cloudCAs) > 0:
		for i, ca := range cloudCAs {
			if _, err := vsphere.ParseCAs(ca); err != nil {
				return d, &configError{Option: fmt.Sprintf("the cloud credential's CA certificate %d (override with ca_cert)", i+1), Reason: err.Error()}
			}
		}
		d.CAs = append([]string(nil), cloudCAs...)
		d.why = fmt.Sprintf("verifying the vCenter certificate against the cloud's %d CA certificate(s)", len(cloudCAs))
	default:
		d.Insecure = true
		d.why = "not verifying the vCenter certificate: no ca_cert, thumbprint or cloud CA given (consumers connect with insecure-flag too)"
		d.notices = append(d.notices, d.why)
	}
	return d, nil
}

// decodeCA accepts PEM, or base64 of PEM (what `juju config ca_cert=$(base64 …)`
// gives).
func decodeCA(s string) (string, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "-----BEGIN") {
		raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
		if err != nil {
			return "", errors.New("neither PEM nor base64 of PEM")
		}
		s = string(raw)
	}
	if _, err := vsphere.ParseCAs(s); err != nil {
		return "", err
	}
	return s, nil
}

// decodeBlob reads the `credentials` option: base64 of a JSON object in the
// flat shape or the credential-get shape. The reason it gives never quotes
// the value.
func decodeBlob(blob string) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(blob), ""))
	if err != nil {
		return nil, errors.New("not base64 (encode the JSON file with base64 -w0)")
	}
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, errors.New("not a JSON object")
	}
	out := map[string]string{}
	str := func(m map[string]json.RawMessage, from, to, where string) error {
		v, ok := m[from]
		if !ok {
			return nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return fmt.Errorf("%s%q must be a string", where, from)
		}
		out[to] = s
		return nil
	}
	_, cloudShape := doc["endpoint"]
	if _, ok := doc["credential"]; ok {
		cloudShape = true
	}
	if !cloudShape {
		for _, f := range fields {
			if err := str(doc, f.key, f.key, ""); err != nil {
				return nil, err
			}
		}
		if len(out) == 0 {
			return nil, errors.New("has none of vsphere_ip, user, password, datacenter (nor endpoint/credential)")
		}
		return out, nil
	}
	if err := str(doc, "endpoint", relation.KeyVsphereIP, ""); err != nil {
		return nil, err
	}
	if err := str(doc, "region", relation.KeyDatacenter, ""); err != nil {
		return nil, err
	}
	if c, ok := doc["credential"]; ok {
		var cred map[string]json.RawMessage
		if err := json.Unmarshal(c, &cred); err != nil || cred == nil {
			return nil, errors.New(`"credential" must be an object`)
		}
		// `credential-get --format=json` says attrs; its YAML form (which the
		// Python charm read) says attributes.
		for _, k := range []string{"attributes", "attrs"} {
			a, ok := cred[k]
			if !ok {
				continue
			}
			var attrs map[string]json.RawMessage
			if err := json.Unmarshal(a, &attrs); err != nil || attrs == nil {
				return nil, fmt.Errorf("credential %q must be an object", k)
			}
			for _, key := range []string{relation.KeyUser, relation.KeyPassword} {
				if err := str(attrs, key, key, "credential "+k+" "); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// option reads a string option; config-get gives unset strings as "".
func option(config map[string]any, name string) string {
	s, _ := config[name].(string)
	return s
}
