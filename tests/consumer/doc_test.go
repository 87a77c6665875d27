// Package consumer_test holds the charm's cloud configs against the
// consumers' own parsers: the in-tree vSphere provider's VSphereConfig
// (k8s.io/legacy-cloud-providers v0.29, read by gcfg as the provider reads
// it: strictly, unknown keys are errors), the CPI's YAML reader
// (gopkg.in/yaml.v2) and Kubernetes' Secret key rule. It lives in its own
// module so the Kubernetes dependency stays out of the charm's go.mod.
package consumer_test
