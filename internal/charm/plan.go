package charm

import (
	"context"

	"github.com/charmed-kubernetes/vsphere-integrator/internal/hookenv"
)

// plan is what one event does, decided once from its name by planFor and
// the plans table, the one place that reads the event's name. Everything
// below (reconcile and the actions) acts on the plan; none of it asks which
// event runs. The model is controller-runtime's reconcile and ops'
// collect-status: level-based, one decision per event.
type plan struct {
	// event names the event in log lines.
	event string
	// run is what the event does; nil for an event the charm does not
	// handle (secret-*, pre-series-upgrade, another endpoint's relations),
	// which changes nothing.
	run func(*Charm, context.Context) error
	// action: run is an action, which ends in action-fail rather than a
	// failed hook when something goes wrong (runAction).
	action bool

	// check says when reconcile checks against vCenter.
	check checkPolicy
	// publish is where reconcile writes values that did not change; new
	// values always go to every clients relation.
	publish publishScope
	// read is how much unit state the event reads first.
	read stateRead
	// nodes is where the related units a check looks at come from.
	nodes nodeSource
	// sweep deletes a batch of the node keys broken relations left.
	sweep bool
	// quiet: publishing unchanged values (to a new relation) is routine
	// and not logged, since a log line would cost a relation hook one more
	// hook-tool call.
	quiet bool
	// versionAlways sets the application version after every verified
	// check, not only when it changed, so that a new revision of the charm
	// states it again.
	versionAlways bool
	// regrant applies every dedicated identity's permissions again, with
	// the roles brought up to this revision's lists (upgrade-charm).
	regrant bool
	// removing: the unit is going (stop, remove); on the leader, with no
	// clients relation left, everything dedicated mode made is deleted.
	removing bool

	// member is what a relation hook says of the related units, and rel
	// the relation and unit it is about.
	member membership
	// recordApp records the relation's remote application (clients only:
	// the consumer warnings name them).
	recordApp bool
	// fresh: the relation was just created, so this unit's databag on it
	// holds only what Juju wrote there (its addresses), none of our keys.
	fresh bool
	rel   relationFacts
}

// publishScope is where unchanged values are published.
type publishScope int

const (
	// publishAll: every clients relation, compared with what each holds.
	publishAll publishScope = iota
	// publishThisRelation: only the event's relation (a clients relation
	// hook: the others hold the values already).
	publishThisRelation
	// publishNone: nowhere (a nodes relation carries no data of ours; a
	// unit or relation leaving needs none).
	publishNone
)

// stateRead is how much unit state an event reads.
type stateRead int

const (
	// readAll: the record and every node key (state-get).
	readAll stateRead = iota
	// readRecord: only the record (state-get record), so that a relation
	// hook costs the same with 5,000 related units as with 5; the node
	// keys are read later only if a check turns out to be due.
	readRecord
)

// nodeSource is where the related units come from.
type nodeSource int

const (
	// nodesRecorded: the record the relation hooks keep (listed again in
	// full only when there is no record yet).
	nodesRecorded nodeSource = iota
	// nodesRelisted: list the related units again, reading only the
	// addresses the record lacks.
	nodesRelisted
	// nodesReread: list the related units and read every address again.
	nodesReread
)

// membership is what a relation hook tells of the related units.
type membership int

const (
	memberNone membership = iota
	// relationCreated: a new relation, no unit in it yet.
	relationCreated
	// unitJoined: a unit joined, or its data changed: its address.
	unitJoined
	// unitDeparted: a unit left the relation.
	unitDeparted
	// relationBroken: the relation and all its units are gone.
	relationBroken
)

// relationFacts are the relation hook's facts from its environment.
type relationFacts struct {
	// id is JUJU_RELATION_ID.
	id string
	// unit is the remote unit joining or leaving: for relation-departed
	// JUJU_DEPARTING_UNIT (Juju ≥ 2.8), which is the same unit as
	// JUJU_REMOTE_UNIT, else JUJU_REMOTE_UNIT.
	unit string
	// app is the remote application.
	app string
}

// reconciles is what every hook in the table runs: the one reconcile.
var reconciles = (*Charm).reconcileEvent

