// Command rss runs a command and writes the peak resident set of that
// command (and the children it waited for) to the file named by RSS_OUT.
//
// The benchmark needs it because a process started from a large Go program
// is created with vfork and shares that program's memory until it execs,
// and Linux counts that in the child's ru_maxrss: measured directly from
// charmbench, which holds the vCenter simulator, every hook would look as
// big as charmbench. Started from this small program instead, the figure is
// the hook's own.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: RSS_OUT=file rss command [args...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		code = exit.ExitCode()
	case err != nil:
		fmt.Fprintln(os.Stderr, "rss:", err)
		os.Exit(127)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		if out := os.Getenv("RSS_OUT"); out != "" {
			if err := os.WriteFile(out, []byte(fmt.Sprint(ru.Maxrss)), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "rss:", err)
			}
		}
	}
	os.Exit(code)
}
