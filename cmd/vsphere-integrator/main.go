// Command vsphere-integrator is the charm: dispatch execs it for every hook
// and action. It reads the hook context, wires the real hook tools and the
// vCenter checker, runs one event and sets the exit code.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/charm"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/redact"
	"github.com/charmed-kubernetes/vsphere-integrator/internal/vsphere"
)

// eventDeadline bounds a whole event. The vCenter check inside gets its own
// 30 s (charm.CheckTimeout); the rest is hook tools, which answer in
// milliseconds. Juju itself never times a hook out, so without this a stuck
// call would wedge the unit's whole queue.
const eventDeadline = 2 * time.Minute

func main() {
	os.Exit(run())
}

func run() (code int) {
	// The event's secrets: the charm adds each as it reads it, the hook
	// tools and report leave none in what they send (docs/security.md).
	secrets := &redact.Secrets{}
	tools := hooktools.New(hooktools.Exec{}, secrets)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, eventDeadline)
	defer cancel()

	// A panic is the one failure that is the charm's own: log it and exit
	// non-zero so Juju shows the unit in error and a human looks.
	defer func() {
		if r := recover(); r != nil {
			report(ctx, tools, hooktools.LevelError, fmt.Sprintf("charm bug: %v\n%s", r, debug.Stack()))
			code = 1
		}
	}()

	hc, err := hookenv.Parse(os.Getenv, os.Args[0])
	if err != nil {
		// Not something a retry of this hook fixes, and not the charm's
		// fault: say so where the operator looks, and do not wedge the unit.
		report(ctx, tools, hooktools.LevelError, "cannot run: "+err.Error())
		_ = tools.StatusSet(ctx, hooktools.StatusBlocked, "charm started without a valid Juju hook context: "+err.Error())
		return 0
	}
	key, replaced, err := charm.OpenKey(charm.KeyPath(hc.CharmDir))
	if replaced != "" {
		report(ctx, tools, hooktools.LevelWarning, replaced)
	}
	if err != nil {
		// A random key for this event only would make every event check
		// vCenter and rewrite every relation; a stable, if not secret,
		// key keeps the unit quiet until the disk takes the key again.
		key = charm.FallbackKey(hc.ModelUUID, hc.Unit)
		report(ctx, tools, hooktools.LevelWarning, "cannot keep the unit state key, so its hashes are only salted with the unit's name: "+err.Error())
	}
	c := charm.New(tools, hc, vsphere.Client{}, charm.Options{Key: key})
	if err := c.Run(ctx); err != nil {
		if errors.Is(err, hooktools.ErrTooLong) {
			// The charm asked a hook tool to carry more than it may: the
			// charm's bug, not Juju's. Exit non-zero as for a panic, so a
			// human looks; nothing of the event is committed.
			report(ctx, tools, hooktools.LevelError, fmt.Sprintf("%s: charm bug: %v", hc.Name, err))
			return 1
		}
		// A hook tool failed: Juju's trouble. Exiting non-zero makes Juju
		// commit none of this hook's relation or state writes and retry it.
		report(ctx, tools, hooktools.LevelError, fmt.Sprintf("%s: cannot talk to Juju, the hook will be retried: %v", hc.Name, err))
		return 1
	}
	return 0
}

// maxReport bounds a line main writes to stderr: a panic's stack is a few
// KiB; an error quoting more is cut.
const maxReport = 16 * 1024

// report logs through juju-log and, because juju-log itself may be what is
// missing, to stderr too (Juju copies a hook's stderr into the unit log).
// Both are redacted of the event's secrets and bounded: juju-log by the
// tools, stderr here.
func report(ctx context.Context, tools *hooktools.Tools, level hooktools.Level, msg string) {
	fmt.Fprintf(os.Stderr, "vsphere-integrator: %s: %s\n", level, tools.Secrets().Text(msg, maxReport))
	_ = tools.Log(ctx, level, msg)
}
