package cloudconfig

import "github.com/charmed-kubernetes/vsphere-integrator/internal/relation"

// InTree renders cloud-config.conf for the in-tree vSphere provider
// (Kubernetes 1.12 to 1.28) in kubernetes-master's layout. vmUUID is what
// kubernetes-master makes of /sys/class/dmi/id/product_serial (the UUID
// after "VMware-", formatted 8-4-4-4-12; docs/consumers.md); it writes it
// as "VMware-" + vmUUID, and so does this.
//
// The result parses with gcfg's strict reading into the provider's
// VSphereConfig (k8s.io/legacy-cloud-providers/vsphere) and gives back
// every value exactly.
func InTree(d relation.Data, vmUUID string) (string, error) {
	var w ini
	w.section("Global")
	w.raw("insecure-flag", "true")
	w.value("datacenters", relation.KeyDatacenter, d.Datacenter)
	w.value("vm-uuid", fieldVMUUID, "VMware-"+vmUUID)
	w.subsection("VirtualCenter", relation.KeyVsphereIP, d.VsphereIP)
	w.value("user", relation.KeyUser, d.User)
	w.value("password", relation.KeyPassword, d.Password)
	w.section("Workspace")
	w.value("server", relation.KeyVsphereIP, d.VsphereIP)
	w.value("datacenter", relation.KeyDatacenter, d.Datacenter)
	w.value("default-datastore", relation.KeyDatastore, d.Datastore)
	w.value("folder", relation.KeyFolder, d.Folder)
	w.value("resourcepool-path", relation.KeyRespoolPath, d.RespoolPath)
	w.section("Disk")
	w.value("scsicontrollertype", "scsicontrollertype", "pvscsi")
	return w.result()
}
