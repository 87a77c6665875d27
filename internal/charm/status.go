package charm

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/integration"
)

// decision is everything the status is decided from, all of it this
// event's facts: what the inputs resolved to, the check record that
// matches them, and what the related applications can take.
type decision struct {
	// resolveErr, when set, is the status: the operator's input is unusable.
	resolveErr error
	record     *checkRecord
	// quoting lists the fields that a related consumer's templates cannot
	// carry (see quotingWarnings).
	quoting []string
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
		return hooktools.StatusActive, "ready" + r.Prereq.warnings() + quotingMessage(d.quoting)
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

// quotingConsumers are the applications whose templates put the user and
// password between double quotes without escaping (docs/consumers.md):
// kubernetes-master's (and its successor's) in-tree cloud-config, and
// vsphere-cloud-provider's CSI secret.
var quotingConsumers = []string{"kubernetes-master", "kubernetes-control-plane", "kubernetes-worker", "vsphere-cloud-provider"}

// quotingWarnings names the fields (never their values) that would break a
// related consumer: a `"`, `\` or line break in the user or password.
func quotingWarnings(d integration.Data, apps []string) []string {
	if !slices.ContainsFunc(apps, func(a string) bool { return slices.Contains(quotingConsumers, a) }) {
		return nil
	}
	var out []string
	for _, f := range []struct{ name, value string }{{"user", d.User}, {"password", d.Password}} {
		if strings.ContainsAny(f.value, "\"\\\n\r") {
			out = append(out, f.name)
		}
	}
	return out
}

func quotingMessage(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s holds \", \\ or a line break, which related Kubernetes charms do not escape (see README, What consumers render)",
		strings.Join(fields, " and "))
}
