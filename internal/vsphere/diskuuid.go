package vsphere

import (
	"context"
	"time"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25/types"
)

// DiskUUIDResult is what EnableDiskUUID did, or would do, for one node.
type DiskUUIDResult struct {
	NodeReport
	// Change is true when the node's VM lacked disk.enableUUID and it was
	// set (or, in a dry run, would be).
	Change bool
	// Err is why setting it failed: the VM was reconfigured in vain, or the
	// reconfiguration was refused (*task.Error or a fault).
	Err error
	// Result is what became of a change that was not a dry run.
	Result DiskUUIDOutcome
}

// DiskUUIDOutcome is what became of one VM's change, so that a run cut
// short still says per VM what it did.
type DiskUUIDOutcome string

const (
	// DiskUUIDNotChanged: nothing was asked of vCenter for this VM (no
	// change needed, a dry run, or the run ended before its turn).
	DiskUUIDNotChanged DiskUUIDOutcome = "not changed"
	// DiskUUIDChanged: vCenter finished the reconfiguration.
	DiskUUIDChanged DiskUUIDOutcome = "changed"
	// DiskUUIDFailed: vCenter refused or failed it (Err says why).
	DiskUUIDFailed DiskUUIDOutcome = "failed"
	// DiskUUIDUnknown: asked, and the run ended before vCenter said how it
	// went; the VM's option tells (check-prerequisites).
	DiskUUIDUnknown DiskUUIDOutcome = "unknown"
)

// DiskUUIDReport is the outcome of EnableDiskUUID.
type DiskUUIDReport struct {
	Server   string
	DryRun   bool
	Nodes    []DiskUUIDResult // one per Target.Nodes, in order
	Requests int              // SOAP round trips, logout included
	Elapsed  time.Duration
}

// taskPoll bounds the wait between two looks at running reconfigure tasks;
// vCenter usually finishes an ExtraConfig change in well under a second.
const taskPoll = time.Second

// EnableDiskUUID finds the target's nodes' VMs as Check does and sets
// disk.enableUUID = TRUE on those that lack it, in one session, waiting for
// the reconfigure tasks. With dryRun it only reports what it would change.
// The option takes effect when a VM is next powered on: a power cycle, not a
// reboot of the guest. Errors are those of Check before the nodes are found;
// a VM that cannot be changed is reported in its result. A run cut short
// after the nodes were found (the deadline, vCenter going away) returns its
// report too, each VM's Result saying what became of it, with the error.
func EnableDiskUUID(ctx context.Context, t Target, dryRun bool) (*DiskUUIDReport, error) {
	var rep *DiskUUIDReport
	requests, elapsed, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) (err error) {
		rep, err = s.enableDiskUUID(ctx, p, dryRun)
		return err
	})
	if rep != nil {
		rep.Requests, rep.Elapsed = requests, elapsed
	}
	return rep, err
}

// enableDiskUUID is EnableDiskUUID's work inside the session.
func (s *session) enableDiskUUID(ctx context.Context, p *prepared, dryRun bool) (*DiskUUIDReport, error) {
	t := p.target
	inv, err := s.readInventory(ctx, true)
	if err != nil {
		return nil, err
	}
	nodes, err := s.readNodes(ctx, inv, t.Nodes, nil)
	if err != nil {
		return nil, err
	}
	rep := &DiskUUIDReport{Server: p.url.Host, DryRun: dryRun}
	// Two units may share a VM (a subordinate and its principal): one
	// reconfiguration serves both.
	tasks := map[types.ManagedObjectReference]types.ManagedObjectReference{}
	outcome := map[types.ManagedObjectReference]DiskUUIDOutcome{}
	failed := map[types.ManagedObjectReference]error{}
	var cut error
	for _, n := range nodes {
		res := DiskUUIDResult{NodeReport: n, Result: DiskUUIDNotChanged}
		// A VM whose configuration could not be read is changed too:
		// setting the option again is harmless.
		res.Change = n.Found && !(n.DiskUUID.Known && n.DiskUUID.Enabled)
		if res.Change && !dryRun && cut == nil {
			if _, asked := outcome[n.ref]; !asked {
				ref, err := s.setDiskUUID(ctx, n.ref)
				switch {
				case err == nil:
					tasks[n.ref] = ref
					outcome[n.ref] = DiskUUIDUnknown
				case isFault(err):
					failed[n.ref] = err
					outcome[n.ref] = DiskUUIDFailed
				default:
					// The request may have reached vCenter: unknown.
					outcome[n.ref] = DiskUUIDUnknown
					cut = s.fail(ctx, "reconfigure "+n.VM, err)
				}
			}
		}
		rep.Nodes = append(rep.Nodes, res)
	}
	if len(tasks) > 0 && cut == nil {
		done, err := s.waitTasks(ctx, tasks)
		for vm, err := range done {
			if err != nil {
				failed[vm], outcome[vm] = err, DiskUUIDFailed
			} else {
				outcome[vm] = DiskUUIDChanged
			}
		}
		if err != nil {
			cut = s.fail(ctx, "wait for reconfigure tasks", err)
		}
	}
	for i := range rep.Nodes {
		n := &rep.Nodes[i]
		n.Err = failed[n.ref]
		if o, ok := outcome[n.ref]; ok && n.Change {
			n.Result = o
		}
	}
	return rep, cut
}

