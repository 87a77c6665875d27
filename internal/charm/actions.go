package charm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/cloudconfig"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/storageclass"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// runAction runs the event's action. Whatever goes wrong after it started
// ends in action-fail with the reason; an error is returned (and the action
// exits non-zero) only when even action-fail cannot run.
func (c *Charm) runAction(ctx context.Context) error {
	err := c.plan.run(c, ctx)
	if err == nil {
		return nil
	}
	msg := "cannot talk to Juju: " + err.Error()
	fmt.Fprintf(c.stderr, "vsphere-integrator: %s: %s\n", c.plan.event, msg)
	c.log(ctx, hooktools.LevelError, msg)
	if ferr := c.tools.ActionFail(ctx, msg); ferr != nil {
		return fmt.Errorf("%w (and action-fail failed: %v)", err, ferr)
	}
	return nil
}

// unknownAction is an action actions.yaml has and this binary does not.
func (c *Charm) unknownAction(ctx context.Context) error {
	return c.tools.ActionFail(ctx, "unknown action "+c.plan.event)
}

// actionInputs reads the inputs an action works on. ok is false when the
// action is over: a hook tool failed (err), or the inputs are unusable and
// the action has failed saying why.
func (c *Charm) actionInputs(ctx context.Context) (in inputs, ok bool, err error) {
	if in, err = c.read(ctx, readAll); err != nil {
		return in, false, err
	}
	if in.resolveErr != nil {
		return in, false, c.tools.ActionFail(ctx, in.resolveErr.Error())
	}
	return in, true, nil
}

// verifyAction checks now and publishes nothing.
func (c *Charm) verifyAction(ctx context.Context) error {
	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	nodes, err := c.nodesToCheck(ctx, in.state)
	if err != nil {
		return err
	}
	rep, rec := c.check(ctx, in.resolved, nodes)
	if rec.Outcome != outcomeVerified {
		return c.tools.ActionFail(ctx, rec.Reason)
	}
	return c.tools.ActionSet(ctx, map[string]any{
		"vcenter": map[string]any{
			"address": in.resolved.Data.VsphereIP,
			"product": rep.Product.Name,
			"version": rep.Product.Version,
			"build":   rep.Product.Build,
		},
		"user":          in.resolved.Data.User,
		"datacenter":    rep.Datacenter,
		"datastore":     rep.Datastore,
		"folder":        rep.Folder,
		"resource-pool": rep.ResourcePool,
		"soap-requests": strconv.Itoa(rep.Requests),
		"elapsed":       rep.Elapsed.Round(1e6).String(),
		"tls":           in.resolved.TLSWhy,
	})
}

// refreshAction re-reads trust and config, checks now and republishes.
func (c *Charm) refreshAction(ctx context.Context) error {
	r, err := c.reconcile(ctx, c.plan)
	if err != nil {
		return err
	}
	if r.resolveErr != nil {
		return c.tools.ActionFail(ctx, r.resolveErr.Error())
	}
	if r.decision.record.Outcome == outcomeRejected {
		return c.tools.ActionFail(ctx, r.decision.record.Reason)
	}
	changed := "none"
	if len(r.changedKeys) > 0 {
		changed = strings.Join(r.changedKeys, ", ")
	}
	sources := map[string]any{}
	for k, s := range r.resolved.Sources {
		sources[strings.ReplaceAll(k, "_", "-")] = string(s)
	}
	// The relations the data is on, written to or already current: all of
	// them, which reconcile has listed (no call of its own).
	ids, err := c.relationIDs(ctx, Endpoint)
	if err != nil {
		return err
	}
	on := "none"
	if len(ids) > 0 {
		ids = append([]string(nil), ids...)
		sort.Slice(ids, func(i, j int) bool { return relLess(ids[i], ids[j]) })
		on = strings.Join(ids, ", ")
	}
	status, msg := statusFor(r.decision)
	return c.tools.ActionSet(ctx, map[string]any{
		"status":    string(status) + ": " + msg,
		"changed":   changed,
		"relations": on,
		"sources":   sources,
	})
}

