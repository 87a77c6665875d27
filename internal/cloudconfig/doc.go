// Package cloudconfig renders, from vsphere-integration relation data, the
// configuration files the known consumers write: the in-tree
// cloud-config.conf of kubernetes-master, the out-of-tree CPI vsphere.conf
// and its Secret, the CSI csi-vsphere.conf of vsphere-cloud-provider, and
// the kubelet --provider-id. The layouts are the consumers' own; what
// differs is that every value is quoted and escaped the way gopkg.in/gcfg.v1
// reads it, and a value it cannot carry is an error naming the field,
// never silently changed.
package cloudconfig
