// Package charm is the operator: every event runs one reconcile (read the
// inputs → check vCenter when due → publish → set the status decided in one
// place), and the actions reuse its parts.
//
// Error flow (docs/juju-hook-tools.md, "Hook transaction"): a returned error
// means a hook tool failed, which is Juju's trouble; main exits non-zero,
// Juju commits none of the hook's relation or state writes and retries it.
// Everything else (the operator's input, vCenter) ends in a status and a
// nil error.
package charm

import (
	"context"
	"crypto/rand"
	"io"
	"os"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// The endpoints the charm handles.
const (
	// Endpoint is the vsphere-integration endpoint it publishes on.
	Endpoint = "clients"
	// NodesEndpoint (juju-info) tells it about Kubernetes nodes that are
	// not related on Endpoint, as in the vsphere-cloud-provider deployment.
	NodesEndpoint = "nodes"
)

const (
	// CheckTimeout bounds one vCenter check, so a vCenter that accepts and
	// never answers is reported within about this long.
	CheckTimeout = 30 * time.Second
	// recheckAfter: update-status checks a good result again after this.
	recheckAfter = 30 * time.Minute
	// loginBackoff: an unchanged credential vCenter rejected is not tried
	// again by a hook for this long. vCenter SSO locks an account after 5
	// failed logins in 180 s (docs/vcenter.md), and the consumers log in
	// with the same account.
	loginBackoff = 30 * time.Minute
)

// VCenter is everything the charm asks of vCenter, each call one session.
// vsphere.Client is the real one.
type VCenter interface {
	Check(ctx context.Context, t vsphere.Target) (*vsphere.Report, error)
	EnableDiskUUID(ctx context.Context, t vsphere.Target, dryRun bool) (*vsphere.DiskUUIDReport, error)
	TestVolume(ctx context.Context, t vsphere.Target, sizeMiB int) (*vsphere.VolumeReport, error)
	Dedicate(ctx context.Context, t vsphere.Target, req vsphere.DedicateRequest) (*vsphere.DedicateReport, error)
	Identities(ctx context.Context, t vsphere.Target, userPrefix string) ([]vsphere.Identity, *vsphere.DedicateReport, error)
}

var _ VCenter = vsphere.Client{}

// Options are the parts of the outside world besides Juju and vCenter. The
// zero value is production's.
type Options struct {
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// CheckTimeout replaces CheckTimeout when positive.
	CheckTimeout time.Duration
	// Stderr gets a line for every failure (Juju copies a hook's stderr into
	// the unit log, and juju-log may be what fails); os.Stderr when nil.
	Stderr io.Writer
	// Key keys the hashes kept in unit state (see LoadKey); a random key
	// for this event when empty, which costs one extra check.
	Key []byte
}

// Charm runs one event.
type Charm struct {
	tools        *hooktools.Tools
	hc           hookenv.Context
	vc           VCenter
	now          func() time.Time
	checkTimeout time.Duration
	stderr       io.Writer
	key          []byte
	// plan is what the event does, decided once from its name (planFor).
	plan plan
	// relIDs caches relation-ids per endpoint for the event.
	relIDs map[string][]string
	// secrets are the event's secrets, shared with the hook tools, which
	// redact them from everything they send.
	secrets *redact.Secrets
	// request is what an action asks of the dedicated mode beyond the plan.
	request dedicatedRequest
}

// New returns the charm for one event.
func New(tools *hooktools.Tools, hc hookenv.Context, vc VCenter, o Options) *Charm {
	c := &Charm{tools: tools, hc: hc, vc: vc, now: o.Now, checkTimeout: o.CheckTimeout, stderr: o.Stderr, key: o.Key, plan: planFor(hc), relIDs: map[string][]string{}}
	if c.now == nil {
		c.now = time.Now
	}
	if c.checkTimeout <= 0 {
		c.checkTimeout = CheckTimeout
	}
	if c.stderr == nil {
		c.stderr = os.Stderr
	}
	c.secrets = tools.Secrets()
	c.stderr = stderrWriter{w: c.stderr, secrets: c.secrets}
	if len(c.key) == 0 {
		c.key = make([]byte, keySize)
		_, _ = rand.Read(c.key)
	}
	return c
}

// Run runs the event as its plan says. An error means a hook tool failed:
// the caller exits non-zero so that Juju retries the hook.
func (c *Charm) Run(ctx context.Context) error {
	switch {
	case c.plan.run == nil:
		return nil
	case c.plan.action:
		return c.runAction(ctx)
	}
	return c.plan.run(c, ctx)
}

// maxStderr bounds one line the charm writes to stderr, which Juju copies
// into the unit log.
const maxStderr = 8 * 1024

// stderrWriter is stderr through the one way out: each write (one line,
// as the charm writes them) is redacted and bounded.
type stderrWriter struct {
	w       io.Writer
	secrets *redact.Secrets
}

func (s stderrWriter) Write(p []byte) (int, error) {
	line := s.secrets.Text(strings.TrimSuffix(string(p), "\n"), maxStderr) + "\n"
	if _, err := io.WriteString(s.w, line); err != nil {
		return 0, err
	}
	return len(p), nil
}
