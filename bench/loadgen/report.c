/* bench/loadgen/report.c — printing a gl_result (JSON line or text). */
#include "bench/loadgen/report.h"

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

void gl_report_json(FILE *f, const gl_opts *o, const gl_result *r)
{
    fprintf(f, "{\"tool\":\"gnload\",\"ok\":%s,\"mode\":\"%s\",\"protocol\":%u,\"qos\":%u,"
               "\"pubs\":%u,\"subs\":%u,\"conns\":%u,\"threads\":%u,\"payload\":%u,"
               "\"rate\":%llu,\"seconds\":%.3f,",
            r->ok ? "true" : "false", gl_mode_name(o->mode), o->protocol, o->qos,
            o->pubs, o->subs, o->conns, o->threads, o->payload,
            (unsigned long long)o->rate, r->send_secs);
    if (!r->ok) {
        fputs("\"error\":", f);
        json_str(f, r->error);
        fputc(',', f);
    }
    fprintf(f, "\"sent\":%llu,\"acked\":%llu,\"rejected\":%llu,\"received\":%llu,"
               "\"unique\":%llu,\"expected\":%llu,\"lost\":%llu,\"duplicates\":%llu,"
               "\"foreign\":%llu,",
            (unsigned long long)r->sent, (unsigned long long)r->acked,
            (unsigned long long)r->rejected, (unsigned long long)r->received,
            (unsigned long long)r->unique, (unsigned long long)r->expected,
            (unsigned long long)r->lost, (unsigned long long)r->duplicates,
            (unsigned long long)r->foreign);
    fprintf(f, "\"sent_per_s\":%.1f,\"received_per_s\":%.1f,\"recv_seconds\":%.3f,"
               "\"drain_seconds\":%.3f,",
            r->sent_per_s, r->received_per_s, r->recv_secs, r->drain_secs);
    fprintf(f, "\"lat_count\":%llu,\"lat_p50_us\":%.1f,\"lat_p90_us\":%.1f,"
               "\"lat_p99_us\":%.1f,\"lat_max_us\":%.1f,",
            (unsigned long long)r->lat.count, us(gl_hist_quantile(&r->lat, 0.50)),
            us(gl_hist_quantile(&r->lat, 0.90)), us(gl_hist_quantile(&r->lat, 0.99)),
            us(r->lat.max));
    fprintf(f, "\"conns_ready\":%u,\"conns_failed\":%u,\"disconnects\":%llu,"
               "\"protocol_errors\":%llu,\"connects\":%llu,\"connect_failures\":%llu,"
               "\"connects_per_s\":%.1f,",
            r->conns_ready, r->conns_failed, (unsigned long long)r->disconnects,
            (unsigned long long)r->protocol_errors, (unsigned long long)r->connects,
            (unsigned long long)r->connect_failures, r->connects_per_s);
    if (r->have_rss)
        fprintf(f, "\"broker_rss_before\":%llu,\"broker_rss_after\":%llu,"
                   "\"bytes_per_conn\":%.1f,",
                (unsigned long long)r->rss_before, (unsigned long long)r->rss_after,
                r->bytes_per_conn);
    if (r->nshares) {
        fputs("\"shares\":[", f);
        for (uint32_t k = 0; k < r->nshares; k++)
            fprintf(f, "%s%llu", k ? "," : "", (unsigned long long)r->shares[k]);
        fprintf(f, "],\"share_dev\":%.4f,", r->share_dev);
    }
    fprintf(f, "\"loadgen_cpu\":%.3f,", r->loadgen_cpu);
    if (r->broker_cpu >= 0.0)
        fprintf(f, "\"broker_cpu\":%.3f}\n", r->broker_cpu);
    else
        fputs("\"broker_cpu\":null}\n", f);
}

void gl_report_text(FILE *f, const gl_opts *o, const gl_result *r)
{
    fprintf(f, "gnload %s: protocol %u, QoS %u, %u pub, %u sub, payload %u B, %.2f s%s%s\n",
            gl_mode_name(o->mode), o->protocol, o->qos, o->pubs, o->subs, o->payload,
            r->send_secs, r->ok ? "" : " -- FAILED: ", r->ok ? "" : r->error);
    if (o->mode == GL_MODE_STORM) {
        fprintf(f, "  connects      %llu (%.0f/s), failures %llu\n",
                (unsigned long long)r->connects, r->connects_per_s,
                (unsigned long long)r->connect_failures);
        fprintf(f, "  connect time  p50 %.1f us  p99 %.1f us  max %.1f us\n",
                us(gl_hist_quantile(&r->lat, 0.5)), us(gl_hist_quantile(&r->lat, 0.99)),
                us(r->lat.max));
    } else if (o->mode == GL_MODE_IDLE) {
        fprintf(f, "  connections   %u ready, %u failed, %llu lost while idle\n",
                r->conns_ready, r->conns_failed, (unsigned long long)r->disconnects);
    } else {
        fprintf(f, "  sent          %llu (%.0f/s), acked %llu, rejected %llu\n",
                (unsigned long long)r->sent, r->sent_per_s,
                (unsigned long long)r->acked, (unsigned long long)r->rejected);
        if (gl_mode_has_subs(o->mode)) {
            fprintf(f, "  received      %llu (%.0f/s unique), expected %llu, lost %llu, duplicates %llu\n",
                    (unsigned long long)r->received, r->received_per_s,
                    (unsigned long long)r->expected, (unsigned long long)r->lost,
                    (unsigned long long)r->duplicates);
            if (r->nshares) {
                fputs("  shares       ", f);
                for (uint32_t k = 0; k < r->nshares; k++)
                    fprintf(f, " %llu", (unsigned long long)r->shares[k]);
                fprintf(f, " (largest deviation from the mean %.1f %%)\n", r->share_dev * 100);
            }
            fprintf(f, "  latency       p50 %.1f us  p90 %.1f us  p99 %.1f us  max %.1f us\n",
                    us(gl_hist_quantile(&r->lat, 0.5)), us(gl_hist_quantile(&r->lat, 0.9)),
                    us(gl_hist_quantile(&r->lat, 0.99)), us(r->lat.max));
        }
    }
    if (r->have_rss)
        fprintf(f, "  broker RSS    %llu -> %llu B (%.1f B per connection)\n",
                (unsigned long long)r->rss_before, (unsigned long long)r->rss_after,
                r->bytes_per_conn);
    fprintf(f, "  cpu           gnload %.2f core", r->loadgen_cpu);
    if (r->broker_cpu >= 0.0)
        fprintf(f, ", broker %.2f core", r->broker_cpu);
    fputc('\n', f);
}
