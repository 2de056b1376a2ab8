/* engine/consumer_sched.c — gn_thread_set_slice: the calling thread's
 * EEVDF time slice (Linux >= 6.12 reads sched_attr.sched_runtime of a
 * SCHED_OTHER / SCHED_BATCH thread as its requested slice). A thread with a
 * shorter slice gets an earlier virtual deadline, so when it wakes it may
 * preempt a thread with the default slice (~1.4 ms on two CPUs) at once
 * instead of waiting for that thread to block or use up its slice: what a
 * consumer thread sharing a core with its shard needs (docs/PERFORMANCE.md,
 * "Consumers"). Callable from any thread, about itself only. */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/gannet.h"

/* The kernel's struct sched_attr (glibc 2.36 does not declare it). */
struct gn_sched_attr {
    uint32_t size;
    uint32_t sched_policy;
    uint64_t sched_flags;
    int32_t  sched_nice;
    uint32_t sched_priority;
    uint64_t sched_runtime, sched_deadline, sched_period;
    uint32_t sched_util_min, sched_util_max;
};

#define SLICE_MIN_US 100u       /* the kernel clamps to [0.1 ms, 100 ms] */
#define SLICE_MAX_US 100000u

int gn_thread_set_slice(uint32_t slice_us, char *err, size_t errlen)
{
    if (slice_us && (slice_us < SLICE_MIN_US || slice_us > SLICE_MAX_US)) {
        snprintf(err, errlen, "slice %u us: 0 (the default) or %u..%u", slice_us, SLICE_MIN_US,
                 SLICE_MAX_US);
        return -1;
    }
    struct gn_sched_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    if (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) < 0) {
        snprintf(err, errlen, "sched_getattr: %s", strerror(errno));
        return -1;
    }
    if (a.sched_policy != SCHED_OTHER && a.sched_policy != SCHED_BATCH) {
        snprintf(err, errlen, "slice: the thread is not SCHED_OTHER / SCHED_BATCH (policy %u)",
                 a.sched_policy);
        return -1;
    }
    a.size = sizeof a;
    a.sched_flags = 0;      /* keep nice (sched_nice is the current value) */
    a.sched_runtime = (uint64_t)slice_us * 1000u;
    if (syscall(SYS_sched_setattr, 0, &a, 0) < 0) {
        snprintf(err, errlen, "sched_setattr: %s", strerror(errno));
        return -1;
    }
    /* A kernel before 6.12 accepts and ignores sched_runtime for fair
     * threads; it then reports 0 back. */
    memset(&a, 0, sizeof a);
    if (slice_us && (syscall(SYS_sched_getattr, 0, &a, sizeof a, 0) < 0 ||
                     a.sched_runtime != (uint64_t)slice_us * 1000u)) {
        snprintf(err, errlen, "slice: this kernel has no per-thread slices (Linux >= 6.12)");
        return -1;
    }
    return 0;
}
