package vsphere_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// BenchmarkCheck reports SOAP requests per check and the latency of a check,
// against vcsim with no delay and with 50 ms added to every call (a
// vCenter across a WAN); the requests count is what the delay multiplies.
// The 10- and 100-node cases add related units whose VMs are found by IP:
// one request more than none, whatever their number, since the VM lookups
// (and their hosts and datastore mounts) are batched.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name   string
		delay  int // ms per SOAP call
		nodes  int // related units whose VMs are looked up
		modify func(*vsphere.Target)
	}{
		{name: "ok/delay=0", modify: func(*vsphere.Target) {}},
		{name: "ok/delay=50ms", delay: 50, modify: func(*vsphere.Target) {}},
		{name: "ok-with-pool/delay=50ms", delay: 50, modify: func(tg *vsphere.Target) { tg.ResourcePool = "DC0_C0/Resources" }},
		{name: "datastore-not-found/delay=50ms", delay: 50, modify: func(tg *vsphere.Target) { tg.Datastore = "ds9" }},
		{name: "ok-10-nodes/delay=0", nodes: 10, modify: func(*vsphere.Target) {}},
		{name: "ok-10-nodes/delay=50ms", delay: 50, nodes: 10, modify: func(*vsphere.Target) {}},
		{name: "ok-100-nodes/delay=0", nodes: 100, modify: func(*vsphere.Target) {}},
		{name: "ok-100-nodes/delay=50ms", delay: 50, nodes: 100, modify: func(*vsphere.Target) {}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m := simulator.VPX()
			m.Machine = max(6, (bc.nodes+1)/2) // per host and cluster: 12 VMs, or one per node
			m.DelayConfig.Delay = bc.delay
			srv := vspheretest.NewServer(b, vspheretest.Options{Model: m})
			tg := target(srv)
			tg.Folder = ""
			if bc.nodes > 0 {
				tg.Nodes = workers(b, srv, bc.nodes)
			}
			bc.modify(&tg)
			// Counted by the server, so failed checks count too.
			before := srv.Requests()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				_, err := vsphere.Check(ctx, tg)
				cancel()
				var nf *vsphere.NotFoundError
				if err != nil && !errors.As(err, &nf) {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(srv.Requests()-before)/float64(b.N), "requests/check")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/check")
		})
	}
}
