package charm

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/identity"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// onLeader fails the action unless this unit leads: only the leader makes
// or deletes dedicated identities.
func (c *Charm) onLeader(ctx context.Context) (ok bool, err error) {
	leader, err := c.tools.IsLeader(ctx)
	if err != nil || leader {
		return leader, err
	}
	app := c.integratorApp()
	return false, c.tools.ActionFail(ctx, fmt.Sprintf("only the leader makes or deletes dedicated credentials: juju run %s/leader %s", app, c.plan.event))
}

// listCredentialsAction lists the dedicated identities from the table and,
// when vCenter answers, the roles and objects of each user's permissions.
func (c *Charm) listCredentialsAction(ctx context.Context) error {
	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	tbl, err := c.readTable(ctx)
	if err != nil {
		return err
	}
	var perms map[string][]vsphere.Permission
	vcenter := "read"
	if !tbl.empty() {
		tctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
		ids, _, lerr := c.vc.Identities(tctx, in.resolved.Target(), identity.UserPrefix)
		cancel()
		if lerr != nil {
			vcenter = "not read: " + lerr.Error()
		} else {
			perms = map[string][]vsphere.Permission{}
			for _, id := range ids {
				perms[vsphere.PrincipalKey(id.User)] = id.Objects
			}
		}
	}
	rotate := in.mode.rotate
	describe := func(id *ident, current bool) map[string]any {
		m := map[string]any{
			"application": id.App,
			"user":        id.User,
			"made":        id.Made.UTC().Format(time.RFC3339),
		}
		switch {
		case !current:
			m["deleted-after"] = id.Delete.UTC().Format(time.RFC3339)
		case rotate > 0:
			m["replaced-after"] = id.Made.Add(rotate).UTC().Format(time.RFC3339)
		default:
			m["replaced-after"] = "never (" + optRotate + "=0)"
		}
		if perms != nil {
			var roles, objects []string
			for _, p := range perms[vsphere.PrincipalKey(id.User)] {
				if !slices.Contains(roles, p.Role) {
					roles = append(roles, p.Role)
				}
				objects = append(objects, fmt.Sprintf("%s %s (%s)", p.Kind, p.Object, p.Role))
			}
			slices.Sort(roles)
			m["roles"] = listOrNone(roles)
			m["objects"] = listOrNone(objects)
		}
		return m
	}
	current := map[string]any{}
	for _, app := range slices.Sorted(maps.Keys(tbl.Apps)) {
		current[app] = describe(tbl.Apps[app], true)
	}
	retiring := map[string]any{}
	for i, id := range tbl.Retiring {
		retiring[fmt.Sprintf("r%d", i+1)] = describe(id, false)
	}
	res := map[string]any{
		"mode":       modeName(in.mode),
		"identities": len(tbl.Apps),
		"vcenter":    vcenter,
	}
	if len(current) > 0 {
		res["current"] = current
	}
	if len(retiring) > 0 {
		res["retiring"] = retiring
	}
	if tbl.Failed != nil {
		res["failed"] = tbl.Failed.Reason
	}
	return c.tools.ActionSet(ctx, res)
}

func modeName(dc dedicatedConfig) string {
	if dc.on {
		return modeDedicated
	}
	return modeShared
}

