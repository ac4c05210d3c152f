//go:build !linux

package realcluster

import "syscall"

func lockFile(string) (func(), error)                      { return func() {}, nil }
func nodeUser() (*syscall.Credential, error)               { return nil, errNotLinux }
func sysProcAttr(*syscall.Credential) *syscall.SysProcAttr { return nil }
func signalGroup(int, syscall.Signal) bool                 { return false }
func chown(string, *syscall.Credential) error              { return nil }
func supported() error                                     { return errNotLinux }

func processAlive(int) bool { return true }
