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
	rep, v := c.check(ctx, in.resolved)
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
	r, err := c.reconcile(ctx, checkAlways, nil)
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
