package charm

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkHookToolCalls reports the hook-tool calls and vCenter sessions
// each event costs in a steady deployment with three relations, whose units'
// VMs the simulator finds by IP (run: go test -run '^$' -bench
// HookToolCalls ./internal/charm). Targets: every relation hook with
// unchanged inputs ≤ 6 calls and 0 sessions; config-changed with three
// relations ≤ 11 calls and 1 session (config, credential and state reads,
// the relation list, our own address, a relation-set per relation, the log
// line, the status, which is set on every event since Juju sends it outside
// the hook transaction, and the state write). A unit joining costs no
// session until the next update-status, which checks once.
func BenchmarkHookToolCalls(b *testing.B) {
	e := newEnv(b)
	e.trust()
	vms := e.vmNames()
	rels := []string{
		e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0"),
		e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0"),
		e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0"),
	}
	e.place(rels[0], "kubernetes-control-plane/0", vms[0], "10.0.0.10", "TRUE")
	e.place(rels[1], "kubernetes-worker/0", vms[1], "10.0.0.11", "TRUE")
	e.place(rels[2], "vsphere-cloud-provider/0", "", "10.0.0.10", "")
	e.hook("install")
	folders := []string{"juju-kubernetes", "/DC0/vm/juju-kubernetes"}
	// joinWorker relates one more worker unit whose address no VM reports.
	joined := 0
	joinWorker := func() {
		joined++
		u := fmt.Sprintf("kubernetes-worker/%d", joined)
		e.juju.JoinUnit(rels[1], u)
		e.juju.SetRemoteData(rels[1], u, map[string]string{"ingress-address": fmt.Sprintf("10.1.%d.%d", joined/250, joined%250+1)})
		e.hook("clients-relation-joined", rels[1], u)
	}
	var created string // the relation relation-created made, broken after it
	events := []struct {
		name string
		// off runs before each event and after runs after it, neither timed
		// nor counted.
		off, after func(i int)
		run        func(i int)
	}{
		{name: "relation-created", run: func(i int) {
			created = e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/9")
			e.hook("clients-relation-created", created)
		}, after: func(int) {
			// As Juju ends a relation: broken while it still exists, then gone.
			e.juju.BreakRelation(created)
			e.hook("clients-relation-broken", created)
			e.juju.RemoveRelation(created)
		}},
		{name: "relation-joined", run: func(int) { e.hook("clients-relation-joined", rels[1], "kubernetes-worker/0") }},
		{name: "relation-changed", run: func(int) { e.hook("clients-relation-changed", rels[1], "kubernetes-worker/0") }},
		{name: "relation-joined-new-unit", run: func(int) { joinWorker() }},
		// Events are seconds apart, so each check's record differs from
		// the last and is written, as in a deployment (save writes only
		// what differs).
		{name: "config-changed-unchanged", off: func(int) { e.now = e.now.Add(time.Second) }, run: func(int) { e.hook("config-changed") }},
		{name: "config-changed-new-folder", off: func(int) { e.now = e.now.Add(time.Second) }, run: func(i int) {
			e.juju.SetConfig(map[string]any{"folder": folders[i%2]})
			e.hook("config-changed")
		}},
		{name: "update-status", run: func(int) { e.hook("update-status") }},
		{name: "update-status-after-join", off: func(int) { joinWorker() }, run: func(int) { e.hook("update-status") }},
	}
	// The secret audit rescans every call recorded; run inside the timer it
	// would grow with the iterations and be timed with the hook.
	e.auditLater = true
	for _, ev := range events {
		b.Run(ev.name, func(b *testing.B) {
			calls, checks := 0, int32(0)
			for i := 0; b.Loop(); i++ {
				if ev.off != nil {
					b.StopTimer()
					ev.off(i)
					b.StartTimer()
				}
				mark, c := len(e.juju.Calls), e.checks.Load()
				ev.run(i)
				calls += len(e.juju.Calls) - mark
				checks += e.checks.Load() - c
				b.StopTimer()
				if ev.after != nil {
					ev.after(i)
				}
				e.auditAndForget()
				b.StartTimer()
			}
			b.ReportMetric(float64(calls)/float64(b.N), "calls/event")
			b.ReportMetric(float64(checks)/float64(b.N), "sessions/event")
		})
	}
}

// auditAndForget checks what the events since the last call showed for
// secrets, then drops those calls, logs and statuses, so the next audit
// looks at the next event only (and the fake's record does not grow with
// the iterations).
func (e *env) auditAndForget() {
	e.t.Helper()
	e.assertNoSecretsLeaked()
	e.juju.Calls, e.juju.Logs, e.juju.StatusHistory = nil, nil, nil
}
