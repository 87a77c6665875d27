package vsphere_test

import (
	"context"
	"errors"
	"fmt"
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
// (and their hosts and datastore mounts) are batched. A case fails on any
// error but the one it expects, so that a check failing early (and cheaply)
// cannot pass for a fast one.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name   string
		delay  int // ms per SOAP call
		nodes  int // related units whose VMs are looked up
		modify func(*vsphere.Target)
		// notFound is what the check must fail to find; "" when it must
		// succeed.
		notFound string
	}{
		{name: "ok/delay=0", modify: func(*vsphere.Target) {}},
		{name: "ok/delay=50ms", delay: 50, modify: func(*vsphere.Target) {}},
		{name: "ok-with-pool/delay=50ms", delay: 50, modify: func(tg *vsphere.Target) { tg.ResourcePool = "DC0_C0/Resources" }},
		{name: "datastore-not-found/delay=50ms", delay: 50, modify: func(tg *vsphere.Target) { tg.Datastore = "ds9" }, notFound: "datastore"},
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
				if err := unexpected(err, bc.notFound); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(srv.Requests()-before)/float64(b.N), "requests/check")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/check")
		})
	}
}

// unexpected is nil when err is what a benchmark case expects: no error
// when notFound is "", else a NotFoundError for that kind of object.
func unexpected(err error, notFound string) error {
	var nf *vsphere.NotFoundError
	switch {
	case notFound == "" && err == nil:
		return nil
	case notFound == "":
		return fmt.Errorf("check failed: %w", err)
	case errors.As(err, &nf) && nf.Kind == notFound:
		return nil
	default:
		return fmt.Errorf("want %s not found, got %v", notFound, err)
	}
}

// TestBenchmarkExpectations: BenchmarkCheck's cases fail on an error they
// did not expect, and on an expected one that did not come.
func TestBenchmarkExpectations(t *testing.T) {
	ds := &vsphere.NotFoundError{Kind: "datastore", Name: "ds9"}
	tests := []struct {
		name     string
		err      error
		notFound string
		ok       bool
	}{
		{name: "success expected", ok: true},
		{name: "not found where success expected", err: ds},
		{name: "other failure where success expected", err: errors.New("login refused")},
		{name: "the expected not found", err: fmt.Errorf("check: %w", ds), notFound: "datastore", ok: true},
		{name: "another kind not found", err: &vsphere.NotFoundError{Kind: "folder"}, notFound: "datastore"},
		{name: "success where not found expected", notFound: "datastore"},
		{name: "other failure where not found expected", err: errors.New("timeout"), notFound: "datastore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := unexpected(tt.err, tt.notFound); (err == nil) != tt.ok {
				t.Errorf("unexpected(%v, %q) = %v, want ok=%v", tt.err, tt.notFound, err, tt.ok)
			}
		})
	}
}
