package vsphere_test

import (
	"context"
	"testing"
	"time"

	"github.com/vmware/govmomi/simulator"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere/vspheretest"
)

// BenchmarkTestVolume reports SOAP requests and latency of a volume test,
// against vcsim with no delay and with 50 ms per call. Each run must
// succeed and leave no disk: a test failing early would look cheap.
func BenchmarkTestVolume(b *testing.B) {
	for _, delay := range []int{0, 50} {
		b.Run("delay="+time.Duration(delay*int(time.Millisecond)).String(), func(b *testing.B) {
			m := simulator.VPX()
			m.DelayConfig.Delay = delay
			srv := vspheretest.NewServer(b, vspheretest.Options{Model: m})
			tg := target(srv)
			before := srv.Requests()
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				rep, err := vsphere.TestVolume(ctx, tg, 1)
				cancel()
				if err != nil || rep.Leftover != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(srv.Requests()-before)/float64(b.N), "requests/test")
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/test")
		})
	}
}
