/* bench/loadgen/procstat.h — samples of another process (the broker) and of
 * ourselves: resident memory, CPU time, wall clock.
 *
 * Pure readers of /proc and getrusage; any thread. */
#ifndef GL_PROCSTAT_H
#define GL_PROCSTAT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t gl_now_ns(void);

/* VmRSS of pid in bytes; false if unreadable. */
bool gl_proc_rss(pid_t pid, uint64_t *bytes);

/* utime + stime of pid (all threads) in nanoseconds; false if unreadable. */
bool gl_proc_cpu(pid_t pid, uint64_t *ns);

/* user + system CPU of this process (all threads) in nanoseconds. */
uint64_t gl_self_cpu_ns(void);

#endif
