package charm

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/identity"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// Dedicated credentials (docs/dedicated.md): with consumer-credentials set
// to dedicated, the leader makes a vCenter SSO user for each application
// related on clients, keeps its password in an application-owned Juju
// secret and the table of who serves whom in leader settings, and every
// unit publishes each application its own user.
const (
	optMode   = "consumer-credentials"
	optRotate = "rotate-credentials-days"

	modeShared    = "shared"
	modeDedicated = "dedicated"

	// leaderTable is the leader-settings key of the table.
	leaderTable = "dedicated-credentials"
	// retireGrace is how long a replaced user keeps working after its
	// successor is published: time for every consumer to re-render (the
	// CSI driver reloads its secret, vsphere-cloud-provider reapplies on a
	// relation change) before the old login stops working.
	retireGrace = time.Hour
	// dedicateRetry: after vCenter refused to make or grant something, hooks
	// that are not the operator's (relation hooks, update-status) do not try
	// again for this long; config-changed, leader-elected and the actions
	// try at once.
	dedicateRetry = 10 * time.Minute
)

// secretPassword is the one key of a dedicated credential's secret: the
// user is in the table, which is no secret (the hook tools redact every
// value a secret holds from everything they send, leader-set included).
const secretPassword = "password"

// dedicatedConfig is what the two options say.
type dedicatedConfig struct {
	on     bool
	rotate time.Duration // 0: never
}

// modeError is an unusable consumer-credentials or rotate-credentials-days.
type modeError struct{ msg string }

func (e *modeError) Error() string { return e.msg }

// secretsJuju is the first Juju with secrets (docs/dedicated.md).
var secretsJuju = [2]int{3, 1}

// parseMode reads the options. jujuVersion is JUJU_VERSION: dedicated needs
// secrets, which an older agent lacks; an unknown version is let through
// (Juju has set it in every hook since 1.x, so only a test omits it).
func parseMode(cfg map[string]any, jujuVersion string) (dedicatedConfig, error) {
	var dc dedicatedConfig
	mode, _ := cfg[optMode].(string)
	switch strings.TrimSpace(mode) {
	case "", modeShared:
		return dc, nil
	case modeDedicated:
		dc.on = true
	default:
		return dc, &modeError{fmt.Sprintf("%s must be %q or %q; set it to one of them", optMode, modeShared, modeDedicated)}
	}
	days := 30.0
	switch v := cfg[optRotate].(type) {
	case nil:
	case float64:
		days = v
	case int:
		days = float64(v)
	case json.Number:
		f, err := v.Float64()
		if err != nil {
			return dc, &modeError{fmt.Sprintf("%s must be a whole number of days", optRotate)}
		}
		days = f
	default:
		return dc, &modeError{fmt.Sprintf("%s must be a whole number of days", optRotate)}
	}
	// Ten years is past any password policy; it also keeps the product
	// inside a time.Duration.
	if days < 0 || days > 3650 || days != math.Trunc(days) {
		return dc, &modeError{fmt.Sprintf("%s must be a whole number of days from 0 (never) to 3650", optRotate)}
	}
	dc.rotate = time.Duration(days) * 24 * time.Hour
	if v, ok := majorMinor(jujuVersion); ok && (v[0] < secretsJuju[0] || v[0] == secretsJuju[0] && v[1] < secretsJuju[1]) {
		return dc, &modeError{fmt.Sprintf("%s=%s keeps passwords in Juju secrets, which need Juju %d.%d or later (this agent is %s); upgrade the model, or set %s=%s",
			optMode, modeDedicated, secretsJuju[0], secretsJuju[1], jujuVersion, optMode, modeShared)}
	}
	return dc, nil
}

// majorMinor parses "3.6.11" (or "2.9-rc1") into {3, 6}.
func majorMinor(v string) ([2]int, bool) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, false
	}
	maj, err1 := strconv.Atoi(parts[0])
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	mi, err2 := strconv.Atoi(minor)
	return [2]int{maj, mi}, err1 == nil && err2 == nil
}

