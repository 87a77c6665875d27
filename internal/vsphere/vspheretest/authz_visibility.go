package vspheretest

import (
	"reflect"
	"slices"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// vCenter does not show a user an object the user may not read: the
// property collector and the search index leave out every entity without
// System.Read for the session's user, so a dedicated user cannot read
// another datacenter's datastore. vcsim shows everything to everyone. The
// wrappers here filter vcsim's answers for users other than the trusted
// account.

// installVisibility replaces vcsim's property collector and search index,
// before the server starts. vcsim makes each session's property collector
// as a new value of the registered one's type, so the wrapper embeds
// vcsim's by value, works from its zero value, and finds the authorization
// manager through the registry.
func installVisibility(m *simulator.Model) {
	reg := m.Service.Context.Map
	pc := &propertyCollector{}
	pc.Self = m.ServiceContent.PropertyCollector
	reg.Put(pc)
	si := reg.Get(*m.ServiceContent.SearchIndex).(*simulator.SearchIndex)
	reg.Put(&searchIndex{SearchIndex: si})
}

// viewer decides what one call's session may read; nil reads everything.
type viewer struct {
	m    *authorizationManager
	reg  *simulator.Registry
	user string
	seen map[types.ManagedObjectReference]bool
}

func newViewer(ctx *simulator.Context) *viewer {
	if ctx.Session == nil || ctx.Value(internalCall{}) != nil {
		return nil
	}
	si, ok := ctx.Map.Get(vim25.ServiceInstance).(interface{ ServiceContent() types.ServiceContent })
	if !ok {
		return nil
	}
	ref := si.ServiceContent().AuthorizationManager
	if ref == nil {
		return nil
	}
	m, ok := ctx.Map.Get(*ref).(*authorizationManager)
	if !ok || m.s.trusted(ctx.Session.UserName) {
		return nil
	}
	return &viewer{m: m, reg: ctx.Map, user: ctx.Session.UserName, seen: map[types.ManagedObjectReference]bool{}}
}

// sees reports whether the user may read ref: any object that is not an
// entity (managers, views, tasks), an entity with System.Read.
func (v *viewer) sees(ref types.ManagedObjectReference) bool {
	if v == nil {
		return true
	}
	if ok, done := v.seen[ref]; done {
		return ok
	}
	ok := true
	if _, entity := v.reg.Get(ref).(mo.Entity); entity {
		ok = v.m.effective(v.reg, v.user, ref).has("System.Read")
	}
	v.seen[ref] = ok
	return ok
}

// value hides the references a view's "view" property lists.
func (v *viewer) value(obj types.ManagedObjectReference, name string, val types.AnyType) types.AnyType {
	if name != "view" || !strings.HasSuffix(obj.Type, "View") {
		return val
	}
	if refs, ok := val.(types.ArrayOfManagedObjectReference); ok {
		refs.ManagedObjectReference = slices.DeleteFunc(slices.Clone(refs.ManagedObjectReference), func(r types.ManagedObjectReference) bool { return !v.sees(r) })
		return refs
	}
	return val
}

func (v *viewer) contents(ocs []types.ObjectContent) []types.ObjectContent {
	if v == nil {
		return ocs
	}
	var out []types.ObjectContent
	for _, oc := range ocs {
		if !v.sees(oc.Obj) {
			continue
		}
		for i, p := range oc.PropSet {
			oc.PropSet[i].Val = v.value(oc.Obj, p.Name, p.Val)
		}
		out = append(out, oc)
	}
	return out
}

func (v *viewer) updates(set *types.UpdateSet) {
	if v == nil || set == nil {
		return
	}
	for i := range set.FilterSet {
		fs := &set.FilterSet[i]
		var keep []types.ObjectUpdate
		for _, u := range fs.ObjectSet {
			if !v.sees(u.Obj) {
				continue
			}
			for j, c := range u.ChangeSet {
				u.ChangeSet[j].Val = v.value(u.Obj, c.Name, c.Val)
			}
			keep = append(keep, u)
		}
		fs.ObjectSet = keep
	}
}

// propertyCollector is vcsim's, its answers filtered by newViewer.
type propertyCollector struct {
	simulator.PropertyCollector
}

func (pc *propertyCollector) RetrieveProperties(ctx *simulator.Context, r *types.RetrieveProperties) soap.HasFault {
	res := pc.PropertyCollector.RetrieveProperties(ctx, r)
	if body, ok := res.(*methods.RetrievePropertiesBody); ok && body.Res != nil {
		body.Res.Returnval = newViewer(ctx).contents(body.Res.Returnval)
	}
	return res
}

func (pc *propertyCollector) RetrievePropertiesEx(ctx *simulator.Context, r *types.RetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.RetrievePropertiesEx(ctx, r)
	if body, ok := res.(*methods.RetrievePropertiesExBody); ok && body.Res != nil && body.Res.Returnval != nil {
		body.Res.Returnval.Objects = newViewer(ctx).contents(body.Res.Returnval.Objects)
	}
	return res
}

func (pc *propertyCollector) ContinueRetrievePropertiesEx(ctx *simulator.Context, r *types.ContinueRetrievePropertiesEx) soap.HasFault {
	res := pc.PropertyCollector.ContinueRetrievePropertiesEx(ctx, r)
	if body, ok := res.(*methods.ContinueRetrievePropertiesExBody); ok && body.Res != nil {
		body.Res.Returnval.Objects = newViewer(ctx).contents(body.Res.Returnval.Objects)
	}
	return res
}

func (pc *propertyCollector) WaitForUpdatesEx(ctx *simulator.Context, r *types.WaitForUpdatesEx) soap.HasFault {
	res := pc.PropertyCollector.WaitForUpdatesEx(ctx, r)
	if body, ok := res.(*methods.WaitForUpdatesExBody); ok && body.Res != nil {
		newViewer(ctx).updates(body.Res.Returnval)
	}
	return res
}

func (pc *propertyCollector) WaitForUpdates(ctx *simulator.Context, r *types.WaitForUpdates) soap.HasFault {
	res := pc.PropertyCollector.WaitForUpdates(ctx, r)
	if body, ok := res.(*methods.WaitForUpdatesBody); ok && body.Res != nil {
		newViewer(ctx).updates(&body.Res.Returnval)
	}
	return res
}

// CreatePropertyCollector makes the new collector a wrapper too.
func (pc *propertyCollector) CreatePropertyCollector(ctx *simulator.Context, _ *types.CreatePropertyCollector) soap.HasFault {
	cpc := &propertyCollector{}
	cpc.Self.Type = "PropertyCollector"
	return &methods.CreatePropertyCollectorBody{
		Res: &types.CreatePropertyCollectorResponse{Returnval: ctx.Session.Put(cpc).Reference()},
	}
}

// searchIndex is vcsim's, what it finds filtered by newViewer.
type searchIndex struct {
	*simulator.SearchIndex
}

// hideFound clears from a Find* answer (one reference or a list) what the
// session may not read.
func hideFound(ctx *simulator.Context, res soap.HasFault) soap.HasFault {
	v := newViewer(ctx)
	if v == nil || res.Fault() != nil {
		return res
	}
	r := reflect.ValueOf(res).Elem().FieldByName("Res")
	if !r.IsValid() || r.IsNil() {
		return res
	}
	rv := r.Elem().FieldByName("Returnval")
	switch val := rv.Interface().(type) {
	case *types.ManagedObjectReference:
		if val != nil && !v.sees(*val) {
			rv.Set(reflect.Zero(rv.Type()))
		}
	case []types.ManagedObjectReference:
		rv.Set(reflect.ValueOf(slices.DeleteFunc(slices.Clone(val), func(r types.ManagedObjectReference) bool { return !v.sees(r) })))
	}
	return res
}

func (s *searchIndex) FindByDatastorePath(ctx *simulator.Context, r *types.FindByDatastorePath) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindByDatastorePath(ctx, r))
}

func (s *searchIndex) FindByInventoryPath(ctx *simulator.Context, r *types.FindByInventoryPath) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindByInventoryPath(ctx, r))
}

func (s *searchIndex) FindChild(ctx *simulator.Context, r *types.FindChild) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindChild(ctx, r))
}

func (s *searchIndex) FindByUuid(ctx *simulator.Context, r *types.FindByUuid) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindByUuid(ctx, r))
}

func (s *searchIndex) FindAllByUuid(ctx *simulator.Context, r *types.FindAllByUuid) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindAllByUuid(ctx, r))
}

func (s *searchIndex) FindByDnsName(ctx *simulator.Context, r *types.FindByDnsName) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindByDnsName(ctx, r))
}

func (s *searchIndex) FindAllByDnsName(ctx *simulator.Context, r *types.FindAllByDnsName) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindAllByDnsName(ctx, r))
}

func (s *searchIndex) FindByIp(ctx *simulator.Context, r *types.FindByIp) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindByIp(ctx, r))
}

func (s *searchIndex) FindAllByIp(ctx *simulator.Context, r *types.FindAllByIp) soap.HasFault {
	return hideFound(ctx, s.SearchIndex.FindAllByIp(ctx, r))
}
