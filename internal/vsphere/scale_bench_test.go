package vsphere

import (
	"context"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmware/govmomi/find"
	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// BenchmarkCheckScale is the check against a large vCenter: inventories of
// 1,000, 2,000 and 4,000 VMs (every one reporting a guest IP, as powered-on
// VMs with VMware Tools do) and 10, 100 and 1,000 nodes among them. Per
// check it reports SOAP requests, bytes received and sent (counted on the
// wire, TLS included, by a proxy in front of vcsim) and wall time.
//
// Two ways of finding the node VMs are measured:
//   - read=inventory is Check as it is: every VM's guest.ipAddress comes
//     with the one inventory read, matched locally;
//   - read=findallbyip reads the inventory without VMs, then asks
//     SearchIndex.FindAllByIp once per node, as docs/vcenter.md describes
//     the lookup; the rest (node VMs, privileges) is Check's own code.
//
// pages=vcsim is vcsim as it is: RetrievePropertiesEx without maxObjects
// returns everything in one page. pages=100 makes vcsim page as vCenter is
// reported to when the client sets no maxObjects, 100 objects a page, and
// keeps doing so although the check asks for larger pages: the worst case
// (ManageIQ/manageiq#8211, vmware/vsphere-automation-sdk-java#217): each
// further page is one ContinueRetrievePropertiesEx; findallbyip runs with
// those pages only (its inventory is under 100 objects, so they matter only
// to the read of 1,000 node VMs). rtt=5ms adds 5 ms to every request, a
// vCenter across a LAN that takes its time, for the 2,000 VM inventory and
// up to 100 nodes (the delay is what turns requests into seconds).
//
// vcsim answers FindAllByIp by scanning every object under its global
// lock, so its time per call grows with the inventory where vCenter's
// index does not: the findallbyip times on vcsim are an upper bound.
//
// A case fails unless every node's VM is found, and found the same by
// both ways: a way that found less could pass for a cheaper one.
//
// Run it with `make bench` (with -benchtime 3x), or
// go test -run '^$' -bench CheckScale -benchtime 3x ./internal/vsphere.
// The VMs are built once, 4,000 in about half a minute on 2 cores (vcsim's
// own Model.Create makes one at a time, each waiting out a 20 ms poll of
// its task, about 40 ms a VM; here 16 at a time, powered off), and each
// size adds to the one before.
func BenchmarkCheckScale(b *testing.B) {
	m := simulator.VPX()
	// 20 hosts (4 standalone, 4 clusters of 4), 8 resource pools; the VMs
	// are added below.
	m.Host, m.Cluster, m.ClusterHost, m.Machine = 4, 4, 4, 1
	m.Autostart = false
	srv := vspheretest.NewServer(b, vspheretest.Options{Model: m})
	pageSize := &atomic.Int32{}
	rtt := &atomic.Int64{}
	policy(srv, pageSize, rtt)
	proxy := startProxy(b, srv.URL.Host)
	inv := &vmInventory{srv: srv}

	for _, vms := range []int{1000, 2000, 4000} {
		b.Run(fmt.Sprintf("vms=%d", vms), func(b *testing.B) {
			inv.grow(b, vms)
			for _, nodes := range []int{10, 100, 1000} {
				tg := Target{
					Server: proxy.addr(), User: srv.User, Password: srv.Password(),
					Datacenter: "DC0", Datastore: "LocalDS_0",
					TLS:   TLS{CAs: []string{srv.CA}},
					Nodes: inv.nodes(nodes),
				}
				pageSize.Store(0)
				rtt.Store(0)
				want := inv.reference(b, tg)
				for _, c := range cases {
					// The delay is for one inventory, and not for 1,000
					// nodes: 1,016 requests take 5 s there, which adds
					// nothing to the arithmetic.
					if c.rtt > 0 && (vms != 2000 || nodes > 100) {
						continue
					}
					b.Run(c.name(nodes), func(b *testing.B) {
						pageSize.Store(c.pages)
						rtt.Store(int64(c.rtt))
						check := Check
						if c.read == "findallbyip" {
							check = checkByIP
						}
						var requests, rx, tx int64
						var rep *Report
						for b.Loop() {
							r0, t0 := proxy.rx.Load(), proxy.tx.Load()
							ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
							var err error
							rep, err = check(ctx, tg)
							cancel()
							if err != nil {
								b.Fatal(err)
							}
							requests += int64(rep.Requests)
							rx += proxy.rx.Load() - r0
							tx += proxy.tx.Load() - t0
						}
						if err := sameNodes(want, rep); err != nil {
							b.Fatal(err)
						}
						n := float64(b.N)
						b.ReportMetric(float64(requests)/n, "requests/check")
						b.ReportMetric(float64(rx)/n, "rx-bytes/check")
						b.ReportMetric(float64(tx)/n, "tx-bytes/check")
						b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/n, "ms/check")
					})
				}
			}
		})
	}
	pageSize.Store(0)
	rtt.Store(0)
}

