package charm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/identity"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
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
	// dedicated is the dedicated mode's part; nil in shared mode.
	dedicated *dedicatedState
	// nodes are the related units a check or Dedicate looks at, once
	// eventNodes has read them (nodesRead).
	nodes     []vsphere.Node
	nodesRead bool
}

// eventNodes is nodesToCheck, read once per event: a check and the
// dedicated identities' grant in the same event look at the same units.
func (c *Charm) eventNodes(ctx context.Context, r *reconciled) ([]vsphere.Node, error) {
	if r.nodesRead {
		return r.nodes, nil
	}
	if err := r.state.loadNodes(ctx, c.tools); err != nil {
		return nil, err
	}
	nodes, err := c.nodesToCheck(ctx, r.state)
	if err != nil {
		return nil, err
	}
	r.nodes, r.nodesRead = nodes, true
	return nodes, nil
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
		nodes, err := c.eventNodes(ctx, r)
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
	ds, err := c.reconcileDedicated(ctx, p, r, in.mode, c.request)
	if err != nil {
		return nil, err
	}
	r.dedicated, r.decision.dedicated = ds, ds
	if line := ds.log(); line != "" {
		logs = append(logs, line)
	}
	valuesFor, table := c.sharedValues(published), ""
	if ds != nil {
		table = ds.table.fingerprint(c.key)
		valuesFor = func(id string) (map[string]string, error) {
			if _, known := st.relKeys[id]; known && where == publishThisRelation && !p.fresh {
				// Neither the inputs nor who serves whom changed (either
				// would publish everywhere): what this unit wrote there
				// stands, and its password need not be read.
				return nil, nil
			}
			app, err := c.appOf(ctx, st, id)
			if err != nil || app == "" {
				return nil, err
			}
			return c.valuesFor(ctx, ds, published, app)
		}
	}
	if table != st.table {
		// Other users serve the applications now, or the shared
		// credential is back: every relation is written again.
		where = publishAll
	}
	record := r.decision.record
	if record.Outcome != outcomeRejected {
		if r.changedKeys, r.relations, err = c.publish(ctx, st, p, where, valuesFor); err != nil {
			return nil, err
		}
		st.table = table
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
	if ds != nil {
		// Each application gets a generated user and password, which hold
		// nothing a consumer cannot carry (internal/identity); what is
		// left to warn of is the rest of the data.
		published.User, published.Password = generatedSample.user, generatedSample.password
	}
	r.decision.consumers = consumers.Warning(published, st.clientApps())
	return logs, nil
}

// generatedSample stands for any dedicated credential in the consumer
// warning: of the form identity makes.
var generatedSample = credential{user: identity.UserPrefix + "model-app-1@vsphere.local", password: "Aa1!Aa1!Aa1!"}

// sharedValues is what every relation gets in shared mode.
func (c *Charm) sharedValues(d relation.Data) func(string) (map[string]string, error) {
	enc := d.Encode()
	return func(string) (map[string]string, error) { return enc, nil }
}

// appOf is the application on the other side of a clients relation: as
// recorded by its relation hooks, else from its units' names.
func (c *Charm) appOf(ctx context.Context, st *unitState, relID string) (string, error) {
	if app := st.apps[relID]; app != "" {
		return app, nil
	}
	units, err := c.tools.RelationList(ctx, relID)
	if errors.Is(err, hooktools.ErrRelationNotFound) || err == nil && len(units) == 0 {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	app, _, _ := strings.Cut(units[0], "/")
	st.setApp(relID, app)
	return app, nil
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
