package charm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/integration"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// inputs is what every event reads from Juju first.
type inputs struct {
	state    *unitState
	resolved credentials.Resolved
	// resolveErr is why the credentials or options cannot be used.
	resolveErr error
}

// outcome of a reconcile, as far as it decides status and publishing.
type outcome string

const (
	outcomeReady   outcome = "ready"   // verified: publish, active
	outcomeBlocked outcome = "blocked" // the operator must act: keep what consumers have
	outcomeWaiting outcome = "waiting" // vCenter did not answer: publish unverified, retry
)

// reconciled is what one reconcile did, for action results and logs.
type reconciled struct {
	inputs
	verdict result
	checked bool
	report  *vsphere.Report
	// changedKeys are the relation keys written on at least one relation.
	changedKeys []string
	relations   []string
}

// read gathers config, the cloud credential and the unit state, and resolves
// the credentials. A hook-tool failure is returned; a bad credential is
// not an error here but resolveErr.
func (c *Charm) read(ctx context.Context) (inputs, error) {
	cfg, err := c.tools.ConfigGet(ctx)
	if err != nil {
		return inputs{}, err
	}
	// Read on every event: `juju update-credential` fires no hook, so this
	// is how a rotated credential is noticed.
	spec, trustErr := c.tools.CredentialGet(ctx)
	st, err := loadState(ctx, c.tools)
	if err != nil {
		return inputs{}, err
	}
	res, rerr := credentials.Resolve(spec, trustErr, cfg)
	return inputs{state: st, resolved: res, resolveErr: rerr}, nil
}

// reconcile runs the one path every hook takes. rels limits publishing to
// those relations when the inputs did not change (a relation event); nil
// means every clients relation. resync lists the related units again
// instead of trusting the record the relation hooks keep.
func (c *Charm) reconcile(ctx context.Context, policy checkPolicy, rels []string, resync bool) (*reconciled, error) {
	in, err := c.read(ctx)
	if err != nil {
		c.toolFailed(ctx, err)
		return nil, nil
	}
	r := &reconciled{inputs: in}
	st := in.state
	prev := st.check
	if err := c.trackNodes(ctx, st, resync); err != nil {
		c.toolFailed(ctx, err)
		return nil, nil
	}

	var logs []string
	if in.resolveErr != nil {
		r.verdict = result{Outcome: outcomeBlocked, Message: in.resolveErr.Error()}
	} else {
		hash, nodes := in.resolved.Hash(), st.nodes.hash()
		if c.needCheck(policy, prev, hash, nodes) {
			r.checked = true
			r.report, r.verdict = c.check(ctx, in.resolved, st.nodes.list())
			r.verdict.Inputs, r.verdict.Nodes = hash, nodes
			st.setCheck(r.verdict)
			logs = append(logs, c.checkLog(in.resolved, r))
		} else {
			r.verdict = *prev
		}
		if prev == nil || prev.Inputs != hash {
			rels = nil // new values: every relation
		}
	}

	if r.verdict.Outcome != outcomeBlocked {
		values := in.resolved.Data.Encode()
		if err := c.publish(ctx, st, rels, values, r); err != nil {
			c.toolFailed(ctx, err)
			return r, nil
		}
		if len(r.changedKeys) > 0 {
			logs = append(logs, fmt.Sprintf("published %s on %s", strings.Join(r.changedKeys, ", "), strings.Join(r.relations, ", ")))
		}
	}

	if r.checked && r.verdict.Outcome == outcomeReady && r.verdict.Version != "" &&
		(prev == nil || prev.Version != r.verdict.Version || c.hc.Name == "upgrade-charm") {
		if err := c.tools.ApplicationVersionSet(ctx, r.verdict.Version); err != nil {
			c.toolFailed(ctx, err)
			return r, nil
		}
	}
	if len(logs) > 0 {
		// One line per event keeps the log readable and the hook-tool calls
		// few.
		status, _ := statusFor(r.verdict)
		_ = c.tools.Log(ctx, logLevel(status), c.hc.Name+": "+strings.Join(logs, "; "))
	}
	if err := c.setStatus(ctx, st, r.verdict); err != nil {
		c.toolFailed(ctx, err)
		return r, nil
	}
	if err := st.save(ctx, c.tools); err != nil {
		c.toolFailed(ctx, err)
	}
	return r, nil
}