// table is the leader's record of what it made, in leader settings so that
// every unit publishes the same users and a new leader carries on. It holds
// no password: those are in the secrets it names.
type table struct {
	// Apps is the identity serving each application.
	Apps map[string]*ident `json:"apps,omitempty"`
	// Retiring are identities replaced or no longer published, deleted
	// from vCenter once their time comes.
	Retiring []*ident `json:"retiring,omitempty"`
	// Failed is why vCenter refused the last attempt, for every unit's
	// status and the leader's retry policy.
	Failed *failure `json:"failed,omitempty"`
}

// ident is one dedicated identity.
type ident struct {
	App    string    `json:"app"`
	User   string    `json:"user"`   // name@domain
	Secret string    `json:"secret"` // Juju secret URI holding user and password
	Made   time.Time `json:"made"`
	// Granted is grantKey of what its permissions were last applied for.
	Granted string `json:"granted,omitempty"`
	// Delete is when a retiring identity is deleted.
	Delete time.Time `json:"delete,omitzero"`
}

type failure struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	// Inputs is the check's inputs hash when it failed: new inputs try again.
	Inputs string `json:"inputs"`
}

func (t *table) empty() bool { return len(t.Apps) == 0 && len(t.Retiring) == 0 && t.Failed == nil }

// readTable reads the table from leader settings; a table this version
// cannot read is an empty one (purge-credentials finds what it named).
func (c *Charm) readTable(ctx context.Context) (*table, error) {
	ls, err := c.tools.LeaderGet(ctx)
	if err != nil {
		return nil, err
	}
	t := &table{}
	if raw := ls[leaderTable]; raw != "" {
		if json.Unmarshal([]byte(raw), t) != nil {
			t = &table{}
		}
	}
	if t.Apps == nil {
		t.Apps = map[string]*ident{}
	}
	return t, nil
}

// writeTable writes the table; leader-set takes effect at once, outside the
// hook's transaction (docs/juju-hook-tools.md).
func (c *Charm) writeTable(ctx context.Context, t *table) error {
	v := ""
	if !t.empty() {
		b, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode the dedicated credentials table: %w", err)
		}
		v = string(b)
	}
	return c.tools.LeaderSet(ctx, map[string]string{leaderTable: v})
}

