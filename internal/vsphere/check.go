// Package vsphere checks vCenter credentials and settings the way the
// Kubernetes vSphere providers will use them: one session logs in, resolves
// the datacenter, datastore, VM folder and resource pool, reads the product
// version and logs out. Failures come back as typed errors whose text tells a
// vSphere admin what to fix.
package vsphere

import (
	"context"
	"time"

	"github.com/vmware/govmomi/vim25/types"
)

// DefaultTimeout bounds a check whose context has no deadline: a vCenter
// that accepts connections and never answers must not hang a hook.
const DefaultTimeout = 30 * time.Second

// Product is what vCenter, or an ESXi host, says it is.
type Product struct {
	Name    string // "VMware vCenter Server"
	Version string // "8.0.2"
	Build   string
	APIType string // "VirtualCenter", or "HostAgent" for an ESXi host
	// APIVersion tells updates apart where Version does not: "6.7.3" is
	// 6.7 Update 3, whose Version is "6.7.0".
	APIVersion string
}

// Report is the outcome of a successful check.
type Report struct {
	Server  string // host[:port] as configured
	Product Product
	// Resolved inventory paths ("/DC0", "/DC0/datastore/LocalDS_0",
	// "/DC0/vm/k8s", "/DC0/host/C0/Resources"); ResourcePool is "" when the
	// target has none.
	Datacenter, Datastore, Folder, ResourcePool string
	// DatastoreInfo is what vCenter says of the datastore: its URL (what
	// a CSI StorageClass names it by), capacity, free space, state.
	DatastoreInfo DatastoreInfo
	// Nodes has one entry per Target.Nodes, in the same order.
	Nodes []NodeReport
	// DuplicateUUIDs are the found node VMs that share a BIOS UUID.
	DuplicateUUIDs []DuplicateUUID
	// Privileges says which of the privileges the Kubernetes storage
	// providers need the user lacks, and where.
	Privileges PrivilegeReport
	Requests   int // SOAP round trips, logout included
	Elapsed    time.Duration
}

// Check logs in to the target's vCenter, resolves its inventory settings,
// finds the nodes' VMs, checks the user's privileges and logs out, in one
// session, within ctx (DefaultTimeout when ctx has no deadline; the logout
// may take up to a few seconds more, see logoutGrace). Errors are
// *TargetError, *LoginError, *NotFoundError, *AmbiguousError,
// *CertificateError, *UnreachableError, or a wrapped vCenter fault. Nodes not
// found and privileges vCenter cannot check are not errors: the report says
// so. Nor is anything storage needs and lacks (an old hardware version, a
// datastore a node's host does not mount): Report.Findings lists those, with
// how much each matters.
//
// Requests: service content, login, one inventory read (with the
// datastores' summaries and, with nodes, the hosts' releases), one read of
// the matched node VMs and of the datastore's host mounts (none without
// nodes), one privilege query, logout; plus a continuation per further page
// of a large inventory. The count does not grow with the number of nodes.
func Check(ctx context.Context, t Target) (*Report, error) {
	var rep *Report
	requests, elapsed, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) (err error) {
		rep, err = s.check(ctx, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Requests, rep.Elapsed = requests, elapsed
	return rep, nil
}

// inSession prepares t and runs f in one vCenter session, bounded by ctx
// (DefaultTimeout when ctx has no deadline). The logout is deferred so that
// no return path (lookup failure, fault, deadline) leaves a session behind;
// the requests it reports count it too.
func inSession(ctx context.Context, t Target, f func(ctx context.Context, s *session, p *prepared) error) (requests int, elapsed time.Duration, err error) {
	p, err := prepare(t)
	if err != nil {
		return 0, 0, err
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultTimeout)
		defer cancel()
	}
	s, err := openSession(ctx, p)
	if err != nil {
		return 0, 0, err
	}
	defer func() {
		s.close(ctx)
		requests, elapsed = s.requests(), time.Since(s.start)
	}()
	return 0, 0, f(ctx, s, p)
}

// check is Check's work inside the session.
func (s *session) check(ctx context.Context, p *prepared) (*Report, error) {
	t := p.target
	inv, err := s.readInventory(ctx, len(t.Nodes) > 0)
	if err != nil {
		return nil, err
	}
	r, err := resolve(inv, s.client.ServiceContent.RootFolder, p)
	if err != nil {
		return nil, err
	}
	var nodes []NodeReport
	if len(t.Nodes) > 0 {
		if nodes, err = s.readNodes(ctx, inv, t.Nodes, &r.datastore.ref); err != nil {
			return nil, err
		}
	}
	privileges, err := s.checkPrivileges(ctx, inv, r, nodes)
	if err != nil {
		return nil, err
	}
	about := s.client.ServiceContent.About
	rep := &Report{
		Server: p.url.Host,
		Product: Product{
			Name: about.Name, Version: about.Version, Build: about.Build,
			APIType: about.ApiType, APIVersion: about.ApiVersion,
		},
		Datacenter:     r.datacenter.path,
		Datastore:      r.datastore.path,
		Folder:         r.folder.path,
		DatastoreInfo:  datastoreInfo(r.datastore),
		Nodes:          nodes,
		DuplicateUUIDs: duplicateUUIDs(nodes),
		Privileges:     privileges,
	}
	if r.pool != nil {
		rep.ResourcePool = r.pool.path
	}
	p.bound(rep)
	return rep, nil
}

