// Package charm is the operator: every event runs one reconcile (resolve
// credentials → check vCenter when needed → publish → set the status decided
// in one place), and the actions reuse its parts.
package charm

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// Endpoint is the relation endpoint the integrator provides.
const Endpoint = "clients"

const (
	// CheckTimeout bounds one vCenter check, so a vCenter that accepts and
	// never answers is reported within about this long.
	CheckTimeout = 30 * time.Second
	// recheckAfter: update-status checks a good result again after this.
	recheckAfter = 30 * time.Minute
)

// Checker checks a target against vCenter in one session.
type Checker interface {
	Check(ctx context.Context, t vsphere.Target) (*vsphere.Report, error)
}

// CheckerFunc adapts a function to Checker.
type CheckerFunc func(ctx context.Context, t vsphere.Target) (*vsphere.Report, error)

// Check calls f.
func (f CheckerFunc) Check(ctx context.Context, t vsphere.Target) (*vsphere.Report, error) {
	return f(ctx, t)
}

// Charm runs one event.
type Charm struct {
	tools   hooktools.Tools
	hc      hookenv.Context
	checker Checker
	now     func() time.Time
	// checkTimeout is CheckTimeout except in tests of a hanging vCenter.
	checkTimeout time.Duration
	// stderr gets what juju-log may be unable to take; Juju copies a hook's
	// stderr into the unit log.
	stderr io.Writer
	// enableDiskUUID is vsphere.EnableDiskUUID except in tests that count
	// sessions.
	enableDiskUUID func(ctx context.Context, t vsphere.Target, dryRun bool) (*vsphere.DiskUUIDReport, error)
	// relIDs caches relation-ids for the event; nil until read.
	relIDs []string
}

// New returns the charm for one event. checker nil means the real vCenter
// check.
func New(tools hooktools.Tools, hc hookenv.Context, checker Checker) *Charm {
	if checker == nil {
		checker = CheckerFunc(vsphere.Check)
	}
	return &Charm{tools: tools, hc: hc, checker: checker, now: time.Now, checkTimeout: CheckTimeout, stderr: os.Stderr, enableDiskUUID: vsphere.EnableDiskUUID}
}

// WithClock replaces the clock, for tests of the re-check interval.
func (c *Charm) WithClock(now func() time.Time) *Charm {
	c.now = now
	return c
}

// checkPolicy says when an event checks against vCenter.
type checkPolicy int

const (
	// checkIfChanged: only when the inputs differ from the last check.
	checkIfChanged checkPolicy = iota
	// checkIfStale: also when the last check failed or is old.
	checkIfStale
	// checkAlways: the event is the operator asking for it.
	checkAlways
)

// hooks maps every handled hook to its check policy. A hook not listed here
// (secret-*, pre-series-upgrade, start, stop, remove, ...) changes nothing:
// the charm keeps no files or processes, so stop and remove leave nothing
// behind by construction.
var hooks = map[string]checkPolicy{
	"install":                 checkAlways,
	"config-changed":          checkAlways,
	"upgrade-charm":           checkAlways,
	"leader-elected":          checkAlways,
	"update-status":           checkIfStale,
	"leader-settings-changed": checkIfChanged,
	"start":                   checkIfChanged,
}

// Run runs the event. It returns an error only for a bug in the charm;
// everything outside the charm (Juju, vCenter, the operator's input) ends in
// a status and a nil error.
func (c *Charm) Run(ctx context.Context) error {
	switch c.hc.Kind {
	case hookenv.KindAction:
		return c.runAction(ctx)
	case hookenv.KindHook:
		if endpoint, event, ok := c.hc.RelationHook(); ok {
			if endpoint != Endpoint {
				return nil
			}
			return c.relationEvent(ctx, event)
		}
		if policy, ok := hooks[c.hc.Name]; ok {
			_, err := c.reconcile(ctx, policy, nil, false)
			return err
		}
	}
	return nil
}

func (c *Charm) relationEvent(ctx context.Context, event string) error {
	switch event {
	case "created", "joined", "changed":
		_, err := c.reconcile(ctx, checkIfChanged, []string{c.hc.RelationID}, false)
		return err
	case "departed":
		return c.forgetUnit(ctx, c.hc.RelationID, c.hc.RemoteUnit)
	case "broken":
		return c.forgetRelation(ctx, c.hc.RelationID)
	}
	return nil
}
