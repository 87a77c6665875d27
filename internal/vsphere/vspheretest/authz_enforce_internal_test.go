package vspheretest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/vmware/govmomi/vim25/types"
)

// TestReconfigPrivileges: each kind of change in a ReconfigVM_Task spec
// needs its own VirtualMachine.Config privilege.
func TestReconfigPrivileges(t *testing.T) {
	disk := func(op types.VirtualDeviceConfigSpecOperation, file types.VirtualDeviceConfigSpecFileOperation) types.BaseVirtualDeviceConfigSpec {
		return &types.VirtualDeviceConfigSpec{Operation: op, FileOperation: file, Device: &types.VirtualDisk{}}
	}
	nic := &types.VirtualDeviceConfigSpec{Operation: types.VirtualDeviceConfigSpecOperationAdd, Device: &types.VirtualVmxnet3{}}
	const add, remove, edit = types.VirtualDeviceConfigSpecOperationAdd, types.VirtualDeviceConfigSpecOperationRemove, types.VirtualDeviceConfigSpecOperationEdit
	for _, tc := range []struct {
		name string
		spec types.VirtualMachineConfigSpec
		want []string
	}{
		{"nothing", types.VirtualMachineConfigSpec{}, nil},
		{"attach", types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{disk(add, "")}}, []string{"VirtualMachine.Config.AddExistingDisk"}},
		{"new disk", types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{disk(add, types.VirtualDeviceConfigSpecFileOperationCreate)}}, []string{"VirtualMachine.Config.AddNewDisk"}},
		{"detach", types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{disk(remove, "")}}, []string{"VirtualMachine.Config.RemoveDisk"}},
		{"edit", types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{disk(edit, "")}}, []string{"VirtualMachine.Config.EditDevice"}},
		{"attach with a NIC", types.VirtualMachineConfigSpec{DeviceChange: []types.BaseVirtualDeviceConfigSpec{disk(add, ""), nic}}, []string{"VirtualMachine.Config.AddExistingDisk", "VirtualMachine.Config.AddRemoveDevice"}},
		{"option", types.VirtualMachineConfigSpec{ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: "disk.enableUUID", Value: "TRUE"}}}, []string{"VirtualMachine.Config.AdvancedConfig"}},
		{"sizes and names", types.VirtualMachineConfigSpec{NumCPUs: 2, MemoryMB: 1024, Name: "n", Annotation: "a"}, []string{"VirtualMachine.Config.CPUCount", "VirtualMachine.Config.Memory", "VirtualMachine.Config.Rename", "VirtualMachine.Config.Annotation"}},
		{"anything else", types.VirtualMachineConfigSpec{GuestId: "otherGuest", ChangeVersion: "1"}, []string{"VirtualMachine.Config.Settings"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, reconfigPrivileges(&tc.spec))
		})
	}
}
