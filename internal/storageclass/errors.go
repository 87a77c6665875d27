package storageclass

import "fmt"

// ParamError is a parameter Render cannot make a StorageClass from.
type ParamError struct {
	Field string // "provisioner", "datastore", "datastore URL", "name"
	Err   error
}

func (e *ParamError) Error() string {
	return fmt.Sprintf("invalid storage class %s: %v", e.Field, e.Err)
}

func (e *ParamError) Unwrap() error { return e.Err }
