package charm

import (
	"context"
	"fmt"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// decision is everything the status is decided from, all of it this
// event's facts: what the inputs resolved to, the check record that
// matches them, and what the related applications can take.
type decision struct {
	// resolveErr, when set, is the status: the operator's input is unusable.
	resolveErr error
	record     *checkRecord
	// consumers is what related applications cannot use of the published
	// data, naming them (consumers.Warning); "" when all can.
	consumers string
	// dedicated is the dedicated mode's state; nil in shared mode.
	dedicated *dedicatedState
}

// statusFor is the one place that decides the unit status. A verified
// credential whose user lacks a privilege volumes cannot work without is
// blocked, though published; lesser prerequisite problems are a warning on
// an active status.
func statusFor(d decision) (hooktools.Status, string) {
	if d.resolveErr != nil {
		return hooktools.StatusBlocked, d.resolveErr.Error()
	}
	r := d.record
	switch r.Outcome {
	case outcomeVerified:
		if r.Prereq.blocked() {
			return hooktools.StatusBlocked, r.Prereq.blockedMessage()
		}
		if ds := d.dedicated; ds != nil {
			if ds.failed != "" {
				return hooktools.StatusBlocked, ds.failed
			}
			if len(ds.waiting) > 0 {
				return hooktools.StatusWaiting, "waiting for the leader to make dedicated vCenter users for " + named(ds.waiting) + ds.unreachableNote()
			}
		}
		return hooktools.StatusActive, "ready" + d.dedicated.summary() + r.Prereq.warnings() + d.consumers
	case outcomeUnverified:
		return hooktools.StatusWaiting, r.Reason + "; published unverified, will retry"
	default:
		if r.LoginRejected {
			return hooktools.StatusBlocked, fmt.Sprintf("%s; not tried again until %s (a config change or the refresh-credentials action tries at once)",
				r.Reason, r.retryAt().UTC().Format("15:04 MST"))
		}
		return hooktools.StatusBlocked, r.Reason
	}
}

// setStatus sets the decided status on every event. Juju sends status-set
// at once, outside the hook transaction, so a record of "the status last
// set" in unit state could be left stale by a hook that failed after
// setting it; asking again costs one call and is always true.
func (c *Charm) setStatus(ctx context.Context, d decision) error {
	s, msg := statusFor(d)
	return c.tools.StatusSet(ctx, s, msg)
}

func logLevel(s hooktools.Status) hooktools.Level {
	switch s {
	case hooktools.StatusActive:
		return hooktools.LevelInfo
	case hooktools.StatusWaiting:
		return hooktools.LevelWarning
	default:
		return hooktools.LevelError
	}
}

// summary is what an active status says of the dedicated credentials.
func (ds *dedicatedState) summary() string {
	if ds == nil {
		return ""
	}
	n := len(ds.table.Apps)
	if n == 1 {
		return "; a dedicated vCenter user for 1 application"
	}
	return fmt.Sprintf("; dedicated vCenter users for %d applications", n)
}

func (ds *dedicatedState) unreachableNote() string {
	if ds.unreachable == "" {
		return ""
	}
	return " (vCenter did not answer: " + ds.unreachable + ")"
}
