package hooktools

// What the tests check that nothing outside the package needs. They are in
// package hooktools_test because they use the fake Juju of hooktoolstest,
// which imports this package.
var ErrInvalidArgument = errInvalidArgument

const (
	MaxActionFail  = maxActionFail
	MaxActionValue = maxActionValue
)

type LimitError = limitError
