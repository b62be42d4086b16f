//go:build tools

// Package tools only pins the commands built from this module:
// go build -o DIR/ k8s.io/kubernetes/cmd/kube-apiserver (etc.).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
