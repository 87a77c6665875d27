package charm

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The simulator listens on a port of its own, which no consumer can carry
// (docs/consumers.md): every test relating kubernetes-control-plane or
// vsphere-cloud-provider would otherwise see that warning. withoutSimulatorPort
// drops it, and only it; TestConsumerWarnings checks the warning itself.
var simulatorPort = regexp.MustCompile(`; [^;]*cannot read: a port or path in vsphere_ip(;| \(see README)`)

func withoutSimulatorPort(msg string) string {
	msg = strings.ReplaceAll(msg, "a port or path in vsphere_ip, ", "")
	msg = simulatorPort.ReplaceAllString(msg, "$1")
	msg = strings.Replace(msg, "; (see README", " (see README", 1)
	if !strings.Contains(msg, "cannot read:") {
		msg = strings.TrimSuffix(msg, " (see README, What consumers render)")
	}
	return msg
}

func TestWithoutSimulatorPort(t *testing.T) {
	for in, want := range map[string]string{
		"ready": "ready",
		"ready; kubernetes-control-plane, vsphere-cloud-provider cannot read: a port or path in vsphere_ip (see README, What consumers render)":                   "ready",
		`ready; x; kubernetes-control-plane cannot read: a port or path in vsphere_ip, " or \ in password (see README, What consumers render)`:                    `ready; x; kubernetes-control-plane cannot read: " or \ in password (see README, What consumers render)`,
		`ready; a cannot read: a port or path in vsphere_ip; b cannot read: a port or path in vsphere_ip, " or \ in password (see README, What consumers render)`: `ready; b cannot read: " or \ in password (see README, What consumers render)`,
	} {
		assert.Equal(t, want, withoutSimulatorPort(in), in)
	}
}

// TestConsumerWarnings: what a related application cannot read is said by
// field and application, never by value, on an active status; the data is
// published as it is. kubernetes-worker renders nothing and is never named;
// an application the charm cannot tell gets every consumer's rules.
func TestConsumerWarnings(t *testing.T) {
	e := newEnv(t)
	e.rotate(`pa"ss`)
	e.trust()
	w := e.juju.AddRelation(Endpoint, "kubernetes-worker", "kubernetes-worker/0")
	e.place(w, "kubernetes-worker/0", "", "10.0.0.8", "")
	e.hook("config-changed")
	e.hook("clients-relation-joined", w, "kubernetes-worker/0")
	assert.Equal(t, "ready", e.juju.Status.Message, "kubernetes-worker renders nothing")

	rel := e.juju.AddRelation(Endpoint, "kubernetes-control-plane", "kubernetes-control-plane/0")
	e.place(rel, "kubernetes-control-plane/0", "", "10.0.0.9", "")
	e.hook("clients-relation-joined", rel, "kubernetes-control-plane/0")
	name, msg := e.juju.Status.Name, e.juju.Status.Message
	assert.Equal(t, "active", name)
	assert.Equal(t, `ready; kubernetes-control-plane cannot read: a port or path in vsphere_ip, " or \ in password (see README, What consumers render)`, msg)
	assert.Equal(t, `"pa\"ss"`, e.juju.LocalData(rel)["password"])

	other := newEnv(t)
	other.trust()
	r2 := other.juju.AddRelation(Endpoint, "my-own-consumer", "my-own-consumer/0")
	other.place(r2, "my-own-consumer/0", "", "10.0.0.9", "")
	other.hook("clients-relation-joined", r2, "my-own-consumer/0")
	other.hook("config-changed")
	assert.Equal(t, "ready; could not tell what my-own-consumer renders, by every consumer's rules it cannot read: a port or path in vsphere_ip (see README, What consumers render)",
		other.juju.Status.Message)
}

// TestPublishesBareHost: an address on the default port and path is
// published as the bare host every consumer needs, while the check uses
// the address as given. Nothing answers at 192.0.2.1 (TEST-NET-1), so the
// data goes out unverified, which is when a check does not stand between.
func TestPublishesBareHost(t *testing.T) {
	for given, want := range map[string]string{
		"https://192.0.2.1:443/sdk": `"192.0.2.1"`,
		"192.0.2.1:443":             `"192.0.2.1"`,
		"https://192.0.2.1:8443":    `"https://192.0.2.1:8443"`,
	} {
		t.Run(given, func(t *testing.T) {
			e := newEnv(t)
			e.checkTimeout = time.Second
			e.trust()
			e.juju.SetConfig(map[string]any{"vsphere_ip": given})
			rel := e.juju.AddRelation(Endpoint, "vsphere-cloud-provider", "vsphere-cloud-provider/0")
			e.hook("config-changed")
			name, msg := e.status()
			require.Equal(t, "waiting", name, msg)
			assert.Contains(t, msg, "192.0.2.1", "the check is against the address given")
			assert.Equal(t, want, e.juju.LocalData(rel)["vsphere_ip"])
		})
	}
}
