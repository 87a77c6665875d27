// Command toolclock stands in for every hook tool on PATH in the scale
// table's timed runs: it runs the fake Juju's tool (the fakejuju binary
// under the tool's name) with its own stdin, stdout and stderr, exits as it
// did, and appends "<tool> <nanoseconds>" to a file, so that what each call
// of a hook cost is known from that very run. Taking the tools' time from a
// separate replay instead leaves the charm's own few milliseconds as the
// difference of two walls of half a second, which the fake's own spread
// (tens of milliseconds with thousands of units) drowns.
//
// It finds the fakejuju binary and the file to append to in
// $FAKEJUJU_STATE.toolclock, two lines, since the hook's environment is
// the unit agent's and has room for nothing else.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	start := time.Now()
	tool := filepath.Base(os.Args[0])
	fake, clock, err := config(os.Getenv("FAKEJUJU_STATE") + ".toolclock")
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERROR toolclock: %v\n", err)
		os.Exit(1)
	}
	// With *os.File stdin and stdout the child gets the descriptors
	// themselves: nothing is copied through this process.
	cmd := &exec.Cmd{Path: fake, Args: append([]string{tool}, os.Args[1:]...), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr}
	err = cmd.Run()
	took := time.Since(start)
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		fmt.Fprintf(os.Stderr, "ERROR toolclock: %v\n", err)
		os.Exit(1)
	}
	f, err := os.OpenFile(clock, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err == nil {
		_, err = fmt.Fprintf(f, "%s %d\n", tool, took.Nanoseconds())
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERROR toolclock: %v\n", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func config(path string) (fake, clock string, err error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", "", err
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) != 2 {
		return "", "", fmt.Errorf("%s: want the fakejuju binary and the clock file, one a line", path)
	}
	return lines[0], lines[1], nil
}
