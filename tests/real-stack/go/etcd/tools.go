//go:build tools

// Package tools only pins the command built from this module:
// go build -o DIR/etcd go.etcd.io/etcd/server/v3.
package tools

import _ "go.etcd.io/etcd/server/v3"
