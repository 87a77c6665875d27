// Command floor is the benchmark's floor: a trivial charm that makes N
// hook-tool calls (is-leader) and nothing else, so the table shows how much
// of an event's time is the charm and how much is Juju's tools.
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hooktools"
)

func main() {
	n, err := strconv.Atoi(os.Args[len(os.Args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "usage: floor N")
		os.Exit(2)
	}
	tools := hooktools.New(hooktools.Exec{})
	for i := 0; i < n; i++ {
		if _, err := tools.IsLeader(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "floor:", err)
			os.Exit(1)
		}
	}
}
