package consumers_test

import (
	"fmt"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/consumers"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

func ExampleWarning() {
	d := consumers.Published(relation.Data{VsphereIP: "https://vc.example.com:443/sdk", User: "k8sadmin", Password: `pa"ss`, Datacenter: "DC0", Datastore: "ds", Folder: "f"})
	fmt.Println(d.VsphereIP)
	fmt.Println(consumers.Warning(d, []string{"kubernetes-worker", "kubernetes-control-plane", "vsphere-cloud-provider", "k8s"}))
	// Output:
	// vc.example.com
	// ; kubernetes-control-plane cannot read: " or \ in password; vsphere-cloud-provider cannot read: " or \ in password, no user@domain or DOMAIN\user form in user; could not tell what k8s renders, by every consumer's rules it cannot read: " or \ in password, no user@domain or DOMAIN\user form in user (see README, What consumers render)
}
