// Package hooktools is the charm's one narrow door to Juju: typed methods over
// the hook tools (config-get, relation-set, status-set, ...).
//
// Every method builds the tool's argv, always asks for --format=json where the
// tool prints anything, feeds values that may hold secrets on stdin
// (`--file -` with a YAML map) and never on argv, and turns `ERROR ...` on
// stderr into the typed errors in errors.go. The one exception is
// action-set, which Juju only offers with key=value arguments.
//
// It is also the charm's one way out for text (docs/security.md): every
// message, result and state value is redacted of the secrets registered in
// Secrets() and bounded to fit the limits Juju and the kernel set
// (limits.go); only relation data, where the password is meant to go, is
// sent as given.
//
// The tools are run through a Runner: Exec (os/exec, the only one in the
// charm) in production, the in-memory Juju of package hooktoolstest in unit
// tests. Both see exactly the same argv and stdin.
package hooktools

import (
	"context"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
)

// Status is a workload status name accepted by status-set.
type Status string

// The workload statuses a charm may set.
const (
	StatusMaintenance Status = "maintenance"
	StatusBlocked     Status = "blocked"
	StatusWaiting     Status = "waiting"
	StatusActive      Status = "active"
)

// Level is a juju-log level.
type Level string

// The juju-log levels.
const (
	LevelDebug   Level = "DEBUG"
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

// Tools is every hook tool the charm uses.
type Tools interface {
	// ConfigGet returns all charm options (`config-get --format=json`).
	ConfigGet(ctx context.Context) (map[string]any, error)
	// CredentialGet returns the trusted cloud credential; ErrNotTrusted
	// until `juju trust` is granted.
	CredentialGet(ctx context.Context) (CloudSpec, error)

	// RelationIDs lists the relation ids of an endpoint ("clients:3").
	RelationIDs(ctx context.Context, endpoint string) ([]string, error)
	// RelationList lists the remote units of a relation.
	RelationList(ctx context.Context, relationID string) ([]string, error)
	// RelationGet returns all keys a unit (local or remote) has set on a
	// relation. ErrRelationNotFound when the relation is gone or the unit
	// has no settings in it.
	RelationGet(ctx context.Context, relationID, unit string) (map[string]string, error)
	// RelationSet writes keys into this unit's databag; an empty value
	// deletes the key. Values go on stdin. An empty map runs nothing.
	RelationSet(ctx context.Context, relationID string, values map[string]string) error

	// StatusSet sets this unit's workload status. A status other than
	// maintenance, blocked, waiting or active is ErrInvalidArgument.
	StatusSet(ctx context.Context, status Status, message string) error
	// ApplicationVersionSet sets the version `juju status` shows.
	ApplicationVersionSet(ctx context.Context, version string) error
	// IsLeader reports whether this unit is the application leader.
	IsLeader(ctx context.Context) (bool, error)
	// Log writes to the unit's log with juju-log.
	Log(ctx context.Context, level Level, message string) error

	// StateGet returns this unit's charm state kept by the controller.
	StateGet(ctx context.Context) (map[string]string, error)
	// StateGetKey returns one key of it; "" when it is not set.
	StateGetKey(ctx context.Context, key string) (string, error)
	// StateSet writes charm state; an empty value deletes a key (through
	// state-delete: Juju's state-set would store ""). Values go on stdin.
	StateSet(ctx context.Context, values map[string]string) error

	// ActionGet returns the running action's parameters.
	ActionGet(ctx context.Context) (map[string]any, error)
	// ActionSet sets action results; nested maps become dotted keys.
	// Values go on argv (action-set has no --file), redacted and bounded.
	ActionSet(ctx context.Context, results map[string]any) error
	// ActionSetShown is ActionSet for results the user ran the action to
	// see, a secret among them (cloud-config show-password=true): bounded,
	// not redacted.
	ActionSetShown(ctx context.Context, results map[string]any) error
	// ActionFail marks the running action failed with a message.
	ActionFail(ctx context.Context, message string) error
	// ActionLog sends a progress message to the user running the action.
	ActionLog(ctx context.Context, message string) error

	// Secrets are the secrets every text above is cleaned of (all but
	// relation data). The charm adds each secret as soon as it reads it.
	Secrets() *redact.Secrets
}

// Runner runs one hook tool. A tool that exits non-zero returns an
// *ExitError carrying its stderr; a tool that cannot be started returns an
// error wrapping ErrToolMissing.
type Runner interface {
	Run(ctx context.Context, tool string, args []string, stdin []byte) (stdout []byte, err error)
}
