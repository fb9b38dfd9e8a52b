//go:build !unix

package bottest

import "time"

// MachineCPU is not measured here (see cpu.go).
func MachineCPU() (time.Duration, bool) { return 0, false }

// ProcessCPU is not measured here (see cpu.go).
func ProcessCPU() (time.Duration, bool) { return 0, false }
