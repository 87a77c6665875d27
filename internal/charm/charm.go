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
	// relIDs caches relation-ids per endpoint for the event.
	relIDs map[string][]string
	// recheck: a unit leaving is named in the status in a way only a new
	// check can restate (see leave).
	recheck bool
	// secrets are the event's secrets, shared with the hook tools, which
	// redact them from everything they send.
	secrets *redact.Secrets
}

// New returns the charm for one event.
func New(tools *hooktools.Tools, hc hookenv.Context, vc VCenter, o Options) *Charm {
	c := &Charm{tools: tools, hc: hc, vc: vc, now: o.Now, checkTimeout: o.CheckTimeout, stderr: o.Stderr, key: o.Key, relIDs: map[string][]string{}}
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

// checkPolicy says when an event checks against vCenter.
type checkPolicy int

const (
	// checkIfChanged: only when the inputs differ from the last check.
	checkIfChanged checkPolicy = iota
	// checkIfStale: also when the last check failed, is old, or the nodes
	// changed.
	checkIfStale
	// checkOnEvent: an event that usually means something changed
	// (install, config-changed, upgrade): check, unless the credential is
	// the one vCenter rejected less than loginBackoff ago.
	checkOnEvent
	// checkNow: the operator asked for it (an action).
	checkNow
)

// hooks maps every handled hook outside relations to its check policy. A
// hook not listed here (secret-*, pre-series-upgrade, ...) changes
// nothing. stop and remove set the status decided from what is left (Juju
// takes status-set in both: the unit is dying, not dead, until remove
// ends); the charm keeps no files or processes besides its state key, so
// they leave nothing behind by construction.
var hooks = map[string]checkPolicy{
	"stop":                    checkIfChanged,
	"remove":                  checkIfChanged,
	"install":                 checkOnEvent,
	"config-changed":          checkOnEvent,
	"upgrade-charm":           checkOnEvent,
	"leader-elected":          checkOnEvent,
	"update-status":           checkIfStale,
	"leader-settings-changed": checkIfChanged,
	"start":                   checkIfChanged,
}

// Run runs the event. An error means a hook tool failed: the caller exits
// non-zero so that Juju retries the hook.
func (c *Charm) Run(ctx context.Context) error {
	switch c.hc.Kind {
	case hookenv.KindAction:
		return c.runAction(ctx)
	case hookenv.KindHook:
		if endpoint, event, ok := c.hc.RelationHook(); ok {
			if endpoint != Endpoint && endpoint != NodesEndpoint {
				return nil
			}
			return c.relationEvent(ctx, endpoint, event)
		}
		if policy, ok := hooks[c.hc.Name]; ok {
			_, err := c.reconcile(ctx, policy, nil, false)
			return err
		}
	}
	return nil
}

func (c *Charm) relationEvent(ctx context.Context, endpoint, event string) error {
	switch event {
	case "created", "joined", "changed":
		var rels []string
		if endpoint == Endpoint {
			rels = []string{c.hc.RelationID}
		} else {
			rels = []string{} // a nodes relation carries no data of ours
		}
		_, err := c.reconcile(ctx, checkIfChanged, rels, false)
		return err
	case "departed", "broken":
		// What leaves is forgotten first (trackNodes), so that the status
		// names neither the unit nor the relation's application.
		_, err := c.reconcile(ctx, checkIfChanged, []string{}, false)
		return err
	}
	return nil
}

// departing is the unit leaving in a relation-departed hook: Juju ≥ 2.8
// names it in JUJU_DEPARTING_UNIT, and JUJU_REMOTE_UNIT is the same unit.
func (c *Charm) departing() string {
	if c.hc.DepartingUnit != "" {
		return c.hc.DepartingUnit
	}
	return c.hc.RemoteUnit
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