// bound redacts and cuts every text of a report that came from the server
// (docs/vcenter.md, "What the charm accepts from a server"), once the
// lookups, which need the names as they are, are done.
func (p *prepared) bound(rep *Report) {
	text := func(s *string, max int) { *s = p.secrets.Server(*s, max) }
	product := func(pr *Product) {
		for _, f := range []*string{&pr.Name, &pr.Version, &pr.Build, &pr.APIType, &pr.APIVersion} {
			text(f, maxServerText)
		}
	}
	product(&rep.Product)
	for _, f := range []*string{&rep.Datacenter, &rep.Datastore, &rep.Folder, &rep.ResourcePool} {
		text(f, maxPathText)
	}
	ds := &rep.DatastoreInfo
	text(&ds.Name, maxServerText)
	text(&ds.Path, maxPathText)
	for _, f := range []*string{&ds.URL, &ds.Type, &ds.MaintenanceMode} {
		text(f, maxServerText)
	}
	for i := range rep.Nodes {
		n := &rep.Nodes[i]
		text(&n.Why, maxPathText+maxServerText)
		text(&n.VM, maxPathText)
		text(&n.Host, maxPathText)
		for _, f := range []*string{&n.UUID, &n.PowerState, &n.HardwareVersion, &n.DiskUUID.Value, &n.DatastoreMount.AccessMode, &n.DatastoreMount.Reason} {
			text(f, maxServerText)
		}
		product(&n.HostProduct)
	}
	for i := range rep.DuplicateUUIDs {
		d := &rep.DuplicateUUIDs[i]
		text(&d.UUID, maxServerText)
		for j := range d.VMs {
			text(&d.VMs[j], maxPathText)
		}
	}
	pr := &rep.Privileges
	text(&pr.User, maxServerText)
	for i := range pr.Checked {
		text(&pr.Checked[i].Object, maxPathText)
	}
	for i := range pr.Missing {
		text(&pr.Missing[i].Object, maxPathText)
	}
}

// resolved holds the objects a target names; later lookups in the same
// session (node VMs, privileges) start from these.
type resolved struct {
	root                                *entity
	datacenter, datastore, folder, pool *entity
}

func resolve(inv *inventory, rootRef types.ManagedObjectReference, p *prepared) (*resolved, error) {
	t := p.target
	root := inv.get(rootRef)
	if root == nil {
		root = &entity{ref: rootRef}
	}
	r := resolved{root: root}
	var err error

	r.datacenter, err = lookup{
		kind:       "datacenter",
		sec:        p.secrets,
		where:      "vCenter " + p.url.Host,
		base:       root,
		byName:     true,
		candidates: inv.filter(func(e *entity) bool { return e.isA("Datacenter") }),
	}.find(t.Datacenter)
	if err != nil {
		return nil, err
	}
	dc := r.datacenter
	inDC := "datacenter " + dc.relTo(root)
	// folderOf returns a datacenter's special folder, or a stand-in with
	// its usual path when the user may not see the folder itself.
	folderOf := func(ref types.ManagedObjectReference, name string) *entity {
		if e := inv.get(ref); e != nil {
			return e
		}
		return &entity{ref: ref, name: name, path: dc.path + "/" + name}
	}

	dsFolder := folderOf(dc.datastoreFolder, "datastore")
	r.datastore, err = lookup{
		kind:       "datastore",
		sec:        p.secrets,
		where:      inDC,
		base:       dsFolder,
		byName:     true,
		candidates: inv.filter(func(e *entity) bool { return e.isA("Datastore") && e.under(dc) }),
	}.find(t.Datastore)
	if err != nil {
		return nil, err
	}

	vmFolder := folderOf(dc.vmFolder, "vm")
	if t.Folder == "" {
		r.folder = vmFolder
	} else {
		subfolders := inv.filter(func(e *entity) bool { return e.isA("Folder") && e.under(vmFolder) })
		r.folder, err = lookup{
			kind:       "folder",
			sec:        p.secrets,
			where:      "the VM folder of " + inDC,
			base:       vmFolder,
			candidates: append([]*entity{vmFolder}, subfolders...),
			listed:     subfolders,
		}.find(t.Folder)
		if err != nil {
			return nil, err
		}
	}

	if t.ResourcePool != "" {
		hostFolder := folderOf(dc.hostFolder, "host")
		isPool := func(e *entity) bool { return e.isA("ResourcePool", "VirtualApp") && e.under(hostFolder) }
		isCompute := func(e *entity) bool {
			return e.isA("ComputeResource", "ClusterComputeResource") && e.under(hostFolder) && e.rootPool != nil
		}
		pools := inv.filter(isPool)
		// A cluster or host (by name or path) stands for its root pool, as
		// the finder's resource pool listing does.
		found, err := lookup{
			kind:       "resource pool",
			sec:        p.secrets,
			where:      inDC,
			base:       hostFolder,
			byName:     true,
			candidates: append(pools, inv.filter(isCompute)...),
			listed:     pools,
		}.find(t.ResourcePool)
		if err != nil {
			return nil, err
		}
		if found.rootPool != nil {
			if rp := inv.get(*found.rootPool); rp != nil {
				found = rp
			}
		}
		r.pool = found
	}
	return &r, nil
}