// cloudConfigAction renders what consumers build from this unit's data.
func (c *Charm) cloudConfigAction(ctx context.Context) error {
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return err
	}
	var opts cloudconfig.Options
	f, _ := params["format"].(string)
	if opts.Format, err = cloudconfig.ParseFormat(f); err != nil {
		return c.tools.ActionFail(ctx, err.Error())
	}
	opts.VMUUID, _ = params["vm-uuid"].(string)
	opts.ClusterID, _ = params["cluster-id"].(string)
	opts.ShowPassword, _ = params["show-password"].(bool)

	data, from, err := c.publishedData(ctx)
	if err != nil {
		var why *noDataError
		if errors.As(err, &why) {
			return c.tools.ActionFail(ctx, why.Error())
		}
		return err
	}
	out, err := cloudconfig.Render(data, opts)
	if err != nil {
		return c.tools.ActionFail(ctx, fmt.Sprintf("cannot render %s config: %v", opts.Format, err))
	}
	set := c.tools.ActionSet
	if opts.ShowPassword {
		set = c.tools.ActionSetShown // the one result a user asks to see
	}
	return set(ctx, map[string]any{"config": out, "source": from})
}

type noDataError struct{ why string }

func (e *noDataError) Error() string { return e.why }

// publishedData returns exactly what this unit publishes: its databag on the
// lowest clients relation, decoded as the consumers decode it. With no
// relation yet, what it would publish, if the last check allows publishing.
func (c *Charm) publishedData(ctx context.Context) (relation.Data, string, error) {
	ids, err := c.relationIDs(ctx, Endpoint)
	if err != nil {
		return relation.Data{}, "", err
	}
	if len(ids) > 0 {
		ids = append([]string(nil), ids...)
		sort.Slice(ids, func(i, j int) bool { return relLess(ids[i], ids[j]) })
		raw, err := c.tools.RelationGet(ctx, ids[0], c.hc.Unit)
		if err != nil {
			return relation.Data{}, "", err
		}
		d, err := relation.Decode(relation.Databag(raw))
		if err != nil {
			return relation.Data{}, "", &noDataError{fmt.Sprintf("this unit has not published complete data on %s yet: %v", ids[0], err)}
		}
		return d, "published on " + ids[0], nil
	}
	in, err := c.read(ctx, readAll)
	if err != nil {
		return relation.Data{}, "", err
	}
	if in.resolveErr != nil {
		return relation.Data{}, "", &noDataError{"nothing to render: " + in.resolveErr.Error()}
	}
	if rec := in.state.check; rec != nil && rec.Inputs == in.resolved.Hash(c.key) && rec.Outcome == outcomeRejected {
		return relation.Data{}, "", &noDataError{"nothing to render: " + rec.Reason}
	}
	return consumers.Published(in.resolved.Data), "not related yet: what this unit would publish", nil
}

// checkPrerequisitesAction lists the related units again, checks now as
// config-changed does (so the status and what is published follow) and
// reports per unit its VM and disk.enableUUID, per object the missing
// privileges.
func (c *Charm) checkPrerequisitesAction(ctx context.Context) error {
	r, err := c.reconcile(ctx, c.plan)
	if err != nil {
		return err
	}
	switch {
	case r.resolveErr != nil:
		return c.tools.ActionFail(ctx, r.resolveErr.Error())
	case r.decision.record.Outcome != outcomeVerified:
		return c.tools.ActionFail(ctx, r.decision.record.Reason)
	}
	status, msg := statusFor(r.decision)
	results := prereqResults(r.report)
	results["status"] = string(status) + ": " + msg
	return c.tools.ActionSet(ctx, results)
}

// powerCycleNote is said with every enable-disk-uuid result: a VM reads its
// advanced options only when it powers on.
const powerCycleNote = "disk.enableUUID takes effect only when a VM is next powered on: power cycle each changed VM " +
	"(power off, then on; a reboot from inside the guest is not enough), one Kubernetes node at a time after draining it"