// rotateCredentialsAction replaces every dedicated identity now: the one
// reconcile, with every identity due.
func (c *Charm) rotateCredentialsAction(ctx context.Context) error {
	if ok, err := c.onLeader(ctx); !ok {
		return err
	}
	c.request.rotateAll = true
	r, err := c.reconcile(ctx, c.plan)
	if err != nil {
		return err
	}
	switch {
	case r.resolveErr != nil:
		return c.tools.ActionFail(ctx, r.resolveErr.Error())
	case !r.mode.on:
		return c.tools.ActionFail(ctx, fmt.Sprintf("%s is %s: there is no dedicated credential to rotate", optMode, modeShared))
	case r.decision.record.Outcome != outcomeVerified:
		return c.tools.ActionFail(ctx, "the trusted credential is not verified, nothing was rotated: "+r.decision.record.Reason)
	case r.dedicated == nil:
		return c.tools.ActionFail(ctx, "nothing was rotated")
	case r.dedicated.failed != "":
		return c.tools.ActionFail(ctx, r.dedicated.failed)
	case r.dedicated.unreachable != "":
		return c.tools.ActionFail(ctx, "vCenter did not answer, nothing was rotated: "+r.dedicated.unreachable)
	}
	ds := r.dedicated
	return c.tools.ActionSet(ctx, map[string]any{
		"made":          listOrNone(ds.made),
		"deleted-after": c.now().Add(retireGrace).UTC().Format(time.RFC3339),
		"retiring":      listOrNone(retiringUsers(ds.table)),
	})
}

func retiringUsers(t *table) []string {
	var out []string
	for _, id := range t.Retiring {
		out = append(out, id.User)
	}
	return out
}

// purgeCredentialsAction deletes now what no relation publishes: the
// retiring identities and any user this application made that the table
// no longer names (a hook that failed between making and recording), and
// the roles once no identity is left.
func (c *Charm) purgeCredentialsAction(ctx context.Context) error {
	if ok, err := c.onLeader(ctx); !ok {
		return err
	}
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return err
	}
	dryRun, _ := params["dry-run"].(bool)
	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	tbl, err := c.readTable(ctx)
	if err != nil {
		return err
	}
	ctx2, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	t := in.resolved.Target()
	ids, _, err := c.vc.Identities(ctx2, t, identity.UserPrefix)
	if err != nil {
		return c.tools.ActionFail(ctx, "cannot list the users in vCenter: "+err.Error())
	}
	published := map[string]bool{}
	for _, id := range tbl.Apps {
		published[vsphere.PrincipalKey(id.User)] = true
	}
	var doomed []string
	for _, id := range ids {
		if c.ownedBy(id.Description) && !published[vsphere.PrincipalKey(id.User)] {
			doomed = append(doomed, id.User)
		}
	}
	slices.Sort(doomed)
	removeRoles := len(tbl.Apps) == 0
	if dryRun {
		res := map[string]any{"dry-run": true, "would-delete": listOrNone(doomed)}
		if removeRoles {
			res["roles"] = "would delete the " + vsphere.RolePrefix + "* roles no other user needs"
		}
		return c.tools.ActionSet(ctx, res)
	}
	if len(doomed) == 0 && !removeRoles {
		return c.tools.ActionSet(ctx, map[string]any{"deleted": "none"})
	}
	rep, err := c.vc.Dedicate(ctx2, t, vsphere.DedicateRequest{Remove: doomed, RemoveRoles: removeRoles})
	if err != nil {
		return c.tools.ActionFail(ctx, "purge failed: "+err.Error())
	}
	// The retiring identities purged no longer wait; their secrets go.
	gone := map[string]bool{}
	for _, u := range rep.Removed {
		gone[vsphere.PrincipalKey(u)] = true
	}
	kept := tbl.Retiring[:0]
	for _, id := range tbl.Retiring {
		if !gone[vsphere.PrincipalKey(id.User)] {
			kept = append(kept, id)
			continue
		}
		if id.Secret != "" {
			if err := c.tools.SecretRemove(ctx, id.Secret); err != nil && !errors.Is(err, hooktools.ErrSecretNotFound) {
				return err
			}
		}
	}
	tbl.Retiring = kept
	if err := c.writeTable(ctx, tbl); err != nil {
		return err
	}
	res := map[string]any{"deleted": listOrNone(rep.Removed)}
	if removeRoles {
		res["roles-kept"] = listOrNone(rep.RolesKept)
	}
	res["requests"] = fmt.Sprintf("%d vCenter, %d SSO", rep.Requests, rep.SSORequests)
	return c.tools.ActionSet(ctx, res)
}
