package charm

// checkPolicy says when an event checks against vCenter.
type checkPolicy int

const (
	// checkIfChanged: only when the inputs differ from the last check.
	checkIfChanged checkPolicy = iota
	// checkIfStale: also when the last check failed, is old, or the nodes
	// changed.
	checkIfStale
	// checkOnEvent: an event that usually means something changed
	// (install, config-changed, upgrade): check, unless the credential is
	// the one vCenter rejected less than loginBackoff ago.
	checkOnEvent
	// checkNow: the operator asked for it (an action).
	checkNow
)

// needCheck decides whether this event opens a vCenter session. Relation
// events check only when the inputs changed (new credentials or options
// arriving with the event); a unit that joined or left (nodes differ) is
// looked at by the next update-status. recheck: a unit leaving is named in
// the status in a way only a new check can restate (see leave).
func (c *Charm) needCheck(policy checkPolicy, prev *checkRecord, inputs string, st *unitState, recheck bool) bool {
	switch {
	case policy == checkNow, prev == nil, prev.Inputs != inputs, recheck:
		return true
	case prev.LoginRejected && c.now().Before(prev.retryAt()):
		// The same credential vCenter refused: trying it again on every
		// hook would lock the account the consumers use too.
		return false
	case policy == checkOnEvent:
		return true
	case policy == checkIfStale:
		// Blocked on a privilege is retried like a failed check, so the
		// status clears soon after the admin grants it.
		return prev.Outcome != outcomeVerified || prev.Recheck || prev.Prereq.blocked() ||
			prev.Nodes != st.nodes.hash() || c.now().Sub(prev.At) >= recheckAfter
	}
	return false
}
