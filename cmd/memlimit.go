package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// defaultGoMemoryLimitRatio is the share of the container's memory limit the manager
// gives the Go runtime as its soft limit: the rest is for what the runtime does not
// count (stacks of exiting goroutines, the binary, the kernel's page cache of it).
const defaultGoMemoryLimitRatio = 0.9

// goMemoryLimit is the soft memory limit (runtime/debug.SetMemoryLimit) the manager
// sets: ratio of containerLimit, the container's memory limit in bytes as the
// downward API gives it (the chart and config/manager pass limits.memory in
// MEMORY_LIMIT). Without it, Go collects only when the heap doubles (GOGC=100), so a
// manager whose live heap is over half its limit is OOM-killed before it collects.
//
// It returns 0, to leave the runtime's default, when GOMEMLIMIT is set (the
// operator's own choice wins, and the runtime has read it already) or no limit is
// given. A limit that is not a whole number of bytes, or a ratio outside (0, 1], is
// an error that names the setting.
func goMemoryLimit(gomemlimit, containerLimit string, ratio float64) (int64, error) {
	if gomemlimit != "" || strings.TrimSpace(containerLimit) == "" {
		return 0, nil
	}
	if !(ratio > 0 && ratio <= 1) {
		return 0, fmt.Errorf("--go-memory-limit-ratio=%v: must be more than 0 and at most 1", ratio)
	}
	limit, err := strconv.ParseInt(strings.TrimSpace(containerLimit), 10, 64)
	if err != nil || limit <= 0 {
		return 0, fmt.Errorf("MEMORY_LIMIT=%q: want the container's memory limit in bytes (the downward API's limits.memory)", containerLimit)
	}
	return int64(math.Floor(float64(limit) * ratio)), nil
}

// defaultGoGCPercent is the heap growth, in percent of the live heap, at which the
// manager's Go runtime collects: 30, where Go's default is 100. The manager's live heap
// is mostly its cache, which only grows with the programs, and its allocations are
// mostly short-lived (decoded watch events, requests and their answers), so collecting
// at 1.3 times the live heap rather than twice costs a few seconds of CPU in a cold
// start at scale S and lowers the peak resident memory by about a third
// (docs/performance.md).
const defaultGoGCPercent = 30

// goGCPercent is the GC percent (runtime/debug.SetGCPercent) the manager sets from
// --go-gc-percent: 0, to leave the runtime's choice, when GOGC is set (the runtime has
// read it already). A percent outside [10, 1000] is an error that names the flag.
func goGCPercent(gogc string, percent int) (int, error) {
	if gogc != "" {
		return 0, nil
	}
	if percent < 10 || percent > 1000 {
		return 0, fmt.Errorf("--go-gc-percent=%d: must be between 10 and 1000", percent)
	}
	return percent, nil
}
