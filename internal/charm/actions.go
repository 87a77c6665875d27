package charm

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/cloudconfig"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/integration"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// runAction runs one action. Failures the user can fix are action-fail;
// the hook still exits 0.
func (c *Charm) runAction(ctx context.Context) error {
	var err error
	switch c.hc.ActionName {
	case "verify":
		err = c.verifyAction(ctx)
	case "refresh-credentials":
		err = c.refreshAction(ctx)
	case "cloud-config":
		err = c.cloudConfigAction(ctx)
	case "check-prerequisites":
		err = c.checkPrerequisitesAction(ctx)
	case "enable-disk-uuid":
		err = c.enableDiskUUIDAction(ctx)
	default:
		err = c.tools.ActionFail(ctx, "unknown action "+c.hc.ActionName)
	}
	if err != nil {
		// A hook tool failed: tell the user through whatever still works.
		_ = c.tools.Log(ctx, hooktools.LevelError, c.hc.ActionName+": cannot talk to Juju: "+err.Error())
		_ = c.tools.ActionFail(ctx, "cannot talk to Juju: "+err.Error())
	}
	return nil
}

// verifyAction checks now and publishes nothing.
func (c *Charm) verifyAction(ctx context.Context) error {
	in, err := c.read(ctx)
	if err != nil {
		return err
	}
	if in.resolveErr != nil {
		return c.tools.ActionFail(ctx, in.resolveErr.Error())
	}
	rep, v := c.check(ctx, in.resolved, in.state.nodes.list())
	if v.Outcome != outcomeReady {
		return c.tools.ActionFail(ctx, v.Message)
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
	r, err := c.reconcile(ctx, checkAlways, nil, false)
	if err != nil || r == nil {
		return err
	}
	if r.verdict.Outcome == outcomeBlocked {
		return c.tools.ActionFail(ctx, r.verdict.Message)
	}
	changed := "none"
	if len(r.changedKeys) > 0 {
		changed = strings.Join(r.changedKeys, ", ")
	}
	sources := map[string]any{}
	for k, s := range r.resolved.Sources {
		sources[strings.ReplaceAll(k, "_", "-")] = string(s)
	}
	_, msg := statusFor(r.verdict)
	return c.tools.ActionSet(ctx, map[string]any{
		"status":    msg,
		"changed":   changed,
		"relations": strings.Join(r.relations, ", "),
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
	return c.tools.ActionSet(ctx, map[string]any{"config": out, "source": from})
}

type noDataError struct{ why string }

func (e *noDataError) Error() string { return e.why }

// publishedData returns exactly what this unit publishes: its databag on the
// lowest clients relation, decoded as the consumers decode it. With no
// relation yet, what it would publish, if the last check allows publishing.
func (c *Charm) publishedData(ctx context.Context) (integration.Data, string, error) {
	ids, err := c.tools.RelationIDs(ctx, Endpoint)
	if err != nil {
		return integration.Data{}, "", err
	}
	if len(ids) > 0 {
		sort.Slice(ids, func(i, j int) bool { return relNum(ids[i]) < relNum(ids[j]) })
		raw, err := c.tools.RelationGet(ctx, ids[0], c.hc.Unit)
		if err != nil {
			return integration.Data{}, "", err
		}
		d, err := integration.Decode(integration.Databag(raw))
		if err != nil {
			return integration.Data{}, "", &noDataError{fmt.Sprintf("this unit has not published complete data on %s yet: %v", ids[0], err)}
		}
		return d, "published on " + ids[0], nil
	}
	in, err := c.read(ctx)
	if err != nil {
		return integration.Data{}, "", err
	}
	if in.resolveErr != nil {
		return integration.Data{}, "", &noDataError{"nothing to render: " + in.resolveErr.Error()}
	}
	if in.state.check != nil && in.state.check.Outcome == outcomeBlocked {
		return integration.Data{}, "", &noDataError{"nothing to render: " + in.state.check.Message}
	}
	return in.resolved.Data, "not related yet: what this unit would publish", nil
}

func relNum(id string) int {
	_, n, _ := strings.Cut(id, ":")
	v, err := strconv.Atoi(n)
	if err != nil {
		return int(^uint(0) >> 1)
	}
	return v
}

// checkPrerequisitesAction lists the related units again, checks now as
// config-changed does (so the status and what is published follow) and
// reports per unit its VM and disk.enableUUID, per object the missing
// privileges.
func (c *Charm) checkPrerequisitesAction(ctx context.Context) error {
	r, err := c.reconcile(ctx, checkAlways, nil, true)
	if err != nil || r == nil {
		return err
	}
	if r.verdict.Outcome != outcomeReady || r.report == nil {
		return c.tools.ActionFail(ctx, r.verdict.Message)
	}
	status, msg := statusFor(r.verdict)
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

	in, err := c.read(ctx)
	if err != nil {
		return err
	}
	if in.resolveErr != nil {
		return c.tools.ActionFail(ctx, in.resolveErr.Error())
	}
	st := in.state
	if err := c.resyncNodes(ctx, st); err != nil {
		return err
	}
	related := st.nodes.list()
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
	rep, verr := c.enableDiskUUID(actx, t, dryRun)
	if verr != nil {
		// Saved so that the relisted units are not listed again.
		if err := st.save(ctx, c.tools); err != nil {
			return err
		}
		return c.tools.ActionFail(ctx, verdict(in.resolved.Data, nil, verr, c.checkTimeout).Message)
	}

	units := map[string]any{}
	changed, failed := 0, 0
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
		case n.Err != nil:
			failed++
			r["result"] = "failed: " + n.Err.Error()
		case dryRun:
			changed++
			r["result"] = "would set disk.enableUUID = TRUE"
		default:
			changed++
			r["result"] = "set disk.enableUUID = TRUE; takes effect after a power cycle"
		}
		units[actionKey(n.Name)] = r
	}
	if !dryRun && changed > 0 && st.check != nil {
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
	}
	if err := c.tools.ActionSet(ctx, results); err != nil {
		return err
	}
	if failed > 0 {
		return c.tools.ActionFail(ctx, fmt.Sprintf("%d of %d VMs could not be changed; see the results", failed, changed+failed))
	}
	return nil
}

// unitsParam reads the units parameter: a list of unit names, or one
// string of names separated by commas or spaces (easier to type).
func unitsParam(v any) ([]string, error) {
	var raw []string
	switch x := v.(type) {
	case nil:
	case string:
		raw = strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\t' })
	case []any:
		for _, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("units must be unit names, got %v", e)
			}
			raw = append(raw, s)
		}
	default:
		return nil, fmt.Errorf("units must be a list of unit names")
	}
	var out []string
	for _, u := range raw {
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
