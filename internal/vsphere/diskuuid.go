package vsphere

import (
	"context"
	"time"

	"github.com/vmware/govmomi/task"
	"github.com/vmware/govmomi/vim25/methods"
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
}

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
// a VM that cannot be changed is reported in its result.
func EnableDiskUUID(ctx context.Context, t Target, dryRun bool) (*DiskUUIDReport, error) {
	var rep *DiskUUIDReport
	requests, elapsed, err := inSession(ctx, t, func(ctx context.Context, s *session, p *prepared) (err error) {
		rep, err = s.enableDiskUUID(ctx, p, dryRun)
		return err
	})
	if err != nil {
		return nil, err
	}
	rep.Requests, rep.Elapsed = requests, elapsed
	return rep, nil
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
	failed := map[types.ManagedObjectReference]error{}
	for _, n := range nodes {
		res := DiskUUIDResult{NodeReport: n}
		// A VM whose configuration could not be read is changed too:
		// setting the option again is harmless.
		res.Change = n.Found && !(n.DiskUUID.Known && n.DiskUUID.Enabled)
		if res.Change && !dryRun {
			if _, done := tasks[n.ref]; !done && failed[n.ref] == nil {
				ref, err := s.setDiskUUID(ctx, n.ref)
				switch {
				case err == nil:
					tasks[n.ref] = ref
				case isFault(err):
					failed[n.ref] = err
				default:
					return nil, s.fail(ctx, "reconfigure "+n.VM, err)
				}
			}
		}
		rep.Nodes = append(rep.Nodes, res)
	}
	if len(tasks) > 0 {
		taskErrs, err := s.waitTasks(ctx, tasks)
		if err != nil {
			return nil, s.fail(ctx, "wait for reconfigure tasks", err)
		}
		for vm, err := range taskErrs {
			failed[vm] = err
		}
	}
	for i := range rep.Nodes {
		rep.Nodes[i].Err = failed[rep.Nodes[i].ref]
	}
	return rep, nil
}

func (s *session) setDiskUUID(ctx context.Context, vm types.ManagedObjectReference) (types.ManagedObjectReference, error) {
	res, err := methods.ReconfigVM_Task(ctx, s.counter, &types.ReconfigVM_Task{
		This: vm,
		Spec: types.VirtualMachineConfigSpec{
			ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: DiskUUIDOption, Value: "TRUE"}},
		},
	})
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	return res.Returnval, nil
}

// waitTasks polls the tasks (VM → task) together, one request per look,
// until each has succeeded or failed, and returns the failures by VM. Only
// a failure to ask is an error.
func (s *session) waitTasks(ctx context.Context, tasks map[types.ManagedObjectReference]types.ManagedObjectReference) (map[types.ManagedObjectReference]error, error) {
	vmOf := map[types.ManagedObjectReference]types.ManagedObjectReference{}
	spec := types.PropertyFilterSpec{PropSet: []types.PropertySpec{{Type: "Task", PathSet: []string{"info.state", "info.error"}}}}
	for vm, t := range tasks {
		vmOf[t] = vm
		spec.ObjectSet = append(spec.ObjectSet, types.ObjectSpec{Obj: t})
	}
	failed := map[types.ManagedObjectReference]error{}
	wait := 50 * time.Millisecond
	for {
		objects, err := s.retrieve(ctx, spec)
		if err != nil {
			return nil, err
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
			case types.TaskInfoStateError:
				if lmf == nil {
					lmf = &types.LocalizedMethodFault{LocalizedMessage: "task failed"}
				}
				if lmf.LocalizedMessage == "" {
					lmf.LocalizedMessage = faultText(*lmf)
				}
				failed[vmOf[oc.Obj]] = task.Error{LocalizedMethodFault: lmf}
			default:
				running++
			}
		}
		if running == 0 {
			return failed, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, taskPoll)
	}
}
