package hooktoolstest

// CloudSpec is what credential-get prints: Juju's params.CloudSpec (juju/juju
// rpc/params/cloud.go), key for key. It is Juju's type, not the charm's
// hooktools.CloudSpec, so that a charm reading a key Juju does not print (or
// missing one it does) shows in tests.
//
// The JSON tags are Juju's: type and name always appear, the rest only when
// set. Juju has no YAML tags, so --format=yaml (and smart) print yaml.v2's
// default keys, the lower-cased Go field names ("identityendpoint",
// "skiptlsverify"); the yaml tags here spell those out.
type CloudSpec struct {
	Type              string           `json:"type" yaml:"type"`
	Name              string           `json:"name" yaml:"name"`
	Region            string           `json:"region,omitempty" yaml:"region"`
	Endpoint          string           `json:"endpoint,omitempty" yaml:"endpoint"`
	IdentityEndpoint  string           `json:"identity-endpoint,omitempty" yaml:"identityendpoint"`
	StorageEndpoint   string           `json:"storage-endpoint,omitempty" yaml:"storageendpoint"`
	Credential        *CloudCredential `json:"credential,omitempty" yaml:"credential"`
	CACertificates    []string         `json:"cacertificates,omitempty" yaml:"cacertificates"`
	SkipTLSVerify     bool             `json:"skip-tls-verify,omitempty" yaml:"skiptlsverify"`
	IsControllerCloud bool             `json:"is-controller-cloud,omitempty" yaml:"iscontrollercloud"`
}

// CloudCredential is Juju's params.CloudCredential. auth-type is always
// printed. Juju names the attributes field Attributes (hence its YAML key);
// it is Attrs here, as in the charm's type, so that building a fixture reads
// the same in both.
type CloudCredential struct {
	AuthType string            `json:"auth-type" yaml:"authtype"`
	Attrs    map[string]string `json:"attrs,omitempty" yaml:"attributes"`
	// Redacted lists attributes Juju withheld.
	Redacted []string `json:"redacted,omitempty" yaml:"redacted"`
}
