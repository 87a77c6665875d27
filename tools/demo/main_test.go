package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClosingCommandsAreREADMEs: every juju command the demo closes with
// for a real deployment is the README's Deploy section's, word for word,
// and the README's juju integrate lines are all there.
func TestClosingCommandsAreREADMEs(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := string(raw)
	deploy := readme[strings.Index(readme, "## Deploy"):]
	deploy = deploy[:strings.Index(deploy[1:], "\n## ")+1]
	var integrate []string
	for _, line := range strings.Split(deploy, "\n") {
		if strings.HasPrefix(line, "juju integrate ") {
			integrate = append(integrate, strings.TrimSpace(line))
		}
	}
	require.NotEmpty(t, integrate, "README's Deploy section relates the integrator")

	var demo []string
	for _, line := range strings.Split(onReal, "\n") {
		if line = strings.TrimSpace(line); strings.HasPrefix(line, "juju ") {
			demo = append(demo, line)
		}
	}
	for _, line := range demo {
		if strings.HasPrefix(line, "juju integrate ") {
			assert.Contains(t, integrate, line, "the demo's line is not the README's")
		}
	}
	for _, line := range integrate {
		assert.Contains(t, demo, line, "the demo leaves out the README's line")
	}
}
