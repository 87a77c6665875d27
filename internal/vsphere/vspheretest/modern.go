package vspheretest

import "github.com/vmware/govmomi/simulator"

// Modernize makes the simulator a vSphere the CSI driver supports: vCenter
// and every host 8.0.2, every VM hardware version vmx-19. vcsim plays 6.5
// with vmx-13 VMs, which the check rightly warns about; a test or demo that
// wants a warning asks for it with SetVCenterVersion, SetHostVersion or
// SetHardwareVersion.
func (s *Server) Modernize() {
	s.SetVCenterVersion("8.0.2", "8.0.2.0")
	ctx := s.Model.Service.Context
	for _, obj := range ctx.Map.AllReference("HostSystem") {
		h := obj.(*simulator.HostSystem)
		ctx.WithLock(h, func() {
			h.Config.Product.Version, h.Config.Product.ApiVersion = "8.0.2", "8.0.2.0"
			// vcsim shares one AboutInfo between hosts' summaries.
			p := h.Config.Product
			h.Summary.Config.Product = &p
		})
	}
	for _, obj := range ctx.Map.AllReference("VirtualMachine") {
		vm := obj.(*simulator.VirtualMachine)
		ctx.WithLock(vm, func() { vm.Config.Version = "vmx-19" })
	}
}
