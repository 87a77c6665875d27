package cloudconfig

import (
	"errors"
	"strconv"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/relation"
)

// TestCPIServerForms: vsphere_ip may be host, host:port or a URL; the CPI
// gets the bare host as server and in the Secret keys, and the port apart.
func TestCPIServerForms(t *testing.T) {
	tests := []struct {
		vsphereIP, server, port string
		err                     error
	}{
		{"vc.example.com", "vc.example.com", "", nil},
		{"10.0.0.1:8443", "10.0.0.1", "8443", nil},
		{"https://vc.example.com:9443/sdk", "vc.example.com", "9443", nil},
		{"https://vc.example.com/sdk", "vc.example.com", "", nil},
		{"[fd00::1]:443", "", "", ErrSecretKey}, // ':' cannot be in a Secret key
	}
	for _, tt := range tests {
		t.Run(tt.vsphereIP, func(t *testing.T) {
			d := relation.Data{VsphereIP: tt.vsphereIP, User: "u", Password: "p", Datacenter: "DC0", Datastore: "ds", Folder: "f"}
			got, err := CPI(d)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var conf struct {
				VCenter map[string]struct {
					Server string `yaml:"server"`
					Port   int    `yaml:"port"`
				} `yaml:"vcenter"`
			}
			if err := yaml.Unmarshal([]byte(got.VsphereConf), &conf); err != nil {
				t.Fatal(err)
			}
			vc := conf.VCenter["DC0"]
			if vc.Server != tt.server {
				t.Errorf("server = %q, want %q", vc.Server, tt.server)
			}
			wantPort := 0
			if tt.port != "" {
				wantPort, _ = strconv.Atoi(tt.port)
			}
			if vc.Port != wantPort {
				t.Errorf("port = %d, want %d", vc.Port, wantPort)
			}
			if got.Secret[tt.server+".password"] != "p" || got.Secret[tt.server+".username"] != "u" {
				t.Errorf("secret keys = %v", got.Secret)
			}
		})
	}
}
