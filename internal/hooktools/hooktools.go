// Package hooktools is the charm's one narrow door to Juju: typed methods over
// the hook tools (config-get, relation-set, status-set, ...).
//
// Every method builds the tool's argv, always asks for --format=json where the
// tool prints anything, feeds values that may hold secrets on stdin
// (`--file -` with a YAML map) and never on argv, and turns `ERROR ...` on
// stderr into the typed errors in errors.go. secret-add reads --file
// itself, so its content goes in a private 0600 file instead; action-set
// and leader-set are offered only with key=value arguments, and carry no
// secret unless the user asked for it (docs/juju-hook-tools.md).
//
// It is also the charm's one way out for text (docs/security.md): every
// message, result and state value is redacted of the secrets registered in
// Tools.Secrets and bounded to fit the limits Juju and the kernel set
// (limits.go); only relation data, where the password is meant to go, is
// sent as given.
//
// The tools are run through a Runner: Exec (os/exec, the only one in the
// charm) in production, the in-memory Juju of package hooktoolstest in unit
// tests. Both see exactly the same argv and stdin. Tools itself has one
// implementation, so it is a type, not an interface: what differs between
// the charm and its tests is the Runner.
package hooktools

import "context"

// Status is a workload status name accepted by status-set.
type Status string

// The workload statuses a charm may set.
const (
	statusMaintenance Status = "maintenance" // valid, but the charm never sets it
	StatusBlocked     Status = "blocked"
	StatusWaiting     Status = "waiting"
	StatusActive      Status = "active"
)

// Level is a juju-log level.
type Level string

// The juju-log levels.
const (
	LevelInfo    Level = "INFO"
	LevelWarning Level = "WARNING"
	LevelError   Level = "ERROR"
)

// CloudSpec is what `credential-get --format=json` prints (juju/juju
// rpc/params CloudSpec, docs/juju-hook-tools.md): type, name and the
// credential's auth-type always, the rest only when set. The charm reads
// all but credential.redacted and is-controller-cloud.
type CloudSpec struct {
	Type             string           `json:"type,omitempty"`
	Name             string           `json:"name,omitempty"`
	Region           string           `json:"region,omitempty"`
	Endpoint         string           `json:"endpoint,omitempty"`
	IdentityEndpoint string           `json:"identity-endpoint,omitempty"`
	StorageEndpoint  string           `json:"storage-endpoint,omitempty"`
	Credential       *CloudCredential `json:"credential,omitempty"`
	CACertificates   []string         `json:"cacertificates,omitempty"`
	SkipTLSVerify    bool             `json:"skip-tls-verify,omitempty"`
}

// CloudCredential is the credential part of a CloudSpec.
type CloudCredential struct {
	AuthType string            `json:"auth-type,omitempty"`
	Attrs    map[string]string `json:"attrs,omitempty"`
}

// Runner runs one hook tool. A tool that exits non-zero returns an
// *ExitError carrying its stderr; a tool that cannot be started returns an
// error wrapping ErrToolMissing.
type Runner interface {
	Run(ctx context.Context, tool string, args []string, stdin []byte) (stdout []byte, err error)
}
