package hooktoolstest

import (
	"errors"
	"fmt"
	"maps"
	"strings"
)

// errLeaderSet is what leader-set prints on a unit that is not the leader:
// the leadership context's "not the leader", annotated by
// WriteLeaderSettings and then by the tool (jujuc leader-set.go,
// worker/uniter/runner/context/leader.go).
var errLeaderSet = errors.New("cannot write leadership settings: cannot write settings: not the leader")

// SetLeaderSettings replaces the application's leader settings, as the
// leader (another unit, say) left them.
func (j *Juju) SetLeaderSettings(settings map[string]string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.LeaderValues = maps.Clone(settings)
}

// LeaderSettings returns a copy of the application's leader settings, never
// nil. They are written at once, so a running hook's writes are there.
func (j *Juju) LeaderSettings() map[string]string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return maps.Clone(nonNil(j.LeaderValues))
}

// leaderGet is jujuc leader-get.go: every key ("-" or none) or one, which
// prints nothing (null in JSON) when it is not set. Any unit may read.
func (j *Juju) leaderGet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(outputOptions(), argv)
	if err != nil {
		return result{}, err
	}
	var key string
	if len(c.args) > 0 {
		key = c.args[0]
		if key == "-" {
			key = ""
		} else if strings.Contains(key, "=") {
			return result{}, usagef("invalid key %q", key)
		}
		if err := checkEmpty(c.args[1:]); err != nil {
			return result{}, err
		}
	}
	if key == "" {
		// The leadership context copies the settings into a new map: an
		// empty one prints {}.
		return printed(c, maps.Clone(nonNil(j.LeaderValues)))
	}
	if v, ok := j.LeaderValues[key]; ok {
		return printed(c, v)
	}
	return printed(c, nil)
}

// leaderSet is jujuc leader-set.go: key=value arguments only (no --file),
// parsed by keyvalues.Parse with empty values allowed; the leadership
// context claims leadership first, and the controller merges the values
// at once, outside the hook's transaction, an empty value deleting its key
// (state.Application.UpdateLeaderSettings). No argument is a valid, empty
// write.
func (j *Juju) leaderSet(argv []string, _ []byte) (result, error) {
	c, err := parseFlags(nil, argv)
	if err != nil {
		return result{}, err
	}
	values, err := keyValues(c.args)
	if err != nil {
		return result{}, err
	}
	if !j.Leader {
		return result{}, errLeaderSet
	}
	if j.LeaderValues == nil {
		j.LeaderValues = map[string]string{}
	}
	for k, v := range values {
		if v == "" {
			delete(j.LeaderValues, k)
		} else {
			j.LeaderValues[k] = v
		}
	}
	return result{}, nil
}

// notLeaderOf is the controller's refusal of a leader's operation by a unit
// that is not (core/leadership NewNotLeaderError).
func (j *Juju) notLeaderOf() error {
	return fmt.Errorf("%q is not leader of %q", j.Unit, j.App())
}
