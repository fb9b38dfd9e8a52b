//go:build race

package classify

// raceEnabled: under the race detector the figures' tests, which only
// train and count, are left to .ci/run's run without it.
const raceEnabled = true
