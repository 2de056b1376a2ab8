/* bench/loadgen/storm.c — connect / CONNACK / close cycles for the storm mode. */
#include "bench/loadgen/storm.h"

#include "bench/loadgen/conn.h"
#include "bench/loadgen/ident.h"

void gl_storm_begin(gl_worker *w, gl_conn *c, uint64_t now)
{
    c->t_start_ns = now;
    if (gl_conn_open(w, c) != GL_OK) {
        w->connect_failures++;
        c->state = GL_CS_FREE;      /* retried on the next loop turn */
    }
}

gl_status gl_storm_send_connect(gl_worker *w, gl_conn *c)
{
    uint8_t buf[1024];
    size_t len;
    uint64_t attempt = w->storm_seq++ * w->o->threads + w->index;
    gl_status s = gl_ident_connect(w->o, w->sh->idents, attempt, w->index, buf, sizeof buf, &len);
    if (s != GL_OK)
        return s;
    return gl_conn_put(c, buf, len);
}

void gl_storm_done(gl_worker *w, gl_conn *c, uint64_t now, int phase)
{
    w->connects++;
    gl_hist_record(&w->lat, now - c->t_start_ns);
    /* Close with RST (no DISCONNECT: a network close, the cheapest for both
     * sides): neither side keeps TIME_WAIT, so ephemeral ports never run out. */
    gl_conn_close(c, true, GL_CS_FREE);
    if (phase == GL_PHASE_RUN)
        gl_storm_begin(w, c, now);
}

void gl_storm_failed(gl_worker *w, gl_conn *c, uint64_t now, int phase)
{
    w->connect_failures++;
    gl_conn_close(c, true, GL_CS_FREE);
    if (phase == GL_PHASE_RUN)
        gl_storm_begin(w, c, now);
}