// enableDiskUUIDAction sets disk.enableUUID = TRUE on the VMs of the given
// related units (all of them when none are given) that lack it; dry-run,
// the default, only says what it would change.
func (c *Charm) enableDiskUUIDAction(ctx context.Context) error {
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return err
	}
	dryRun := true
	if v, ok := params["dry-run"].(bool); ok {
		dryRun = v
	}
	asked, err := unitsParam(params["units"])
	if err != nil {
		return c.tools.ActionFail(ctx, err.Error())
	}

	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	st := in.state
	if err := c.resyncNodes(ctx, st, st.recorded); err != nil {
		return err
	}
	related, err := c.nodesToCheck(ctx, st)
	if err != nil {
		return err
	}
	nodes := related
	if len(asked) > 0 {
		byName := map[string]vsphere.Node{}
		var names []string
		for _, n := range related {
			byName[n.Name] = n
			names = append(names, n.Name)
		}
		nodes = nil
		for _, u := range asked {
			n, ok := byName[u]
			if !ok {
				return c.tools.ActionFail(ctx, fmt.Sprintf("%s is not a unit related on %s (related: %s)", u, Endpoint, listOrNone(names)))
			}
			nodes = append(nodes, n)
		}
	}
	if len(nodes) == 0 {
		return c.tools.ActionFail(ctx, "no units are related on "+Endpoint+": no node VMs to change")
	}

	actx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	t := in.resolved.Target()
	t.Nodes = nodes
	rep, verr := c.vc.EnableDiskUUID(actx, t, dryRun)
	if rep == nil {
		// Saved so that the relisted units are not listed again.
		if err := st.save(ctx, c.tools); err != nil {
			return err
		}
		return c.tools.ActionFail(ctx, classify(in.resolved.Data, nil, verr, c.checkTimeout).Reason)
	}

	units := map[string]any{}
	changed, failed, unknown := 0, 0, 0
	for _, n := range rep.Nodes {
		r := map[string]any{"unit": n.Name}
		if n.Found {
			r["vm"] = n.VM
			r["was"] = diskUUIDText(n.DiskUUID)
		}
		switch {
		case !n.Found:
			r["result"] = "skipped: VM not found: " + n.Why
		case !n.Change:
			r["result"] = "already enabled"
		case dryRun:
			changed++
			r["result"] = "would set disk.enableUUID = TRUE"
		case n.Result == vsphere.DiskUUIDFailed:
			failed++
			r["result"] = "failed: " + n.Err.Error()
		case n.Result == vsphere.DiskUUIDChanged:
			changed++
			r["result"] = "set disk.enableUUID = TRUE; takes effect after a power cycle"
		case n.Result == vsphere.DiskUUIDUnknown:
			unknown++
			r["result"] = "unknown: asked, but the run ended before vCenter answered; check-prerequisites tells"
		default:
			r["result"] = "not changed: the run ended before this VM's turn"
		}
		units[actionKey(n.Name)] = r
	}
	if !dryRun && changed+unknown > 0 && st.check != nil {
		// The next update-status checks again instead of repeating the
		// old "lacks disk.enableUUID".
		v := *st.check
		v.Recheck = true
		st.setCheck(v)
	}
	if err := st.save(ctx, c.tools); err != nil {
		return err
	}
	results := map[string]any{
		"dry-run":       strconv.FormatBool(dryRun),
		"units":         units,
		"note":          powerCycleNote,
		"soap-requests": strconv.Itoa(rep.Requests),
	}
	if dryRun {
		results["would-change"] = strconv.Itoa(changed)
	} else {
		results["changed"] = strconv.Itoa(changed)
		results["unknown"] = strconv.Itoa(unknown)
	}
	// One action-set: each is a process whose argv holds every result.
	if err := c.tools.ActionSet(ctx, results); err != nil {
		return err
	}
	switch {
	case verr != nil:
		return c.tools.ActionFail(ctx, fmt.Sprintf("cut short: %s; the results say per VM what was changed", classify(in.resolved.Data, nil, verr, c.checkTimeout).Reason))
	case failed > 0:
		return c.tools.ActionFail(ctx, fmt.Sprintf("%d of %d VMs could not be changed; see the results", failed, changed+failed))
	}
	return nil
}

