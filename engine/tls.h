/* engine/tls.h — the engine's TLS context: one OpenSSL 3 SSL_CTX built
 * from the tls_* config keys (certificate chain, key, CA for client
 * certificates, TLS 1.2/1.3, ALPN "mqtt" / "http/1.1"), and the memory-BIO
 * glue a connection's stream layer (engine/stream.c) uses: received bytes
 * are offered to the read BIO for the duration of one call, and everything
 * OpenSSL writes goes straight into the connection's wire queue (outq).
 *
 * Threading: gn_tls_ctx_create / destroy run on the controlling thread
 * before the shards start / after they stopped. The SSL_CTX is shared
 * read-only by every shard (OpenSSL 3 makes SSL_new on a shared context
 * thread-safe); each SSL object is used by one shard thread at a time (it
 * moves with its connection on a client-id handoff). */
#ifndef GN_ENGINE_TLS_H
#define GN_ENGINE_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "engine/config.h"

typedef struct gn_tls_ctx gn_tls_ctx;

/* Build the context from cfg (tls_cert_file, tls_key_file, tls_ca_file,
 * tls_client_cert, tls_min_version, tls_ciphers, tls_ciphersuites).
 * Returns NULL with err filled when a file cannot be loaded, the key does
 * not match the certificate or a cipher list selects nothing. */
gn_tls_ctx *gn_tls_ctx_create(const gn_config *cfg, char *err, size_t errlen);
void gn_tls_ctx_destroy(gn_tls_ctx *t);
/* One line for the start-up log (versions, client certificate policy). */
const char *gn_tls_ctx_describe(const gn_tls_ctx *t);

/* Where client certificates are verified: for every handshake, once the
 * ClientHello is read (server_name: its SNI, or NULL), fn returns the
 * store to verify against, or NULL for the context's own (tls_ca_file).
 * The store need only live until fn's caller returns (the SSL takes a
 * reference). Platform mode: the orgs' uploaded CAs (S-036). Set on the
 * controlling thread before the shards run; fn runs on shard threads. */
typedef X509_STORE *(*gn_tls_trust_fn)(void *ctx, const char *server_name);
void gn_tls_ctx_set_trust(gn_tls_ctx *t, gn_tls_trust_fn fn, void *ctx);

/* After the handshake: verify the client certificate the handshake
 * verified (and the chain it sent) again against store, for the TLS
 * client purpose: X509_V_OK, an X509_V_ERR_* code, or -1 when there is no
 * verified client certificate. */
int gn_tls_peer_verify(SSL *ssl, X509_STORE *store);

/* What the read BIO hands to OpenSSL: the bytes of the receive completion
 * being processed (valid only during gn_stream_on_bytes). */
typedef struct gn_tls_rx {
    const uint8_t *p;
    size_t         n;
} gn_tls_rx;

/* A server-side SSL for one connection. rx feeds its read BIO; every byte
 * it writes is passed to wr(wr_ctx, data, len), which returns 0 or -1 (out
 * of memory: the SSL call then fails). alpn: negotiate ALPN (the alpn_port
 * listener) or ignore the client's offer. NULL on allocation failure. */
typedef int (*gn_tls_write_fn)(void *wr_ctx, const uint8_t *data, size_t len);
SSL *gn_tls_new(gn_tls_ctx *t, gn_tls_rx *rx, gn_tls_write_fn wr, void *wr_ctx, bool alpn);

/* Why a handshake failed, for logs and the platform's close codes
 * (163 handshake, 169 certificate missing, 170 certificate not valid). */
typedef enum gn_tls_fail {
    GN_TLS_OK = 0,
    GN_TLS_FAIL_HANDSHAKE,      /* not TLS, wrong version, no shared cipher, ... */
    GN_TLS_FAIL_CERT_MISSING,   /* tls_client_cert required and none was sent */
    GN_TLS_FAIL_CERT_INVALID,   /* a client certificate failed verification */
} gn_tls_fail;

/* Classify the failure of the last handshake call on ssl. */
gn_tls_fail gn_tls_classify_failure(SSL *ssl);
/* Name of a failure class ("certificate missing", ...). */
const char *gn_tls_fail_name(gn_tls_fail f);

/* After the handshake: the peer certificate's common name into out (""
 * when there is none); true when ALPN picked "http/1.1" (WebSockets) — or,
 * with no ALPN offered, when alpn_default says websockets. */
void gn_tls_peer_cn(SSL *ssl, char *out, size_t outlen);
bool gn_tls_alpn_is_http(SSL *ssl, bool default_ws);
/* After the handshake: the verified peer certificate's first
 * subjectAltName email into out ("" when there is none or it does not
 * fit), for the platform's SAN identity email:d:{typeId}:{deviceId}. */
void gn_tls_peer_email(SSL *ssl, char *out, size_t outlen);

#endif
