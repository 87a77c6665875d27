package vspheretest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vmware/govmomi/simulator"
	"github.com/vmware/govmomi/vim25"
	"github.com/vmware/govmomi/vim25/mo"
	"github.com/vmware/govmomi/vim25/types"
)

// Setters for the properties storage checks read and no vSphere API call
// sets the way a real inventory has them (a VM's hardware version, a
// datastore's accessibility, a host's release). Each changes the object in
// the simulator's registry under the simulator's lock for it, so a
// concurrent property read sees the old value or the new one.

// update runs f on the simulator object at name (see Ref) under its lock.
func (s *Server) update(ctx context.Context, name string, f func(obj any) error) error {
	ref, err := s.Ref(ctx, name)
	if err != nil {
		return err
	}
	obj := s.Model.Service.Context.Map.Get(ref)
	if obj == nil {
		return fmt.Errorf("vspheretest: %s is not in the registry", name)
	}
	s.Model.Service.Context.WithLock(ref, func() { err = f(obj) })
	return err
}

// SetHardwareVersion sets a VM's config.version ("vmx-13"); vcsim creates
// every VM as esx.HardwareVersion.
func (s *Server) SetHardwareVersion(ctx context.Context, vm, version string) error {
	return s.update(ctx, vm, func(obj any) error {
		v, ok := obj.(*simulator.VirtualMachine)
		if !ok || v.Config == nil {
			return fmt.Errorf("vspheretest: %s is not a VM with a config", vm)
		}
		v.Config.Version = version
		return nil
	})
}

// SetBIOSUUID sets a VM's config.uuid, as a VM copied rather than cloned
// keeps its source's.
func (s *Server) SetBIOSUUID(ctx context.Context, vm, uuid string) error {
	return s.update(ctx, vm, func(obj any) error {
		v, ok := obj.(*simulator.VirtualMachine)
		if !ok || v.Config == nil {
			return fmt.Errorf("vspheretest: %s is not a VM with a config", vm)
		}
		v.Config.Uuid = uuid
		v.Summary.Config.Uuid = uuid
		return nil
	})
}

// BIOSUUID reads a VM's config.uuid.
func (s *Server) BIOSUUID(ctx context.Context, vm string) (string, error) {
	var uuid string
	err := s.update(ctx, vm, func(obj any) error {
		v, ok := obj.(*simulator.VirtualMachine)
		if !ok || v.Config == nil {
			return fmt.Errorf("vspheretest: %s is not a VM with a config", vm)
		}
		uuid = v.Config.Uuid
		return nil
	})
	return uuid, err
}

// VMHost is the inventory path of the host a VM runs on (runtime.host).
func (s *Server) VMHost(ctx context.Context, vm string) (string, error) {
	var host types.ManagedObjectReference
	err := s.update(ctx, vm, func(obj any) error {
		v, ok := obj.(*simulator.VirtualMachine)
		if !ok || v.Runtime.Host == nil {
			return fmt.Errorf("vspheretest: %s is not a VM on a host", vm)
		}
		host = *v.Runtime.Host
		return nil
	})
	if err != nil {
		return "", err
	}
	return s.inventoryPath(host)
}

// inventoryPath builds ref's inventory path from the names of its parents
// in the registry, as vCenter does (the root folder has none).
func (s *Server) inventoryPath(ref types.ManagedObjectReference) (string, error) {
	ctx := s.Model.Service.Context
	var names []string
	for depth := 0; ; depth++ {
		obj, ok := ctx.Map.Get(ref).(mo.Entity)
		if !ok || depth > 64 {
			return "", fmt.Errorf("vspheretest: no entity %s", ref)
		}
		var parent *types.ManagedObjectReference
		ctx.WithLock(ref, func() {
			e := obj.Entity()
			names = append(names, e.Name)
			parent = e.Parent
		})
		if parent == nil {
			break
		}
		ref = *parent
	}
	names = names[:len(names)-1] // the root folder
	slices.Reverse(names)
	return "/" + strings.Join(names, "/"), nil
}

// SetVCenterVersion sets what vCenter's ServiceContent.About says of its
// release ("6.5.0", "6.5" by default); clients see it from their next
// connection.
func (s *Server) SetVCenterVersion(version, apiVersion string) {
	ctx := s.Model.Service.Context
	si := ctx.Map.Get(vim25.ServiceInstance).(*simulator.ServiceInstance)
	ctx.WithLock(vim25.ServiceInstance, func() {
		si.Content.About.Version, si.Content.About.ApiVersion = version, apiVersion
	})
}

// SetHostVersion sets an ESXi host's release (config.product and
// summary.config.product). host is an inventory path
// ("/DC0/host/DC0_H0/DC0_H0").
func (s *Server) SetHostVersion(ctx context.Context, host, version, apiVersion string) error {
	return s.update(ctx, host, func(obj any) error {
		h, ok := obj.(*simulator.HostSystem)
		if !ok || h.Config == nil {
			return fmt.Errorf("vspheretest: %s is not a host with a config", host)
		}
		h.Config.Product.Version, h.Config.Product.ApiVersion = version, apiVersion
		// vcsim points every host's summary at one shared AboutInfo: give
		// this host its own before changing it.
		p := h.Config.Product
		h.Summary.Config.Product = &p
		return nil
	})
}

// SetDatastoreSummary changes a datastore's summary (accessible,
// maintenanceMode, capacity, freeSpace, url) in place.
func (s *Server) SetDatastoreSummary(ctx context.Context, ds string, f func(*types.DatastoreSummary)) error {
	return s.update(ctx, ds, func(obj any) error {
		d, ok := obj.(*simulator.Datastore)
		if !ok {
			return fmt.Errorf("vspheretest: %s is not a datastore", ds)
		}
		f(&d.Summary)
		return nil
	})
}

// SetDatastoreMount sets how host mounts datastore ds (the datastore's
// host property); nil removes the host from it, as for a host that does not
// see the datastore at all.
func (s *Server) SetDatastoreMount(ctx context.Context, ds, host string, mount *types.HostMountInfo) error {
	hostRef, err := s.Ref(ctx, host)
	if err != nil {
		return err
	}
	return s.update(ctx, ds, func(obj any) error {
		d, ok := obj.(*simulator.Datastore)
		if !ok {
			return fmt.Errorf("vspheretest: %s is not a datastore", ds)
		}
		i := slices.IndexFunc(d.Host, func(m types.DatastoreHostMount) bool { return m.Key == hostRef })
		switch {
		case mount == nil && i >= 0:
			d.Host = slices.Delete(d.Host, i, i+1)
		case mount != nil && i >= 0:
			d.Host[i].MountInfo = *mount
		case mount != nil:
			d.Host = append(d.Host, types.DatastoreHostMount{Key: hostRef, MountInfo: *mount})
		}
		return nil
	})
}

// DatastoreFiles lists the files in directory dir of datastore ds as they
// are on disk, in the directory vcsim backs the datastore with: what is
// there whatever the API under test says. A directory that does not exist
// has no files.
func (s *Server) DatastoreFiles(ctx context.Context, ds, dir string) ([]string, error) {
	var root string
	err := s.update(ctx, ds, func(obj any) error {
		d, ok := obj.(*simulator.Datastore)
		if !ok {
			return fmt.Errorf("vspheretest: %s is not a datastore", ds)
		}
		root = d.Info.GetDatastoreInfo().Url
		return nil
	})
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(filepath.Join(root, dir))
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, nil
}
