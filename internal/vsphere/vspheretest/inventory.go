package vspheretest

import (
	"context"
	"fmt"
	"strings"

	"github.com/vmware/govmomi/object"
	"github.com/vmware/govmomi/property"
	"github.com/vmware/govmomi/view"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Ref finds an object for test setup: "/" is the root folder, a name
// without "/" a VM of that name anywhere, anything else an inventory path
// ("/DC0/datastore/LocalDS_0").
func (s *Server) Ref(ctx context.Context, name string) (types.ManagedObjectReference, error) {
	c := s.Client()
	switch {
	case name == "/":
		return c.ServiceContent.RootFolder, nil
	case strings.Contains(name, "/"):
		obj, err := object.NewSearchIndex(c).FindByInventoryPath(ctx, name)
		if err != nil {
			return types.ManagedObjectReference{}, err
		}
		if obj == nil {
			return types.ManagedObjectReference{}, fmt.Errorf("vspheretest: no object at %s", name)
		}
		return obj.Reference(), nil
	}
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	defer func() { _ = v.Destroy(ctx) }()
	refs, err := v.Find(ctx, []string{"VirtualMachine"}, property.Match{"name": name})
	if err != nil {
		return types.ManagedObjectReference{}, err
	}
	if len(refs) != 1 {
		return types.ManagedObjectReference{}, fmt.Errorf("vspheretest: %d VMs named %s", len(refs), name)
	}
	return refs[0], nil
}

// VMNames lists the simulator's VMs, for tests that need a number of them.
func (s *Server) VMNames(ctx context.Context) ([]string, error) {
	c := s.Client()
	v, err := view.NewManager(c).CreateContainerView(ctx, c.ServiceContent.RootFolder, []string{"VirtualMachine"}, true)
	if err != nil {
		return nil, err
	}
	defer func() { _ = v.Destroy(ctx) }()
	var vms []mo.VirtualMachine
	if err := v.Retrieve(ctx, []string{"VirtualMachine"}, []string{"name"}, &vms); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(vms))
	for _, vm := range vms {
		names = append(names, vm.Name)
	}
	return names, nil
}

// SetGuestIP makes a VM's VMware Tools report ip as the guest's address
// (guest.ipAddress, which SearchIndex.FindAllByIp matches, and the first
// NIC's guest.net entry). vm is a name or an inventory path.
func (s *Server) SetGuestIP(ctx context.Context, vm, ip string) error {
	// vcsim applies "SET.<property>" ExtraConfig keys to the VM's
	// properties instead of storing them.
	return s.reconfigure(ctx, vm, "SET.guest.ipAddress", ip)
}

// SetExtraConfig sets one VM advanced option, as `govc vm.change -e` does;
// an empty value removes it.
func (s *Server) SetExtraConfig(ctx context.Context, vm, key, value string) error {
	return s.reconfigure(ctx, vm, key, value)
}

// ExtraConfig reads one VM advanced option; ok is false when it is not set.
func (s *Server) ExtraConfig(ctx context.Context, vm, key string) (value string, ok bool, err error) {
	ref, err := s.Ref(ctx, vm)
	if err != nil {
		return "", false, err
	}
	var m mo.VirtualMachine
	if err := property.DefaultCollector(s.Client()).RetrieveOne(ctx, ref, []string{"config.extraConfig"}, &m); err != nil {
		return "", false, err
	}
	if m.Config == nil {
		return "", false, nil
	}
	for _, b := range m.Config.ExtraConfig {
		if ov := b.GetOptionValue(); ov != nil && ov.Key == key {
			return fmt.Sprint(ov.Value), true, nil
		}
	}
	return "", false, nil
}

func (s *Server) reconfigure(ctx context.Context, vm, key, value string) error {
	ref, err := s.Ref(ctx, vm)
	if err != nil {
		return err
	}
	task, err := object.NewVirtualMachine(s.Client(), ref).Reconfigure(ctx, types.VirtualMachineConfigSpec{
		ExtraConfig: []types.BaseOptionValue{&types.OptionValue{Key: key, Value: value}},
	})
	if err != nil {
		return err
	}
	return task.Wait(ctx)
}
