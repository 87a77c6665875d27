// Command floor is the benchmark's floor: a trivial charm that makes N
// hook-tool calls (is-leader) and nothing else, so the table shows how much
// of an event's time is the charm and how much is Juju's tools.
//
//	floor N            N is-leader calls
//	floor replay FILE  the calls in FILE (a JSON list of {tool, args,
//	                   stdin}, as the fake Juju records them), in order
//
// Replaying the very calls an event made costs what those calls cost, a
// state-get of thousands of keys included, which N is-leader calls would
// not: the scale table takes the charm's own time as the event's wall less
// that.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

func main() {
	if len(os.Args) == 3 && os.Args[1] == "replay" {
		if err := replay(os.Args[2]); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
		return
	}
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage: floor N | floor replay FILE")
		os.Exit(2)
	}
	// The very process the charm's is-leader call would start, run
	// straight through the Runner: the charm never asks who leads.
	var run hooktools.Exec
	for i := 0; i < n; i++ {
		if _, err := run.Run(context.Background(), "is-leader", []string{"--format=json"}, nil); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
}

// call is hooktoolstest.Call's JSON, without importing the fake into the
// floor.
type call struct {
	Tool  string   `json:"tool"`
	Args  []string `json:"args"`
	Stdin string   `json:"stdin,omitempty"`
}

// replay runs each call as the charm ran it (its stdin only when it had
// one) and reads its output, which it drops. A call that fails fails the
// replay: the floor then did not do what the event did.
func replay(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var calls []call
	if err := json.Unmarshal(raw, &calls); err != nil {
		return fmt.Errorf("read calls %s: %w", path, err)
	}
	var run hooktools.Exec
	for _, c := range calls {
		var stdin []byte
		if c.Stdin != "" {
			stdin = []byte(c.Stdin)
		}
		if _, err := run.Run(context.Background(), c.Tool, c.Args, stdin); err != nil {
			return fmt.Errorf("%s %v: %w", c.Tool, c.Args, err)
		}
	}
	return nil
}