// needCheck decides whether this event opens a vCenter session. Relation
// events with unchanged inputs never do: a unit that joined or left (nodes
// differ) is looked at by the next update-status.
func (c *Charm) needCheck(policy checkPolicy, prev *result, hash, nodes string) bool {
	switch {
	case policy == checkAlways, prev == nil, prev.Inputs != hash:
		return true
	case policy == checkIfStale:
		// Blocked on a privilege is retried like a failed check, so the
		// status clears soon after the admin grants it.
		return prev.Outcome != outcomeReady || prev.Recheck || prev.Nodes != nodes || prev.Prereq.blocked() ||
			c.now().Sub(prev.At) >= recheckAfter
	}
	return false
}

// check runs the vCenter check under its own deadline and turns the result
// into a verdict.
func (c *Charm) check(ctx context.Context, res credentials.Resolved, nodes []vsphere.Node) (*vsphere.Report, result) {
	ctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	t := res.Target()
	t.Nodes = nodes
	rep, err := c.checker.Check(ctx, t)
	v := verdict(res.Data, rep, err, c.checkTimeout)
	v.At = c.now().UTC()
	return rep, v
}

// verdict classifies a check's result. Errors the operator must fix block
// and keep what consumers have; vCenter not answering only waits, since the
// consumers retry on their own.
func verdict(d integration.Data, rep *vsphere.Report, err error, timeout time.Duration) result {
	var (
		login     *vsphere.LoginError
		notFound  *vsphere.NotFoundError
		ambiguous *vsphere.AmbiguousError
		cert      *vsphere.CertificateError
		unreach   *vsphere.UnreachableError
	)
	switch {
	case err == nil:
		return result{Outcome: outcomeReady, Message: "ready", Version: rep.Product.Version, Prereq: summarize(rep, d.User)}
	case errors.As(err, &login):
		return result{Outcome: outcomeBlocked, Message: fmt.Sprintf(
			"vCenter %s rejected login for user '%s': fix password/user (juju config) or the cloud credential (juju update-credential)",
			d.VsphereIP, login.User)}
	case errors.As(err, &notFound):
		return result{Outcome: outcomeBlocked, Message: notFound.Error() + "; fix the " + optionFor(notFound.Kind) + " config"}
	case errors.As(err, &ambiguous):
		return result{Outcome: outcomeBlocked, Message: ambiguous.Error() + "; give the full path in the " + optionFor(ambiguous.Kind) + " config"}
	case errors.As(err, &cert):
		what := "is not trusted"
		if cert.Mismatch {
			what = "does not match the pinned thumbprint"
		}
		return result{Outcome: outcomeBlocked, Message: fmt.Sprintf(
			"vCenter %s certificate %s (SHA-256 %s); if that is your vCenter, pin it: juju config vsphere-integrator thumbprint=%s (or set ca_cert)",
			d.VsphereIP, what, cert.SHA256, cert.SHA256)}
	case errors.As(err, &unreach):
		return result{Outcome: outcomeWaiting, Message: unreach.Error() + "; published unverified, will retry"}
	case errors.Is(err, context.DeadlineExceeded):
		return result{Outcome: outcomeWaiting, Message: fmt.Sprintf(
			"vCenter %s did not answer within %s; published unverified, will retry", d.VsphereIP, timeout)}
	default:
		return result{Outcome: outcomeWaiting, Message: fmt.Sprintf(
			"vCenter %s check failed: %v; published unverified, will retry", d.VsphereIP, err)}
	}
}

// optionFor names the config option that sets an inventory object of kind
// (vsphere.NotFoundError.Kind).
func optionFor(kind string) string {
	if kind == "resource pool" {
		return "respool_path"
	}
	return kind
}

// statusFor is the one place that decides the unit status, from the verdict.
// A verified credential whose user lacks a privilege volumes cannot work
// without is blocked, though published; lesser prerequisite problems are a
// warning on an active status.
func statusFor(v result) (hooktools.Status, string) {
	switch v.Outcome {
	case outcomeReady:
		if v.Prereq.blocked() {
			return hooktools.StatusBlocked, v.Prereq.blockedMessage()
		}
		return hooktools.StatusActive, "ready" + v.Prereq.warnings()
	case outcomeWaiting:
		return hooktools.StatusWaiting, v.Message
	default:
		return hooktools.StatusBlocked, v.Message
	}
}