// fingerprint is a keyed hash of the table's published part: who serves
// whom. A unit republishes everywhere when it changes.
func (t *table) fingerprint(key []byte) string {
	m := hmac.New(sha256.New, key)
	for _, app := range slices.Sorted(maps.Keys(t.Apps)) {
		fmt.Fprintf(m, "%s\x00%s\x00%s\x00", app, t.Apps[app].User, t.Apps[app].Secret)
	}
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// dedicatedState is what this event learnt of the dedicated credentials,
// for publishing, the status and the actions.
type dedicatedState struct {
	table *table
	// creds are the users and passwords read from the secrets, by
	// application.
	creds map[string]credential
	// waiting are related applications without an identity yet.
	waiting []string
	// failed is why the leader could not make or grant (this event's, or
	// the table's).
	failed string
	// made, removed name what this event changed in vCenter, for the log.
	made, removed []string
	report        *vsphere.DedicateReport
	// unreachable: vCenter did not answer the leader this time.
	unreachable string
}

type credential struct{ user, password string }

// dedicatedRequest is what an event asks of the leader beyond its plan.
type dedicatedRequest struct {
	// rotateAll replaces every identity now (rotate-credentials).
	rotateAll bool
}

// reconcileDedicated runs the dedicated mode's part of reconcile, after the
// check: the leader brings vCenter and the table in line with the related
// applications, and every unit reads the credentials to publish. With the
// mode off it only retires what an earlier dedicated mode left, on the
// leader.
func (c *Charm) reconcileDedicated(ctx context.Context, p plan, r *reconciled, dc dedicatedConfig, req dedicatedRequest) (*dedicatedState, error) {
	st := r.state
	if !dc.on && st.known == nil {
		return nil, nil
	}
	if p.read == readRecord && dc.on && p.member != relationBroken && st.known != nil && st.known.Apps[p.rel.app] != nil {
		// A relation hook of an application already served: nothing for
		// the leader to do, and the table this unit knows is current.
		ds := &dedicatedState{table: st.known, creds: map[string]credential{}}
		ds.finish(st)
		return ds, nil
	}
	tbl, err := c.readTable(ctx)
	if err != nil {
		return nil, err
	}
	ds := &dedicatedState{table: tbl, creds: map[string]credential{}}
	leader, err := c.tools.IsLeader(ctx)
	if err != nil {
		return nil, err
	}
	if leader {
		if err := c.manage(ctx, p, r, dc, req, ds); err != nil {
			return nil, err
		}
	}
	st.known = ds.table
	if ds.table.empty() {
		st.known = nil
	}
	if !dc.on {
		return nil, nil
	}
	ds.finish(st)
	return ds, nil
}

// finish completes what the status needs.
func (ds *dedicatedState) finish(st *unitState) {
	if ds.table.Failed != nil && ds.failed == "" {
		ds.failed = ds.table.Failed.Reason
	}
	for _, app := range st.clientApps() {
		if _, ok := ds.table.Apps[app]; !ok {
			ds.waiting = append(ds.waiting, app)
		}
	}
}

// credentialFor reads app's credential from its secret, once per event. ok
// is false when there is none yet (or the secret is gone: the leader makes
// a new one).
func (c *Charm) credentialFor(ctx context.Context, ds *dedicatedState, app string) (credential, bool, error) {
	if cr, ok := ds.creds[app]; ok {
		return cr, true, nil
	}
	id := ds.table.Apps[app]
	if id == nil {
		return credential{}, false, nil
	}
	content, err := c.tools.SecretGet(ctx, id.Secret)
	if errors.Is(err, hooktools.ErrSecretNotFound) {
		return credential{}, false, nil
	}
	if err != nil {
		return credential{}, false, err
	}
	cr := credential{user: id.User, password: content[secretPassword]}
	if cr.user == "" || cr.password == "" {
		return credential{}, false, nil
	}
	ds.creds[app] = cr
	return cr, true, nil
}

// valuesFor is what the relation with app gets in dedicated mode: the
// shared data with that application's own user and password; nil when it
// has none yet, so nothing is written there (never the trusted credential).
func (c *Charm) valuesFor(ctx context.Context, ds *dedicatedState, shared relation.Data, app string) (map[string]string, error) {
	cr, ok, err := c.credentialFor(ctx, ds, app)
	if err != nil || !ok {
		return nil, err
	}
	d := shared
	d.User, d.Password = cr.user, cr.password
	return d.Encode(), nil
}

// grantKey identifies what an identity's permissions are applied for: the
// check's inputs (the objects) and the related units (their VMs).
func grantKey(key []byte, rec *checkRecord) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s\x00%s", rec.Inputs, rec.Nodes)
	return hex.EncodeToString(m.Sum(nil)[:8])
}

