//go:build unix

package bottest

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// MachineCPU returns the processor time every process of this machine has
// used since boot, summed over its processors (Linux's /proc/stat: user,
// nice, system, irq and softirq; not idle, I/O wait or time stolen by the
// hypervisor). A benchmark whose load generator, bot and database share
// the machine reads it before and after a run for the processor time the
// run cost in all. ok is false where /proc/stat cannot be read.
func MachineCPU() (busy time.Duration, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return 0, false
	}
	fields := strings.Fields(sc.Text())
	// cpu user nice system idle iowait irq softirq steal ...
	if len(fields) < 8 || fields[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for _, i := range []int{1, 2, 3, 6, 7} {
		n, err := strconv.ParseInt(fields[i], 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	// USER_HZ is 100 on every Linux architecture Go supports.
	return time.Duration(ticks) * (time.Second / 100), true
}

// ProcessCPU returns the processor time this process has used (user and
// system): in a benchmark, the load generator and the bot together; the
// rest of MachineCPU's is mostly the database's.
func ProcessCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
