/* bench/loadgen/report.h — the outcome of one gnload run and its printing
 * as one JSON line or a short text block.
 *
 * Filled and printed by the main thread after the workers are joined. */
#ifndef GL_REPORT_H
#define GL_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench/loadgen/hist.h"
#include "bench/loadgen/opts.h"

#define GL_MAX_SHARES 64

typedef struct gl_result {
    bool        ok;
    char        error[200];
    uint64_t    sent, acked, rejected;
    uint64_t    received, unique, expected, lost, duplicates, foreign;
    double      send_secs;        /* RUN phase length */
    double      recv_secs;        /* RUN start to the last new delivery */
    double      drain_secs;
    double      sent_per_s, received_per_s;
    gl_hist     lat;              /* ns; storm: connect latency */
    double      loadgen_cpu;      /* fraction of one core during RUN */
    double      broker_cpu;       /* < 0: unknown */
    bool        have_rss;
    uint64_t    rss_before, rss_after;
    double      bytes_per_conn;   /* idle */
    uint32_t    conns_ready, conns_failed;
    uint32_t    nshares;          /* shared mode: subscribers' own counts (the first GL_MAX_SHARES) */
    uint64_t    shares[GL_MAX_SHARES];
    double      share_dev;        /* shared mode: largest |share - mean| / mean */
    uint64_t    connects, connect_failures, disconnects, protocol_errors;
    double      connects_per_s;
} gl_result;

void gl_report_json(FILE *f, const gl_opts *o, const gl_result *r);
void gl_report_text(FILE *f, const gl_opts *o, const gl_result *r);

#endif