// plans is every event the charm handles, by kind and name. A hook not
// listed here changes nothing. Relation hooks read only the record, check
// only when the inputs changed (a unit that joined or left is looked at
// by the next update-status) and log nothing routine; a clients relation
// publishes on its own relation, and what leaves is forgotten first
// (trackNodes), so that the status names neither the unit nor the
// relation's application. stop and remove set the status decided from
// what is left (Juju takes status-set in both: the unit is dying, not
// dead, until remove ends); the charm keeps no files or processes besides
// its state key, so they leave nothing behind by construction.
var plans = map[hookenv.Kind]map[string]plan{
	hookenv.KindHook: {
		"install":                 {run: reconciles, check: checkOnEvent},
		"config-changed":          {run: reconciles, check: checkOnEvent},
		"leader-elected":          {run: reconciles, check: checkOnEvent},
		"upgrade-charm":           {run: reconciles, check: checkOnEvent, nodes: nodesReread, versionAlways: true, regrant: true},
		"update-status":           {run: reconciles, check: checkIfStale, sweep: true},
		"leader-settings-changed": {run: reconciles, check: checkIfChanged},
		"start":                   {run: reconciles, check: checkIfChanged},
		"stop":                    {run: reconciles, check: checkIfChanged, removing: true},
		"remove":                  {run: reconciles, check: checkIfChanged, removing: true},

		Endpoint + "-relation-created":  {run: reconciles, check: checkIfChanged, publish: publishThisRelation, read: readRecord, quiet: true, member: relationCreated, recordApp: true, fresh: true},
		Endpoint + "-relation-joined":   {run: reconciles, check: checkIfChanged, publish: publishThisRelation, read: readRecord, quiet: true, member: unitJoined, recordApp: true},
		Endpoint + "-relation-changed":  {run: reconciles, check: checkIfChanged, publish: publishThisRelation, read: readRecord, quiet: true, member: unitJoined, recordApp: true},
		Endpoint + "-relation-departed": {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: unitDeparted},
		Endpoint + "-relation-broken":   {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: relationBroken},

		NodesEndpoint + "-relation-created":  {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: relationCreated},
		NodesEndpoint + "-relation-joined":   {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: unitJoined},
		NodesEndpoint + "-relation-changed":  {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: unitJoined},
		NodesEndpoint + "-relation-departed": {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: unitDeparted},
		NodesEndpoint + "-relation-broken":   {run: reconciles, check: checkIfChanged, publish: publishNone, read: readRecord, quiet: true, member: relationBroken},
	},
	hookenv.KindAction: {
		"verify": {run: (*Charm).verifyAction},
		// refresh-credentials re-reads trust and config, checks now and
		// republishes, as config-changed does.
		"refresh-credentials": {run: (*Charm).refreshAction, check: checkNow},
		"cloud-config":        {run: (*Charm).cloudConfigAction},
		// check-prerequisites lists the related units again and checks
		// now, so that the status and what is published follow.
		"check-prerequisites": {run: (*Charm).checkPrerequisitesAction, check: checkNow, nodes: nodesRelisted},
		"enable-disk-uuid":    {run: (*Charm).enableDiskUUIDAction},
		"storage-class":       {run: (*Charm).storageClassAction},
		"test-volume":         {run: (*Charm).testVolumeAction},
		// The dedicated credentials' actions: list reads; rotate and purge
		// run on the leader, rotate as config-changed does with every
		// identity due.
		"list-credentials":   {run: (*Charm).listCredentialsAction},
		"rotate-credentials": {run: (*Charm).rotateCredentialsAction, check: checkNow},
		"purge-credentials":  {run: (*Charm).purgeCredentialsAction},
	},
}

// planFor decides what the event hc names does.
func planFor(hc hookenv.Context) plan {
	p, ok := plans[hc.Kind][hc.Name]
	switch {
	case hc.Kind == hookenv.KindAction && !ok:
		p = plan{run: (*Charm).unknownAction}
	case !ok:
		return plan{event: hc.Name}
	}
	p.event = hc.Name
	p.action = hc.Kind == hookenv.KindAction
	if p.member != memberNone {
		p.rel = relationFacts{id: hc.RelationID, unit: hc.RemoteUnit, app: hc.RemoteApp}
		if p.member == unitDeparted && hc.DepartingUnit != "" {
			p.rel.unit = hc.DepartingUnit
		}
	}
	return p
}

// reconcileEvent is what a hook does: the one reconcile, as its plan says.
func (c *Charm) reconcileEvent(ctx context.Context) error {
	_, err := c.reconcile(ctx, c.plan)
	return err
}
