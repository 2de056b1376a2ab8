/* engine/tls.c — the engine's SSL_CTX (certificates, client-certificate
 * policy, versions, ALPN) and the two BIO methods that put OpenSSL on the
 * io_uring path without sockets: the read BIO serves the bytes of the
 * receive completion being processed (OpenSSL keeps a partial record in
 * its own buffer, so nothing is copied here), the write BIO appends to the
 * connection's wire queue. SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record
 * buffers while a connection is idle. */
#include "engine/tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

struct gn_tls_ctx {
    SSL_CTX        *ctx;
    gn_tls_trust_fn trust;          /* NULL: the tls_ca_file store for everyone */
    void           *trust_ctx;
    char            desc[160];
};

static BIO_METHOD *rx_method, *tx_method;
static int alpn_idx = -1;           /* SSL ex_data: non-NULL = negotiate ALPN */
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int rx_read(BIO *b, char *out, int outl)
{
    gn_tls_rx *rx = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (!rx->n) {
        BIO_set_retry_read(b);
        return -1;
    }
    size_t n = rx->n < (size_t)outl ? rx->n : (size_t)outl;
    memcpy(out, rx->p, n);
    rx->p += n;
    rx->n -= n;
    return (int)n;
}

typedef struct tx_state {
    gn_tls_write_fn fn;
    void           *ctx;
} tx_state;

static int tx_write(BIO *b, const char *in, int inl)
{
    tx_state *tx = BIO_get_data(b);
    BIO_clear_retry_flags(b);
    if (inl <= 0)
        return 0;
    return tx->fn(tx->ctx, (const uint8_t *)in, (size_t)inl) == 0 ? inl : -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
    (void)b; (void)num; (void)ptr;
    switch (cmd) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
    case BIO_CTRL_WPENDING:
        return 0;
    default:
        return 0;
    }
}

static int tx_destroy(BIO *b)
{
    free(BIO_get_data(b));
    BIO_set_data(b, NULL);
    return 1;
}

static void init_once(void)
{
    rx_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gannet-rx");
    tx_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "gannet-tx");
    if (rx_method) {
        BIO_meth_set_read(rx_method, rx_read);
        BIO_meth_set_ctrl(rx_method, bio_ctrl);
    }
    if (tx_method) {
        BIO_meth_set_write(tx_method, tx_write);
        BIO_meth_set_ctrl(tx_method, bio_ctrl);
        BIO_meth_set_destroy(tx_method, tx_destroy);
    }
    alpn_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* ALPN on the alpn_port listener: "mqtt" (raw MQTT) preferred over
 * "http/1.1" (WebSockets); other listeners do not acknowledge ALPN. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                       const unsigned char *in, unsigned inlen, void *arg)
{
    (void)arg;
    if (!SSL_get_ex_data(ssl, alpn_idx))
        return SSL_TLSEXT_ERR_NOACK;
    static const unsigned char ours[] = "\x04mqtt\x08http/1.1";
    unsigned char *sel = NULL;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof ours - 1, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;     /* offered ALPN, none of ours */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* Called for every ClientHello, with or without a server name, before
 * the client's certificate is verified: the trust hook picks the store
 * that verification uses (an org's own CAs, S-036). */
static int servername_cb(SSL *ssl, int *alert, void *arg)
{
    (void)alert;
    const gn_tls_ctx *t = arg;
    if (t->trust) {
        X509_STORE *st = t->trust(t->trust_ctx, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
        if (st)
            SSL_set1_verify_cert_store(ssl, st);
    }
    return SSL_TLSEXT_ERR_NOACK;       /* what OpenSSL does without a callback */
}

void gn_tls_ctx_set_trust(gn_tls_ctx *t, gn_tls_trust_fn fn, void *ctx)
{
    t->trust = fn;
    t->trust_ctx = ctx;
}

int gn_tls_peer_verify(SSL *ssl, X509_STORE *store)
{
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return -1;
    X509_STORE_CTX *vc = X509_STORE_CTX_new();
    if (!vc)
        return X509_V_ERR_OUT_OF_MEM;
    int rc = X509_V_ERR_UNSPECIFIED;
    if (X509_STORE_CTX_init(vc, store, peer, SSL_get_peer_cert_chain(ssl)) == 1) {
        X509_STORE_CTX_set_purpose(vc, X509_PURPOSE_SSL_CLIENT);
        int ok = X509_verify_cert(vc);
        rc = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(vc);
        if (ok != 1 && rc == X509_V_OK)
            rc = X509_V_ERR_UNSPECIFIED;    /* failed without saying why */
    }
    X509_STORE_CTX_free(vc);
    ERR_clear_error();
    return rc;
}

static void ssl_err(char *err, size_t errlen, const char *what, const char *path)
{
    char buf[200];
    unsigned long e = ERR_get_error();
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    snprintf(err, errlen, "%s %s: %s", what, path, e ? buf : "failed");
}

gn_tls_ctx *gn_tls_ctx_create(const gn_config *cfg, char *err, size_t errlen)
{
    pthread_once(&once, init_once);
    if (!rx_method || !tx_method || alpn_idx < 0) {
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    gn_tls_ctx *t = calloc(1, sizeof *t);
    SSL_CTX *ctx = t ? SSL_CTX_new(TLS_server_method()) : NULL;
    if (!ctx) {
        free(t);
        snprintf(err, errlen, "TLS: out of memory");
        return NULL;
    }
    t->ctx = ctx;
    SSL_CTX_set_min_proto_version(ctx, cfg->tls_min_version == 13 ? TLS1_3_VERSION : TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* TLS 1.3 tickets are issued once the client is on its owner shard
     * (gn_stream), not inside the handshake: see docs/ARCHITECTURE.md. */
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"gannet", 6);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    SSL_CTX_set_tlsext_servername_callback(ctx, servername_cb);
    SSL_CTX_set_tlsext_servername_arg(ctx, t);
    if (cfg->tls_ciphers[0] && SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1) {
        ssl_err(err, errlen, "TLS: tls_ciphers", cfg->tls_ciphers);
        goto fail;
    }
    if (cfg->tls_ciphersuites[0] && SSL_CTX_set_ciphersuites(ctx, cfg->tls_ciphersuites) != 1) {
        ssl_err(err, errlen, "TLS: tls_ciphersuites", cfg->tls_ciphersuites);
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert_file) != 1) {
        ssl_err(err, errlen, "TLS: tls_cert_file", cfg->tls_cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key_file, SSL_FILETYPE_PEM) != 1) {
        ssl_err(err, errlen, "TLS: tls_key_file", cfg->tls_key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        ssl_err(err, errlen, "TLS: tls_key_file does not match tls_cert_file", cfg->tls_key_file);
        goto fail;
    }
    if (cfg->tls_ca_file[0]) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca_file, NULL) != 1) {
            ssl_err(err, errlen, "TLS: tls_ca_file", cfg->tls_ca_file);
            goto fail;
        }
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->tls_ca_file);
        if (names)
            SSL_CTX_set_client_CA_list(ctx, names);
    }
    int mode = SSL_VERIFY_NONE;
    if (cfg->tls_client_cert == GN_TLS_CERT_OPTIONAL)
        mode = SSL_VERIFY_PEER;
    else if (cfg->tls_client_cert == GN_TLS_CERT_REQUIRED)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_verify_depth(ctx, 8);
    static const char *const policy[] = { "not requested", "optional", "required" };
    snprintf(t->desc, sizeof t->desc, "OpenSSL %s, TLS %s..1.3, memory BIOs, client certificates %s",
             OpenSSL_version(OPENSSL_VERSION_STRING), cfg->tls_min_version == 13 ? "1.3" : "1.2",
             policy[cfg->tls_client_cert <= 2 ? cfg->tls_client_cert : 0]);
    return t;
fail:
    gn_tls_ctx_destroy(t);
    return NULL;
}

