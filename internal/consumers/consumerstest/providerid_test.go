package consumerstest

import (
	"errors"
	"testing"
)

func TestProviderID(t *testing.T) {
	tests := []struct {
		serial, want string
	}{
		{"VMware-42 28 13 f5 0b d4 4c 3e-8f 39 d2 6f 1c 05 b7 0d\n", "vsphere://422813f5-0bd4-4c3e-8f39-d26f1c05b70d"},
		{"VMware-56 4d 39 5e d8 07 e1 8a-cb 25 b7 9f 65 eb 2b 9f", "vsphere://564d395e-d807-e18a-cb25-b79f65eb2b9f"},
		{"  VMware-564D395ED807E18ACB25B79F65EB2B9F  ", "vsphere://564D395E-D807-E18A-CB25-B79F65EB2B9F"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			got, err := ProviderID(tt.serial)
			if err != nil || got != tt.want {
				t.Errorf("ProviderID(%q) = %q, %v; want %q", tt.serial, got, err, tt.want)
			}
		})
	}
	for _, bad := range []string{
		"",
		"Dell Inc. 7XK2LM2",
		"vmware-42 28 13 f5 0b d4 4c 3e-8f 39 d2 6f 1c 05 b7 0d",
		"VMware-42 28 13 f5",
		"VMware-42 28 13 f5 0b d4 4c 3e-8f 39 d2 6f 1c 05 b7 0d 00",
		"VMware-zz 28 13 f5 0b d4 4c 3e-8f 39 d2 6f 1c 05 b7 0d",
	} {
		t.Run("bad "+bad, func(t *testing.T) {
			got, err := ProviderID(bad)
			if !errors.Is(err, errNotVMwareSerial) {
				t.Errorf("ProviderID(%q) = %q, %v; want errNotVMwareSerial", bad, got, err)
			}
		})
	}
}