// scaleCase is one way of checking: how node VMs are found, how vcsim
// pages, and the delay before each request.
type scaleCase struct {
	read  string // inventory, findallbyip
	pages int32  // 0: one page, as vcsim has it
	rtt   time.Duration
}

// cases: FindAllByIp reads an inventory without VMs, under 100 objects
// here, so its pages make no difference but for 1,000 node VMs' read.
var cases = []scaleCase{
	{"inventory", 0, 0}, {"inventory", 100, 0}, {"findallbyip", 100, 0},
	{"inventory", 100, 5 * time.Millisecond}, {"findallbyip", 100, 5 * time.Millisecond},
}

func (c scaleCase) name(nodes int) string {
	pages := "vcsim"
	if c.pages > 0 {
		pages = fmt.Sprint(c.pages)
	}
	name := fmt.Sprintf("nodes=%d/read=%s/pages=%s", nodes, c.read, pages)
	if c.rtt > 0 {
		name += "/rtt=" + c.rtt.String()
	}
	return name
}

// policy chains a handler in front of vspheretest's: a RetrievePropertiesEx
// gets pages of at most pageSize (when not 0), whatever maxObjects it asked
// for, as a vCenter whose own policy pages at 100 would do (the worst
// case: the check asks for maxObjects pages), and every request waits rtt
// first.
func policy(srv *vspheretest.Server, pageSize *atomic.Int32, rtt *atomic.Int64) {
	reg := srv.Model.Service.Context.Map
	prev := reg.Handler
	reg.Handler = func(ctx *simulator.Context, method *simulator.Method) (mo.Reference, types.BaseMethodFault) {
		if req, ok := method.Body.(*types.RetrievePropertiesEx); ok {
			if p := pageSize.Load(); p > 0 && (req.Options.MaxObjects == 0 || req.Options.MaxObjects > p) {
				req.Options.MaxObjects = p
			}
		}
		if d := time.Duration(rtt.Load()); d > 0 {
			time.Sleep(d)
		}
		return prev(ctx, method)
	}
}

// vmInventory is the simulator's VMs, grown on demand; VM i reports
// vmIP(i).
type vmInventory struct {
	srv   *vspheretest.Server
	count int
}

func vmIP(i int) string { return fmt.Sprintf("10.%d.%d.%d", 1+i/65536, i/256%256, i%256) }

