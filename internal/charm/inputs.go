package charm

import (
	"context"
	"errors"
	"fmt"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/credentials"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

// inputs is what every event reads from Juju first.
type inputs struct {
	state    *unitState
	resolved credentials.Resolved
	// resolveErr is why the operator's credentials or options cannot be
	// used: a status, not a failure of the hook.
	resolveErr error
	// mode is what consumer-credentials and rotate-credentials-days say.
	mode dedicatedConfig
}

// read gathers config, the cloud credential and the unit state, and
// resolves the credentials. A hook tool that fails is returned, and so is a
// credential-get that fails other than for want of `juju trust`: that is
// Juju's trouble, and a retry of the hook is the remedy.
func (c *Charm) read(ctx context.Context, how stateRead) (inputs, error) {
	cfg, err := c.tools.ConfigGet(ctx)
	if err != nil {
		return inputs{}, err
	}
	// Read on every event: `juju update-credential` fires no hook, so this
	// is how a rotated credential is noticed.
	spec, trustErr := c.tools.CredentialGet(ctx)
	// Every secret is registered before anything else is done with the
	// inputs: from here on no text that leaves the charm holds one
	// (docs/security.md).
	c.secrets.Add(credentials.SecretValues(spec, cfg)...)
	if trustErr != nil && !errors.Is(trustErr, hooktools.ErrNotTrusted) {
		return inputs{}, fmt.Errorf("read the cloud credential: %w", trustErr)
	}
	// A relation hook reads only the record: what it costs must not grow
	// with the related units. Everything else reads the node keys too.
	load := loadState
	if how == readRecord {
		load = loadRecord
	}
	st, err := load(ctx, c.tools)
	if err != nil {
		return inputs{}, err
	}
	res, rerr := credentials.Resolve(spec, trustErr, cfg)
	mode, merr := parseMode(cfg, c.hc.Version)
	if rerr == nil {
		rerr = merr
	}
	return inputs{state: st, resolved: res, resolveErr: rerr, mode: mode}, nil
}