func (c *Charm) setStatus(ctx context.Context, st *unitState, v result) error {
	s, msg := statusFor(v)
	key := string(s) + "|" + msg
	if key == st.status {
		// Only this charm sets the workload status, so the last one it set
		// is still current.
		return nil
	}
	if err := c.tools.StatusSet(ctx, s, msg); err != nil {
		return err
	}
	st.setStatus(key)
	return nil
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

// checkLog is the one log line about a check: never a secret.
func (c *Charm) checkLog(res credentials.Resolved, r *reconciled) string {
	if r.report == nil {
		return fmt.Sprintf("vCenter %s as %s: %s (%s)", res.Data.VsphereIP, res.Data.User, r.verdict.Message, res.TLSWhy)
	}
	p := r.report
	line := fmt.Sprintf("vCenter %s (%s %s build %s) verified as %s in %s with %d requests: datacenter %s, datastore %s, folder %s%s; %s",
		res.Data.VsphereIP, p.Product.Name, p.Product.Version, p.Product.Build, res.Data.User,
		p.Elapsed.Round(1e6), p.Requests, p.Datacenter, p.Datastore, p.Folder, poolLog(p.ResourcePool), res.TLSWhy)
	if r.verdict.Prereq != nil {
		line += "; " + r.verdict.Prereq.logLine(p)
	}
	return line
}

func poolLog(p string) string {
	if p == "" {
		return ""
	}
	return ", resource pool " + p
}

// publish writes the values on the given relations (all clients relations
// when rels is nil), only the keys whose value differs from what is there.
// What is there comes from unit state when this unit wrote it, else from
// relation-get (a relation the Python charm, or a lost state, left behind).
func (c *Charm) publish(ctx context.Context, st *unitState, rels []string, values map[string]string, r *reconciled) error {
	all := rels == nil
	if all {
		ids, err := c.relationIDs(ctx)
		if err != nil {
			return err
		}
		rels = ids
	}
	want := fingerprints(c.hc.Unit, values)
	changed := map[string]bool{}
	for _, id := range rels {
		have, known := st.relKeys[id]
		switch {
		case known:
		case c.hc.Name == Endpoint+"-relation-created" && id == c.hc.RelationID:
			// A new relation: this unit's databag on it is empty.
			have = keyset{}
		default:
			cur, err := c.tools.RelationGet(ctx, id, c.hc.Unit)
			if errors.Is(err, hooktools.ErrRelationNotFound) {
				continue // going away under us; relation-broken cleans up
			}
			if err != nil {
				return err
			}
			have = fingerprints(c.hc.Unit, cur)
		}
		diff := map[string]string{}
		for k, v := range values {
			if have[k] != want[k] {
				diff[k] = v
				changed[k] = true
			}
		}
		if len(diff) > 0 {
			if err := c.tools.RelationSet(ctx, id, diff); err != nil {
				if errors.Is(err, hooktools.ErrRelationNotFound) {
					continue
				}
				return err
			}
			r.relations = append(r.relations, id)
		}
		if !known || len(diff) > 0 {
			st.setPublished(id, want)
		}
	}
	if all {
		// Records of relations that no longer exist (broken while the unit
		// was down) are dropped so state does not grow.
		live := map[string]bool{}
		for _, id := range rels {
			live[id] = true
		}
		for id := range st.relKeys {
			if !live[id] {
				st.setPublished(id, nil)
			}
		}
	}
	for k := range changed {
		r.changedKeys = append(r.changedKeys, k)
	}
	sort.Strings(r.changedKeys)
	return nil
}

// forgetRelation drops the records of a broken relation: what was
// published there and its units.
func (c *Charm) forgetRelation(ctx context.Context, id string) error {
	st, err := loadState(ctx, c.tools)
	if err != nil {
		c.toolFailed(ctx, err)
		return nil
	}
	if _, ok := st.relKeys[id]; ok {
		st.setPublished(id, nil)
	}
	st.dropNode(id, "")
	if err := st.save(ctx, c.tools); err != nil {
		c.toolFailed(ctx, err)
	}
	return nil
}

// forgetUnit drops a departed unit from the record, so the next
// update-status checks without it. Nothing else changes: our databag stays
// for the remaining units.
func (c *Charm) forgetUnit(ctx context.Context, id, unit string) error {
	if unit == "" {
		return nil
	}
	st, err := loadState(ctx, c.tools)
	if err != nil {
		c.toolFailed(ctx, err)
		return nil
	}
	if st.dropNode(id, unit) {
		if err := st.save(ctx, c.tools); err != nil {
			c.toolFailed(ctx, err)
		}
	}
	return nil
}

// trackNodes keeps the record of related units current. A relation-joined
// or -changed hook reads its remote unit's address, one relation-get; the
// record is listed in full only when asked (upgrade-charm, the
// prerequisite actions) or when there is none yet, so that no event pays a
// relation-list and relation-get per unit.
func (c *Charm) trackNodes(ctx context.Context, st *unitState, resync bool) error {
	if resync || !st.nodesKnown || c.hc.Name == "upgrade-charm" {
		return c.resyncNodes(ctx, st)
	}
	endpoint, event, ok := c.hc.RelationHook()
	if !ok || endpoint != Endpoint || (event != "joined" && event != "changed") || c.hc.RemoteUnit == "" {
		return nil
	}
	addr, err := c.remoteAddress(ctx, c.hc.RelationID, c.hc.RemoteUnit)
	if err != nil {
		return err
	}
	st.setNode(c.hc.RelationID, c.hc.RemoteUnit, addr)
	return nil
}

// resyncNodes lists every related unit and its address.
func (c *Charm) resyncNodes(ctx context.Context, st *unitState) error {
	ids, err := c.relationIDs(ctx)
	if err != nil {
		return err
	}
	ns := nodeSet{}
	for _, id := range ids {
		units, err := c.tools.RelationList(ctx, id)
		if errors.Is(err, hooktools.ErrRelationNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		for _, u := range units {
			addr, err := c.remoteAddress(ctx, id, u)
			if err != nil {
				return err
			}
			if ns[id] == nil {
				ns[id] = map[string]string{}
			}
			ns[id][u] = addr
		}
	}
	st.setNodes(ns)
	return nil
}

// remoteAddress is the address Juju gives a remote unit on a relation:
// ingress-address, else private-address; "" when it has none (yet).
func (c *Charm) remoteAddress(ctx context.Context, id, unit string) (string, error) {
	data, err := c.tools.RelationGet(ctx, id, unit)
	if errors.Is(err, hooktools.ErrRelationNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	for _, k := range []string{"ingress-address", "private-address"} {
		v := strings.TrimSpace(data[k])
		// Juju writes these raw; a charm that re-set one JSON-encoded
		// would leave quotes around it.
		var unquoted string
		if strings.HasPrefix(v, `"`) && json.Unmarshal([]byte(v), &unquoted) == nil {
			v = strings.TrimSpace(unquoted)
		}
		if v != "" {
			return v, nil
		}
	}
	return "", nil
}

// relationIDs lists the clients relations once per event.
func (c *Charm) relationIDs(ctx context.Context) ([]string, error) {
	if c.relIDs != nil {
		return c.relIDs, nil
	}
	ids, err := c.tools.RelationIDs(ctx, Endpoint)
	if err != nil {
		return nil, err
	}
	if ids == nil {
		ids = []string{}
	}
	c.relIDs = ids
	return ids, nil
}

// toolFailed reports a hook tool that failed: Juju's side, not the charm's,
// so the hook still exits 0 and the status says what happened (if
// status-set itself works).
func (c *Charm) toolFailed(ctx context.Context, err error) {
	msg := "cannot talk to Juju: " + err.Error()
	fmt.Fprintf(c.stderr, "vsphere-integrator: %s: %s\n", c.hc.Name, msg)
	_ = c.tools.Log(ctx, hooktools.LevelError, c.hc.Name+": "+msg)
	// Forget the recorded status so the next event sets it again.
	_ = c.tools.StateSet(ctx, map[string]string{stateStatus: ""})
	_ = c.tools.StatusSet(ctx, hooktools.StatusBlocked, msg+"; will retry on the next event")
}
