package hooktoolstest

// What the fake's own tests match or compare with and nothing else uses.
var (
	ErrHookRunning = errHookRunning
	ErrNoHook      = errNoHook
)

const MaxArgStrlen = maxArgStrlen
