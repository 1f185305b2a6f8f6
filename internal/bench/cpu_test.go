package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// cpuMeter reads the CPU time used by this process (the server runs in
// it) and by the database server, when the database runs on this machine
// and its processes can be read in /proc; else only this process's.
// Unlike a rate, CPU per operation hardly moves when other work shares
// the machine.
type cpuMeter struct {
	postmaster int // 0: the database's CPU is not visible
}

// newCPUMeter finds the database's postmaster: the parent of the
// backend serving a connection of db.
func newCPUMeter(ctx context.Context, db *pgxpool.Pool) cpuMeter {
	var pid int
	if err := db.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		return cpuMeter{}
	}
	f, ok := procStat(pid)
	if !ok {
		return cpuMeter{}
	}
	ppid, _ := strconv.Atoi(f[1])
	return cpuMeter{postmaster: ppid}
}

// procStat is /proc/<pid>/stat's fields after the command name (field 3
// onwards, so f[0] is the state).
func procStat(pid int) ([]string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	return strings.Fields(s[i+1:]), true
}

// ticks converts clock ticks (USER_HZ, 100 on Linux) to a duration.
func ticks(s string) time.Duration {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Duration(n) * 10 * time.Millisecond
}

// read returns this process's CPU time and the database's: the
// postmaster's, its exited children's and its running children's.
func (m cpuMeter) read() (self, db time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if m.postmaster == 0 {
		return self, 0
	}
	pm := strconv.Itoa(m.postmaster)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, ok := procStat(pid)
		if !ok || len(f) < 15 {
			continue
		}
		switch {
		case pid == m.postmaster: // utime, stime, cutime, cstime
			db += ticks(f[11]) + ticks(f[12]) + ticks(f[13]) + ticks(f[14])
		case f[1] == pm:
			db += ticks(f[11]) + ticks(f[12])
		}
	}
	return self, db
}

// machineIdle returns the machine's idle (and I/O wait) time and its total
// CPU time, summed over its CPUs, from /proc/stat: a batch that left the
// CPUs idle part of the time was not limited by CPU.
func machineIdle() (idle, total time.Duration) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	for i := 1; i < len(f) && i <= 8; i++ {
		total += ticks(f[i])
		if i == 4 || i == 5 {
			idle += ticks(f[i])
		}
	}
	return idle, total
}