// manage is the leader's work: decide what to make, grant and delete, do
// it in one vCenter session (none when nothing is to be done), keep the
// passwords in secrets and write the table.
func (c *Charm) manage(ctx context.Context, p plan, r *reconciled, dc dedicatedConfig, req dedicatedRequest, ds *dedicatedState) error {
	tbl, now := ds.table, c.now().UTC()
	rec := r.decision.record
	live := r.state.clientApps()
	changed := false

	retire := func(id *ident, at time.Time) {
		id.Delete = at
		tbl.Retiring = append(tbl.Retiring, id)
		delete(tbl.Apps, id.App)
		changed = true
	}
	// A secret the table names that is gone (a hook that failed after
	// secret-add, whose write Juju dropped) is an identity to replace.
	// Relation hooks leave this to the next other event, so that their
	// cost does not grow with the applications served.
	for _, app := range slices.Sorted(maps.Keys(tbl.Apps)) {
		if p.read != readAll {
			break
		}
		if _, ok, err := c.credentialFor(ctx, ds, app); err != nil {
			return err
		} else if !ok {
			retire(tbl.Apps[app], now)
		}
	}

	var dr vsphere.DedicateRequest
	// made are the identities to make, by user name, with their password.
	type pending struct {
		id       *ident
		password string
	}
	made := map[string]pending{}
	removing := p.removing && len(live) == 0
	switch {
	case removing:
		// The charm is going: everything it made goes with it.
		for _, id := range tbl.Apps {
			retire(id, now)
		}
	case !dc.on:
		for _, id := range tbl.Apps {
			retire(id, now.Add(retireGrace))
		}
	default:
		for _, app := range slices.Sorted(maps.Keys(tbl.Apps)) {
			if !slices.Contains(live, app) {
				retire(tbl.Apps[app], now) // revoked: the relation is gone
			}
		}
	}
	verified := rec != nil && rec.Outcome == outcomeVerified
	if dc.on && !removing && verified {
		grant := grantKey(c.key, rec)
		for _, app := range live {
			id := tbl.Apps[app]
			due := id == nil || req.rotateAll || dc.rotate > 0 && !now.Before(id.Made.Add(dc.rotate))
			if due {
				nu, err := c.newUser(app, now, tbl)
				if err != nil {
					return err
				}
				dr.Make = append(dr.Make, nu)
				made[nu.Name] = pending{id: &ident{App: app, Made: now, Granted: grant}, password: nu.Password}
				continue
			}
			if id.Granted != grant || p.regrant {
				dr.Grant = append(dr.Grant, id.User)
			}
		}
	}
	var due []*ident
	for _, id := range tbl.Retiring {
		if !now.Before(id.Delete) {
			due = append(due, id)
			dr.Remove = append(dr.Remove, id.User)
		}
	}
	dr.RemoveRoles = removing && len(tbl.Retiring) == len(due)

	// Without a check yet the inputs are not known to work: nothing is
	// asked of vCenter.
	work := len(dr.Make)+len(dr.Grant)+len(dr.Remove) > 0 || dr.RemoveRoles
	if work && rec != nil && c.mayTryVCenter(p, tbl, rec) {
		rep, err := c.dedicate(ctx, r, dr)
		ds.report = rep
		var unreach *vsphere.UnreachableError
		if errors.As(err, &unreach) || errors.Is(err, context.DeadlineExceeded) {
			// vCenter not answering is no refusal: what is published stays,
			// and the next event tries again.
			ds.unreachable = err.Error()
			return c.writeTableIf(ctx, tbl, changed)
		}
		if err != nil {
			tbl.Failed = &failure{At: now, Reason: dedicateReason(err), Inputs: rec.Inputs}
			ds.failed = tbl.Failed.Reason
			return c.writeTable(ctx, tbl)
		}
		tbl.Failed = nil
		changed = true
		for _, user := range rep.Made {
			local, _, _ := strings.Cut(user, "@")
			pe, ok := made[local]
			if !ok {
				continue
			}
			id := pe.id
			uri, err := c.tools.SecretAdd(ctx, hooktools.SecretAddArgs{
				Owner: hooktools.SecretOwnerApplication, Label: local,
				Description: "vCenter credential for " + id.App,
				Content:     map[string]string{secretPassword: pe.password},
			})
			if err != nil {
				return err
			}
			id.User, id.Secret = user, uri
			if old := tbl.Apps[id.App]; old != nil {
				retire(old, now.Add(retireGrace))
			}
			tbl.Apps[id.App] = id
			ds.creds[id.App] = credential{user: user, password: pe.password}
			ds.made = append(ds.made, user)
		}
		for _, user := range dr.Grant {
			for _, id := range tbl.Apps {
				if id.User == user {
					id.Granted = grantKey(c.key, rec)
				}
			}
		}
		for _, id := range due {
			if id.Secret != "" {
				if err := c.tools.SecretRemove(ctx, id.Secret); err != nil && !errors.Is(err, hooktools.ErrSecretNotFound) {
					return err
				}
			}
			ds.removed = append(ds.removed, id.User)
		}
		tbl.Retiring = slices.DeleteFunc(tbl.Retiring, func(id *ident) bool { return slices.Contains(due, id) })
	}
	return c.writeTableIf(ctx, tbl, changed)
}

