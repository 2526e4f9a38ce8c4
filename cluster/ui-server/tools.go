//go:build tools

// Keeps the UI server's main package in this module's build list, so `go mod tidy` records
// every module it needs in go.sum and `go build github.com/temporalio/ui-server/v2/cmd/server` works.
package tools

import _ "github.com/temporalio/ui-server/v2/cmd/server"