// setDiskUUID asks vCenter to set disk.enableUUID on vm and returns the
// reconfigure task.
func (s *session) setDiskUUID(ctx context.Context, vm types.ManagedObjectReference) (types.ManagedObjectReference, error) {
	task, err := object.NewVirtualMachine(s.client, vm).Reconfigure(ctx, types.VirtualMachineConfigSpec{
		ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: DiskUUIDOption, Value: "TRUE"}},
	})
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return task.Reference(), nil
}

// waitTasks polls the tasks (VM → task) together, one request per look,
// until each has ended, and returns each ended task's VM with its error
// (nil for success). When asking fails, or ctx ends, it returns what had
// ended by then with the error.
//
// Not govmomi's object.Task.Wait, measured against the simulator: it takes 5
// requests for a task the poller sees done in 1 (a property collector and a
// filter created, WaitForUpdatesEx, both destroyed), per task where the
// poller asks about all at once; it destroys them with
// context.Background(), unbounded by any deadline, against a server that
// may never answer; and it panics on a task state or info value the API
// does not define, which a hostile answer can hold (docs/vcenter.md, "What
// the charm accepts from a server"; TestHostileTaskState).
func (s *session) waitTasks(ctx context.Context, tasks map[types.ManagedObjectReference]types.ManagedObjectReference) (map[types.ManagedObjectReference]error, error) {
	vmOf := map[types.ManagedObjectReference]types.ManagedObjectReference{}
	spec := types.PropertyFilterSpec{PropSet: []types.PropertySpec{{Type: "Task", PathSet: []string{"info.state", "info.error"}}}}
	for vm, t := range tasks {
		vmOf[t] = vm
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: t})
	}
	done := map[types.ManagedObjectReference]error{}
	wait := 50 * time.Millisecond
	for {
		objects, err := s.retrieve(ctx, spec)
		if err != nil {
			return done, err
		}
		running := 0
		for _, oc := range objects {
			var state types.TaskInfoState
			var lmf *types.LocalizedMethodFault
			for _, p := range oc.PropSet {
				switch v := p.Val.(type) {
				case types.TaskInfoState:
					state = v
				case types.LocalizedMethodFault:
					lmf = &v
				case *types.LocalizedMethodFault:
					lmf = v
				}
			}
			switch state {
			case types.TaskInfoStateSuccess:
				done[vmOf[oc.Obj]] = nil
			case types.TaskInfoStateError:
				if lmf == nil {
					lmf = &types.LocalizedMethodFault{LocalizedMessage: "task failed"}
				}
				// A copy: the server's message, redacted and cut.
				lmf = &types.LocalizedMethodFault{Fault: lmf.Fault, LocalizedMessage: s.p.secrets.Server(faultText(*lmf), maxServerText)}
				done[vmOf[oc.Obj]] = task.Error{LocalizedMethodFault: lmf}
			default:
				running++
			}
		}
		if running == 0 {
			return done, nil
		}
		select {
		case <-ctx.Done():
			return done, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, taskPoll)
	}
}
