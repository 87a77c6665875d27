package cloudconfig

import "github.com/charmed-kubernetes/vsphere-integrator/internal/relation"

// CSI renders csi-vsphere.conf, the key of Secret vsphere-config-secret
// (namespace vmware-system-csi) that vsphere-cloud-provider gives the
// vSphere CSI driver, in its layout. clusterID is what it uses as
// cluster-id: the Juju model UUID.
//
// The result parses with gcfg into the CSI driver's config
// (kubernetes-sigs/vsphere-csi-driver pkg/common/config) and gives back
// every value exactly. The vCenter server only appears as the subsection
// name here, so a carriage return in it is carried, unlike in InTree.
func CSI(d relation.Data, clusterID string) (string, error) {
	var w ini
	w.section("Global")
	w.value("cluster-id", fieldClusterID, clusterID)
	w.blank()
	w.subsection("VirtualCenter", relation.KeyVsphereIP, d.VsphereIP)
	w.value("insecure-flag", "insecure-flag", "true")
	w.value("user", relation.KeyUser, d.User)
	w.value("password", relation.KeyPassword, d.Password)
	w.value("port", "port", "443")
	w.value("datacenters", relation.KeyDatacenter, d.Datacenter)
	return w.result()
}
