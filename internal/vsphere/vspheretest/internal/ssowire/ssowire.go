// Package ssowire holds the faults of vCenter's SSO admin service under the
// names they have on the wire. vcsim writes a fault's xsi:type from its Go
// type's name, so a fault vCenter sends as SsoFaultNoPermission needs a Go
// type of that name; these types exist for that alone.
package ssowire

import "github.com/vmware/govmomi/vim25/types"

// SsoFaultNoPermission is the SSO admin service's NoPermission: govmomi's
// ssoadmin package decodes it as types.NoPermission.
type SsoFaultNoPermission struct {
	types.NoPermission
}

// SsoAdminFaultPasswordPolicyViolationFault is the SSO admin service's
// refusal of a password its policy rejects. govmomi defines no type for it,
// so a govmomi client gets the SOAP fault with its fault string and no
// detail, as it does from vCenter.
type SsoAdminFaultPasswordPolicyViolationFault struct {
	types.MethodFault
}

// IdS_getDefaultDomainsResponse is GetDefaultDomains' result under the name
// of its SOAP element, which vcsim writes from the Go type's name.
type IdS_getDefaultDomainsResponse struct {
	Returnval []string `xml:"returnval,omitempty"`
}
