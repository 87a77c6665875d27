package vspheretest

import (
	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25/methods"
	"github.com/vmware/govmomi/vim25/soap"
	"github.com/vmware/govmomi/vim25/types"
)

// virtualDiskManager is vcsim's VirtualDiskManager with failing tasks. A
// fault rule (FaultMethod) fails the call itself; a vCenter more often
// accepts the call and fails the task it started (a datastore that refuses
// the file, a disk locked by a host), and a client must handle both.
type virtualDiskManager struct {
	*simulator.VirtualDiskManager
	s *Server
}

// installDiskManager replaces vcsim's VirtualDiskManager under its own
// reference, before the server starts, as installAuthorization does.
func (s *Server) installDiskManager(m *simulator.Model) {
	reg := m.Service.Context.Map
	orig := reg.Get(*m.ServiceContent.VirtualDiskManager).(*simulator.VirtualDiskManager)
	reg.Put(&virtualDiskManager{VirtualDiskManager: orig, s: s})
}

// FailDiskTask makes the next n calls of method (CreateVirtualDisk_Task or
// DeleteVirtualDisk_Task) start a task that fails with f and does nothing.
func (s *Server) FailDiskTask(method string, f types.BaseMethodFault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taskFaults == nil {
		s.taskFaults = map[string][]types.BaseMethodFault{}
	}
	for range n {
		s.taskFaults[method] = append(s.taskFaults[method], f)
	}
}

// taskFault takes the next fault armed for method, or nil.
func (s *Server) taskFault(method string) types.BaseMethodFault {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.taskFaults[method]
	if len(q) == 0 {
		return nil
	}
	s.taskFaults[method] = q[1:]
	return q[0]
}

func (m *virtualDiskManager) failed(ctx *simulator.Context, name string, f types.BaseMethodFault) types.ManagedObjectReference {
	task := simulator.CreateTask(m, name, func(*simulator.Task) (types.AnyType, types.BaseMethodFault) { return nil, f })
	return task.Run(ctx)
}

func (m *virtualDiskManager) CreateVirtualDiskTask(ctx *simulator.Context, req *types.CreateVirtualDisk_Task) soap.HasFault {
	if f := m.s.taskFault("CreateVirtualDisk_Task"); f != nil {
		return &methods.CreateVirtualDisk_TaskBody{Res: &types.CreateVirtualDisk_TaskResponse{Returnval: m.failed(ctx, "createVirtualDisk", f)}}
	}
	return m.VirtualDiskManager.CreateVirtualDiskTask(ctx, req)
}

func (m *virtualDiskManager) DeleteVirtualDiskTask(ctx *simulator.Context, req *types.DeleteVirtualDisk_Task) soap.HasFault {
	if f := m.s.taskFault("DeleteVirtualDisk_Task"); f != nil {
		return &methods.DeleteVirtualDisk_TaskBody{Res: &types.DeleteVirtualDisk_TaskResponse{Returnval: m.failed(ctx, "deleteVirtualDisk", f)}}
	}
	return m.VirtualDiskManager.DeleteVirtualDiskTask(ctx, req)
}