func (c *Charm) writeTableIf(ctx context.Context, t *table, changed bool) error {
	if !changed {
		return nil
	}
	return c.writeTable(ctx, t)
}

// mayTryVCenter: after a refusal, only new inputs, or an event of the
// operator's, or the retry time passing, try again.
func (c *Charm) mayTryVCenter(p plan, tbl *table, rec *checkRecord) bool {
	f := tbl.Failed
	switch {
	case f == nil, rec == nil, f.Inputs != rec.Inputs:
		return true
	case p.check == checkNow || p.check == checkOnEvent:
		return true
	}
	return !c.now().Before(f.At.Add(dedicateRetry))
}

// newUser names and makes the password of app's next identity: a name no
// identity in the table has (a rotation within the second the last one was
// made moves the serial on). The password is registered as a secret before
// anything else sees it.
func (c *Charm) newUser(app string, now time.Time, tbl *table) (vsphere.NewUser, error) {
	password, err := identity.NewPassword(nil)
	if err != nil {
		return vsphere.NewUser{}, err
	}
	c.secrets.Add(password)
	taken := map[string]bool{}
	for _, id := range slices.Concat(slices.Collect(maps.Values(tbl.Apps)), tbl.Retiring) {
		local, _, _ := strings.Cut(id.User, "@")
		taken[local] = true
	}
	name := identity.UserName(c.hc.ModelName, app, now)
	for at := now; taken[name]; {
		at = at.Add(time.Second)
		name = identity.UserName(c.hc.ModelName, app, at)
	}
	return vsphere.NewUser{
		Name:        name,
		Password:    password,
		Description: c.madeBy() + "for application " + app,
	}, nil
}

// integratorApp is this application's name.
func (c *Charm) integratorApp() string {
	app, _, _ := strings.Cut(c.hc.Unit, "/")
	return app
}

// madeBy starts the description of every SSO user this application in
// this model makes.
func (c *Charm) madeBy() string {
	return fmt.Sprintf("vsphere-integrator %s in Juju model %s (%s), ", c.integratorApp(), c.hc.ModelName, c.hc.ModelUUID)
}

// ownedBy reports whether an SSO user's description says this application
// in this model made it: purge deletes nothing else.
func (c *Charm) ownedBy(description string) bool {
	return strings.HasPrefix(description, c.madeBy())
}

// dedicate runs one vCenter session for the request, with the trusted
// credential and the recorded related units.
func (c *Charm) dedicate(ctx context.Context, r *reconciled, dr vsphere.DedicateRequest) (*vsphere.DedicateReport, error) {
	nodes, err := c.eventNodes(ctx, r)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	t := r.resolved.Target()
	t.Nodes = nodes
	return c.vc.Dedicate(ctx, t, dr)
}

// dedicateReason is the status text for a failure to make or grant: the
// missing right and the way back. It never holds a password (vsphere's
// errors do not, and the hook tools redact besides).
func dedicateReason(err error) string {
	return fmt.Sprintf("%s=%s: %v; nothing new is published (grant it, or set %s=%s)",
		optMode, modeDedicated, err, optMode, modeShared)
}

// dedicatedLog is the line an event logs for what it did in vCenter.
func (ds *dedicatedState) log() string {
	if ds == nil || len(ds.made)+len(ds.removed) == 0 {
		return ""
	}
	var parts []string
	if len(ds.made) > 0 {
		parts = append(parts, "made dedicated vCenter users "+strings.Join(ds.made, ", "))
	}
	if len(ds.removed) > 0 {
		parts = append(parts, "deleted "+strings.Join(ds.removed, ", "))
	}
	if rep := ds.report; rep != nil {
		parts = append(parts, fmt.Sprintf("%d vCenter and %d SSO requests", rep.Requests, rep.SSORequests))
	}
	return strings.Join(parts, "; ")
}
