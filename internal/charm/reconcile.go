package charm

import (
	"context"
	"fmt"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// reconciled is what one reconcile did, for action results.
type reconciled struct {
	inputs
	checked bool
	report  *vsphere.Report
	// changedKeys are the relation keys written on at least one relation;
	// relations the relations written to.
	changedKeys []string
	relations   []string
	decision    decision
}

// reconcile runs the one path every hook takes, as the event's plan says:
// read the inputs, bring the record of related units up to date, check
// vCenter when due, publish, and set the status. An error is a hook tool
// that failed, and nothing of the event is to be kept.
func (c *Charm) reconcile(ctx context.Context, p plan) (*reconciled, error) {
	in, err := c.read(ctx, p.read)
	if err != nil {
		return nil, err
	}
	st := in.state
	recheck, err := c.trackNodes(ctx, st, p)
	if err != nil {
		return nil, err
	}
	r := &reconciled{inputs: in, decision: decision{resolveErr: in.resolveErr}}
	var logs []string
	if in.resolveErr == nil {
		if logs, err = c.checkAndPublish(ctx, p, recheck, r); err != nil {
			return nil, err
		}
	}
	if len(logs) > 0 {
		// One line per event keeps the log readable and the hook-tool calls
		// few.
		status, _ := statusFor(r.decision)
		c.log(ctx, logLevel(status), strings.Join(logs, "; "))
	}
	// update-status sweeps; so does any event once more relations wait
	// than maxBroken, or relations broken faster than update-status comes
	// would grow the record without bound (and past what state-set takes).
	// Sweeping needs the node keys: already read for update-status.
	if p.sweep || len(st.broken) > maxBroken {
		if err := st.loadNodes(ctx, c.tools); err != nil {
			return nil, err
		}
		st.sweep()
	}
	if err := c.setStatus(ctx, r.decision); err != nil {
		return nil, err
	}
	if err := st.save(ctx, c.tools); err != nil {
		return nil, err
	}
	return r, nil
}

// checkAndPublish is reconcile for usable inputs: check vCenter when due,
// publish unless vCenter rejected them, and decide the status. It returns
// the lines to log.
func (c *Charm) checkAndPublish(ctx context.Context, p plan, recheck bool, r *reconciled) (logs []string, err error) {
	st, in := r.state, r.inputs
	prev := st.check
	hash := in.resolved.Hash(c.key)
	newInputs := prev == nil || prev.Inputs != hash
	if c.needCheck(p.check, prev, hash, st, recheck) {
		if err := st.loadNodes(ctx, c.tools); err != nil {
			return nil, err
		}
		nodes, err := c.nodesToCheck(ctx, st)
		if err != nil {
			return nil, err
		}
		var rec checkRecord
		r.checked = true
		r.report, rec = c.check(ctx, in.resolved, nodes)
		rec.Inputs, rec.Nodes = hash, st.nodes.hash()
		st.setCheck(rec)
		r.decision.record = &rec
		if newInputs {
			// Said once per set of inputs, not on every re-check.
			logs = append(logs, in.resolved.Notices...)
		}
		logs = append(logs, checkLog(in.resolved, r))
	} else {
		r.decision.record = prev
	}
	// What the consumers get: vsphere_ip as they can carry it.
	published := consumers.Published(in.resolved.Data)
	where := p.publish
	if newInputs {
		where = publishAll // new values: every relation
	}
	record := r.decision.record
	if record.Outcome != outcomeRejected {
		if r.changedKeys, r.relations, err = c.publish(ctx, st, p, where, published.Encode()); err != nil {
			return nil, err
		}
		if len(r.changedKeys) > 0 && (newInputs || !p.quiet) {
			logs = append(logs, fmt.Sprintf("published %s on %s", strings.Join(r.changedKeys, ", "), strings.Join(r.relations, ", ")))
		}
	}
	if r.checked && record.Outcome == outcomeVerified && record.Version != "" &&
		(prev == nil || prev.Version != record.Version || p.versionAlways) {
		if err := c.tools.ApplicationVersionSet(ctx, record.Version); err != nil {
			return nil, err
		}
	}
	r.decision.consumers = consumers.Warning(published, st.clientApps())
	return logs, nil
}

// log writes one line to the unit log. juju-log is the one hook tool whose
// failure does not fail the event: the line goes to stderr as well, which
// Juju copies into the unit log.
func (c *Charm) log(ctx context.Context, level hooktools.Level, msg string) {
	line := c.plan.event + ": " + msg
	if err := c.tools.Log(ctx, level, line); err != nil {
		fmt.Fprintf(c.stderr, "vsphere-integrator: %s: %s (juju-log failed: %v)\n", level, line, err)
	}
}

// checkLog is the one log line about a check: never a secret.
func checkLog(res credentials.Resolved, r *reconciled) string {
	if r.report == nil {
		return fmt.Sprintf("vCenter %s as %s: %s (%s)", res.Data.VsphereIP, res.Data.User, r.decision.record.Reason, res.TLSWhy)
	}
	p := r.report
	line := fmt.Sprintf("vCenter %s (%s %s build %s) verified as %s in %s with %d requests: datacenter %s, datastore %s, folder %s%s; %s",
		res.Data.VsphereIP, p.Product.Name, p.Product.Version, p.Product.Build, res.Data.User,
		p.Elapsed.Round(1e6), p.Requests, p.Datacenter, p.Datastore, p.Folder, poolLog(p.ResourcePool), res.TLSWhy)
	if r.decision.record.Prereq != nil {
		line += "; " + r.decision.record.Prereq.logLine(p)
	}
	return line
}

func poolLog(p string) string {
	if p == "" {
		return ""
	}
	return ", resource pool " + p
}
