package charm

import (
	"testing"
)

// BenchmarkHookToolCalls reports the hook-tool calls and vCenter sessions
// each event costs in a steady deployment with three relations (run:
// go test -run '^$' -bench HookToolCalls ./internal/charm). Targets:
// relation-joined with unchanged inputs ≤ 6 calls and 0 sessions;
// config-changed with three relations ≤ 10 calls and 1 session.
func BenchmarkHookToolCalls(b *testing.B) {
	e := newEnv(b)
	e.trust()
	rels := []string{
		e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0"),
		e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0"),
		e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0"),
	}
	e.hook("install")
	folders := []string{"juju-kubernetes", "/DC0/vm/juju-kubernetes"}
	events := []struct {
		name string
		run  func(i int)
	}{
		{"relation-created", func(i int) {
			id := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/9")
			e.hook("clients-relation-created", id)
			b.StopTimer()
			e.juju.RemoveRelation(id)
			e.hook("clients-relation-broken", id)
			b.StartTimer()
		}},
		{"relation-joined", func(int) { e.hook("clients-relation-joined", rels[1], "kubernetes-worker/0") }},
		{"relation-changed", func(int) { e.hook("clients-relation-changed", rels[1], "kubernetes-worker/0") }},
		{"config-changed-unchanged", func(int) { e.hook("config-changed") }},
		{"config-changed-new-folder", func(i int) {
			e.juju.SetConfig(map[string]any{"folder": folders[i%2]})
			e.hook("config-changed")
		}},
		{"update-status", func(int) { e.hook("update-status") }},
	}
	for _, ev := range events {
		b.Run(ev.name, func(b *testing.B) {
			calls, checks := len(e.juju.Calls), e.checks.Load()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ev.run(i)
			}
			b.StopTimer()
			extra := 0
			if ev.name == "relation-created" {
				extra = b.N * 2 // the broken hook's state-get and state-delete, run off the clock
			}
			b.ReportMetric(float64(len(e.juju.Calls)-calls-extra)/float64(b.N), "calls/op")
			b.ReportMetric(float64(e.checks.Load()-checks)/float64(b.N), "sessions/op")
		})
	}
}
