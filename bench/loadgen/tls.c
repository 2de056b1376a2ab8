/* bench/loadgen/tls.c — the TLS client mode of gnload (see tls.h). The
 * buffer a retried SSL_write sees may have moved (the outbound queue
 * compacts), hence SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER; partial writes are
 * allowed so the send accounting stays byte-exact. */
#include "bench/loadgen/tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static SSL_CTX *ctx;
static const gl_opts *ctx_opts;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_ctx(void)
{
    const gl_opts *o = ctx_opts;
    SSL_CTX *x = SSL_CTX_new(TLS_client_method());
    if (!x)
        return;
    SSL_CTX_set_mode(x, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_min_proto_version(x, TLS1_2_VERSION);
    if (o->tls_version == 12)
        SSL_CTX_set_max_proto_version(x, TLS1_2_VERSION);
    if (o->tls_ca) {
        if (SSL_CTX_load_verify_locations(x, o->tls_ca, NULL) != 1) {
            fprintf(stderr, "gnload: --cafile %s: cannot load\n", o->tls_ca);
            SSL_CTX_free(x);
            return;
        }
        SSL_CTX_set_verify(x, SSL_VERIFY_PEER, NULL);
    }
    if (o->tls_cert && (SSL_CTX_use_certificate_chain_file(x, o->tls_cert) != 1 ||
                        SSL_CTX_use_PrivateKey_file(x, o->tls_key ? o->tls_key : o->tls_cert,
                                                    SSL_FILETYPE_PEM) != 1)) {
        fprintf(stderr, "gnload: --cert/--key: cannot load %s\n", o->tls_cert);
        SSL_CTX_free(x);
        return;
    }
    ctx = x;
}

gl_status gl_tls_attach(const gl_opts *o, gl_conn *c)
{
    ctx_opts = o;
    pthread_once(&once, build_ctx);
    if (!ctx)
        return GL_ERR_USAGE;
    SSL *s = SSL_new(ctx);
    if (!s)
        return GL_ERR_NOMEM;
    SSL_set_fd(s, c->fd);
    SSL_set_connect_state(s);
    SSL_set_tlsext_host_name(s, o->host);
    c->ssl = s;
    return GL_OK;
}

/* errno for a failed SSL call; -1 returned by the callers. */
static void set_errno(SSL *s, int r)
{
    int e = SSL_get_error(s, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
        errno = EAGAIN;
    else if (e == SSL_ERROR_ZERO_RETURN)
        errno = 0;
    else
        errno = e == SSL_ERROR_SYSCALL && errno ? errno : ECONNRESET;
    ERR_clear_error();
}

ssize_t gl_tls_send(gl_conn *c, const void *p, size_t n)
{
    int r = SSL_write(c->ssl, p, n > (size_t)1 << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    set_errno(c->ssl, r);
    return -1;
}

ssize_t gl_tls_recv(gl_conn *c, void *p, size_t n)
{
    int r = SSL_read(c->ssl, p, n > (size_t)1 << 30 ? 1 << 30 : (int)n);
    if (r > 0)
        return r;
    set_errno(c->ssl, r);
    if (errno == 0)
        return 0;       /* close_notify */
    return -1;
}

void gl_tls_detach(gl_conn *c)
{
    if (c->ssl) {
        SSL_free(c->ssl);
        c->ssl = NULL;
    }
}