// unitsParam reads the units parameter, a list of unit names: Juju has
// checked it against actions.yaml before the charm runs.
func unitsParam(v any) ([]string, error) {
	list, ok := v.([]any)
	if v != nil && !ok {
		return nil, fmt.Errorf("units must be a list of unit names, e.g. units='[kubernetes-worker/1]'")
	}
	var out []string
	for _, e := range list {
		u, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("units must be unit names, got %v", e)
		}
		if u = strings.TrimSpace(u); u != "" && !contains(out, u) {
			out = append(out, u)
		}
	}
	return out, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return named(names)
}

// storageClassAction checks now, as verify does, and hands over a
// StorageClass for the verified datastore: for CSI with its URL as vCenter
// reports it, which users otherwise look up by hand.
func (c *Charm) storageClassAction(ctx context.Context) error {
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return err
	}
	provisioner, _ := params["provisioner"].(string)
	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	rep, rec := c.check(ctx, in.resolved, nil)
	if rec.Outcome != outcomeVerified {
		return c.tools.ActionFail(ctx, rec.Reason)
	}
	ds := rep.DatastoreInfo
	if provisioner != storageclass.InTree && ds.URL == "" {
		return c.tools.ActionFail(ctx, fmt.Sprintf("vCenter did not tell the URL of datastore %s (can user '%s' read its summary?): the CSI StorageClass needs it; provisioner=in-tree needs only the name",
			rep.Datastore, in.resolved.Data.User))
	}
	manifest, err := storageclass.Render(storageclass.Params{
		Provisioner:  provisioner,
		Datastore:    ds.Name,
		DatastoreURL: ds.URL,
		Source:       fmt.Sprintf("%s, vCenter %s, datastore %s", c.hc.Unit, in.resolved.Data.VsphereIP, rep.Datastore),
	})
	if err != nil {
		return c.tools.ActionFail(ctx, "cannot make the StorageClass: "+err.Error())
	}
	return c.tools.ActionSet(ctx, map[string]any{"manifest": manifest, "datastore": rep.Datastore, "datastore-url": ds.URL})
}

// testVolumeAction proves that volumes can be made: it creates, reads back
// and deletes a small thin disk where the in-tree provisioner puts them,
// and says how long each step took. It never leaves a disk unnamed: when
// the deletion fails, the result names the disk and how to delete it.
func (c *Charm) testVolumeAction(ctx context.Context) error {
	params, err := c.tools.ActionGet(ctx)
	if err != nil {
		return err
	}
	size := vsphere.DefaultVolumeSizeMiB
	if v, ok := params["size-mib"].(float64); ok {
		size = int(v)
	}
	in, ok, err := c.actionInputs(ctx)
	if !ok {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	rep, verr := c.vc.TestVolume(actx, in.resolved.Target(), size)
	if rep == nil {
		return c.tools.ActionFail(ctx, classify(in.resolved.Data, nil, verr, c.checkTimeout).Reason)
	}
	steps := map[string]any{}
	for i, s := range rep.Steps {
		v := fmt.Sprintf("%s: %.3f s", s.Name, s.Elapsed.Seconds())
		if s.Err != nil {
			v += ": failed: " + s.Err.Error()
		}
		steps[fmt.Sprintf("%d", i+1)] = v
	}
	results := map[string]any{
		"path":          rep.Path,
		"size-mib":      strconv.Itoa(rep.SizeMiB),
		"steps":         steps,
		"soap-requests": strconv.Itoa(rep.Requests),
		"elapsed":       rep.Elapsed.Round(1e6).String(),
	}
	if rep.UUID != "" {
		results["uuid"] = rep.UUID
	}
	if rep.Leftover != nil {
		results["left-behind"] = rep.Leftover.String()
	} else {
		results["left-behind"] = "nothing"
	}
	if err := c.tools.ActionSet(ctx, results); err != nil {
		return err
	}
	if verr != nil {
		msg := verr.Error()
		var missing *vsphere.MissingPrivilegesError
		if !errors.As(verr, &missing) && rep.Leftover == nil {
			msg += "; nothing was left behind"
		}
		return c.tools.ActionFail(ctx, msg)
	}
	return nil
}