void gn_tls_ctx_destroy(gn_tls_ctx *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    free(t);
}

const char *gn_tls_ctx_describe(const gn_tls_ctx *t)
{
    return t->desc;
}

SSL *gn_tls_new(gn_tls_ctx *t, gn_tls_rx *rx, gn_tls_write_fn wr, void *wr_ctx, bool alpn)
{
    SSL *ssl = SSL_new(t->ctx);
    BIO *rb = ssl ? BIO_new(rx_method) : NULL;
    BIO *wb = rb ? BIO_new(tx_method) : NULL;
    tx_state *tx = wb ? malloc(sizeof *tx) : NULL;
    if (!tx) {
        BIO_free(wb);
        BIO_free(rb);
        SSL_free(ssl);
        return NULL;
    }
    tx->fn = wr;
    tx->ctx = wr_ctx;
    BIO_set_data(rb, rx);
    BIO_set_init(rb, 1);
    BIO_set_data(wb, tx);
    BIO_set_init(wb, 1);
    SSL_set_bio(ssl, rb, wb);
    SSL_set_accept_state(ssl);
    if (alpn)
        SSL_set_ex_data(ssl, alpn_idx, (void *)1);
    return ssl;
}

gn_tls_fail gn_tls_classify_failure(SSL *ssl)
{
    gn_tls_fail f = GN_TLS_FAIL_HANDSHAKE;
    unsigned long e;
    while ((e = ERR_get_error()) != 0) {
        int reason = ERR_GET_REASON(e);
        if (reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
            f = GN_TLS_FAIL_CERT_MISSING;
        else if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED && f == GN_TLS_FAIL_HANDSHAKE)
            f = GN_TLS_FAIL_CERT_INVALID;
    }
    if (f == GN_TLS_FAIL_HANDSHAKE && SSL_get_verify_result(ssl) != X509_V_OK)
        f = GN_TLS_FAIL_CERT_INVALID;
    return f;
}

const char *gn_tls_fail_name(gn_tls_fail f)
{
    switch (f) {
    case GN_TLS_OK: return "ok";
    case GN_TLS_FAIL_HANDSHAKE: return "handshake failed";
    case GN_TLS_FAIL_CERT_MISSING: return "client certificate missing";
    case GN_TLS_FAIL_CERT_INVALID: return "client certificate not valid";
    }
    return "?";
}

void gn_tls_peer_cn(SSL *ssl, char *out, size_t outlen)
{
    out[0] = '\0';
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return;
    int n = X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, out, (int)outlen);
    if (n < 0)
        out[0] = '\0';
}

void gn_tls_peer_email(SSL *ssl, char *out, size_t outlen)
{
    out[0] = '\0';
    X509 *peer = SSL_get0_peer_certificate(ssl);
    if (!peer || SSL_get_verify_result(ssl) != X509_V_OK)
        return;
    GENERAL_NAMES *names = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_EMAIL)
            continue;
        const unsigned char *p = ASN1_STRING_get0_data(g->d.rfc822Name);
        int n = ASN1_STRING_length(g->d.rfc822Name);
        if (n > 0 && (size_t)n < outlen && !memchr(p, 0, (size_t)n)) {
            memcpy(out, p, (size_t)n);
            out[n] = '\0';
        }
        break;
    }
    GENERAL_NAMES_free(names);
}

bool gn_tls_alpn_is_http(SSL *ssl, bool default_ws)
{
    const unsigned char *p = NULL;
    unsigned n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    if (!n)
        return default_ws;
    return n == 8 && memcmp(p, "http/1.1", 8) == 0;
}