// grow creates VMs, 16 at a time spread over the resource pools, until
// there are n, then gives each its guest IP in the simulator's registry
// (a Reconfigure per VM would cost a task each).
func (v *vmInventory) grow(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	c := v.srv.Client()
	if v.count == 0 {
		names, err := v.srv.VMNames(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		v.count = len(names)
	}
	if v.count >= n {
		return
	}
	fd := find.NewFinder(c)
	dc, err := fd.Datacenter(ctx, "DC0")
	if err != nil {
		tb.Fatal(err)
	}
	fd.SetDatacenter(dc)
	folders, err := dc.Folders(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	pools, err := fd.ResourcePoolList(ctx, "*")
	if err != nil {
		tb.Fatal(err)
	}
	work := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				if err := createVM(ctx, folders.VmFolder, pools[i%len(pools)], fmt.Sprintf("node-%05d", i)); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := v.count; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		tb.Fatal(err)
	default:
	}
	v.count = n

	sc := v.srv.Model.Service.Context
	refs := sc.Map.AllReference("VirtualMachine")
	if len(refs) != n {
		tb.Fatalf("%d VMs, want %d", len(refs), n)
	}
	slices.SortFunc(refs, func(a, b mo.Reference) int {
		return strings.Compare(a.(*simulator.VirtualMachine).Name, b.(*simulator.VirtualMachine).Name)
	})
	for i, r := range refs {
		vm := r.(*simulator.VirtualMachine)
		sc.WithLock(vm, func() {
			if vm.Guest == nil {
				vm.Guest = &types.GuestInfo{}
			}
			vm.Guest.IpAddress = vmIP(i)
			vm.Summary.Guest = &types.VirtualMachineGuestSummary{IpAddress: vmIP(i)}
		})
	}
}

func createVM(ctx context.Context, folder *object.Folder, pool *object.ResourcePool, name string) error {
	task, err := folder.CreateVM(ctx, types.VirtualMachineConfigSpec{
		Name:    name,
		GuestId: string(types.VirtualMachineGuestOsIdentifierOtherGuest),
		Files:   &types.VirtualMachineFileInfo{VmPathName: "[LocalDS_0]"},
	}, pool, nil)
	if err != nil {
		return fmt.Errorf("create VM %s: %w", name, err)
	}
	if err := task.Wait(ctx); err != nil {
		return fmt.Errorf("create VM %s: %w", name, err)
	}
	return nil
}

// nodes are the first n VMs as related units.
func (v *vmInventory) nodes(n int) []Node {
	out := make([]Node, n)
	for i := range out {
		out[i] = Node{Name: fmt.Sprintf("kubernetes-worker/%d", i), Address: vmIP(i)}
	}
	return out
}

// reference is what Check finds: both ways must find the same VM for every
// node, and every node's VM, or a way that found less could pass for a
// cheaper one.
func (v *vmInventory) reference(tb testing.TB, tg Target) *Report {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := Check(ctx, tg)
	if err != nil {
		tb.Fatal(err)
	}
	for _, n := range rep.Nodes {
		if !n.Found {
			tb.Fatalf("%s (%s) not found: %s", n.Name, n.Address, n.Why)
		}
	}
	return rep
}

func sameNodes(want, got *Report) error {
	if len(want.Nodes) != len(got.Nodes) {
		return fmt.Errorf("%d nodes reported, want %d", len(got.Nodes), len(want.Nodes))
	}
	for i, w := range want.Nodes {
		if g := got.Nodes[i]; g.Found != w.Found || g.VM != w.VM || g.Host != w.Host || g.UUID != w.UUID {
			return fmt.Errorf("%s: found %v VM %q on %q, want %v %q on %q", w.Name, g.Found, g.VM, g.Host, w.Found, w.VM, w.Host)
		}
	}
	if g, w := got.Privileges, want.Privileges; g.Err != nil || len(g.Checked) != len(w.Checked) {
		return fmt.Errorf("privileges checked on %d objects (%v), want %d", len(g.Checked), g.Err, len(w.Checked))
	}
	return nil
}

// checkByIP is Check with the node VMs found by SearchIndex.FindAllByIp,
// one request per node, instead of by the inventory's guest addresses: the
// inventory read leaves the VMs out (they are traversed, not returned), and
// everything else is Check's own code.
func checkByIP(ctx context.Context, t Target) (*Report, error) {
	var rep *Report
	requests, elapsed, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) error {
		spec := inventorySpec(s.client.ServiceContent.RootFolder, true)
		spec.PropSet = slices.DeleteFunc(spec.PropSet, func(ps types.PropertySpec) bool { return ps.Type == "VirtualMachine" })
		objects, err := s.retrieve(ctx, spec)
		if err != nil {
			return s.fail(ctx, "read inventory", err)
		}
		inv := &inventory{entities: map[types.ManagedObjectReference]*entity{}, vmsByIP: map[string][]types.ManagedObjectReference{}}
		inv.add(objects)
		inv.buildPaths()
		r, err := resolve(inv, s.client.ServiceContent.RootFolder, p)
		if err != nil {
			return err
		}
		asked := map[string]bool{}
		for _, n := range t.Nodes {
			ip, ok := canonicalIP(n.Address)
			if !ok || asked[ip] {
				continue
			}
			asked[ip] = true
			// Raw: the references are what is compared; object.SearchIndex wraps
			// each in an object.
			res, err := methods.FindAllByIp(ctx, s.counter, &types.FindAllByIp{
				This: *s.client.ServiceContent.SearchIndex, Datacenter: &r.datacenter.ref, Ip: ip, VmSearch: true,
			})
			if err != nil {
				return s.fail(ctx, "find VM by IP", err)
			}
			inv.vmsByIP[ip] = res.Returnval
		}
		nodes, err := s.readNodes(ctx, inv, t.Nodes, &r.datastore.ref)
		if err != nil {
			return err
		}
		privileges, err := s.checkPrivileges(ctx, inv, r, nodes)
		if err != nil {
			return err
		}
		rep = &Report{Nodes: nodes, Privileges: privileges}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rep.Requests, rep.Elapsed = requests, elapsed
	return rep, nil
}

// countingProxy forwards loopback TCP connections to the simulator and
// counts the bytes each way: what the charm's host sends and receives per
// check, TLS records and handshakes included.
type countingProxy struct {
	ln     net.Listener
	rx, tx atomic.Int64 // rx: from vCenter to the charm
}

func startProxy(tb testing.TB, upstream string) *countingProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{ln: ln}
	tb.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serve(c, upstream)
		}
	}()
	return p
}

func (p *countingProxy) addr() string { return p.ln.Addr().String() }

func (p *countingProxy) serve(c net.Conn, upstream string) {
	defer c.Close()
	u, err := net.Dial("tcp", upstream)
	if err != nil {
		return
	}
	defer u.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		copyCounting(u, c, &p.tx)
		closeWrite(u)
	}()
	copyCounting(c, u, &p.rx)
	closeWrite(c)
	<-done
}

func copyCounting(dst io.Writer, src io.Reader, n *atomic.Int64) {
	buf := make([]byte, 32<<10)
	for {
		k, err := src.Read(buf)
		if k > 0 {
			n.Add(int64(k))
			if _, werr := dst.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or a closed connection: the copy is done either way
		}
	}
}

func closeWrite(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.CloseWrite()
	}
}
