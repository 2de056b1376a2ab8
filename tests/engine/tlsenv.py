"""tests/engine/tlsenv.py — what the TLS and WebSocket integration tests
share: development certificates made once per process with
tools/gannet-certs (a CA, a server certificate for 127.0.0.1, client
certificates good, expired and from a second CA), free ports for the extra
listeners, the broker configuration for gannetd or mosquitto, and TLS
client contexts. Everything lives in one temporary directory removed at
exit."""

import atexit
import os
import shutil
import ssl
import subprocess
import tempfile

import mqttraw
from harness import HOST, free_port

HERE = os.path.dirname(os.path.abspath(__file__))
CERTS_TOOL = os.path.join(HERE, "..", "..", "tools", "gannet-certs", "gannet-certs")

_dir = None


def certs():
    """Directory with ca.crt, server.*, client-t1-good.*, client-t1-expired.*,
    and other/ (a second CA with client-t1-stranger.*)."""
    global _dir
    if _dir is None:
        d = tempfile.mkdtemp(prefix="gannet-certs-")
        atexit.register(shutil.rmtree, d, True)

        def run(*args):
            subprocess.run([CERTS_TOOL] + list(args), check=True, capture_output=True, timeout=60)
        run(d, "server", "127.0.0.1", "localhost")
        run(d, "client", "t1", "good")
        run("--expired", d, "client", "t1", "expired")
        run(os.path.join(d, "other"), "server")
        run(os.path.join(d, "other"), "client", "t1", "stranger")
        for root, _dirs, files in os.walk(d):
            for f in files:
                os.chmod(os.path.join(root, f), 0o644)
        _dir = d
    return _dir


def path(name):
    return os.path.join(certs(), name)


class Ports:
    """Free ports for the extra listeners of one broker."""

    def __init__(self):
        self.tls, self.alpn, self.ws, self.wss = (free_port() for _ in range(4))


def gannetd_conf(ports, client_cert="optional", extra=""):
    return "\n".join([
        "tls_port %d" % ports.tls, "alpn_port %d" % ports.alpn,
        "ws_port %d" % ports.ws, "wss_port %d" % ports.wss,
        "tls_cert_file " + path("server.crt"), "tls_key_file " + path("server.key"),
        "tls_ca_file " + path("ca.crt"), "tls_client_cert " + client_cert, extra, ""])


def mosquitto_conf(ports, require_certificate=False):
    tls = ["cafile " + path("ca.crt"), "certfile " + path("server.crt"),
           "keyfile " + path("server.key")]
    lines = ["listener %d %s" % (ports.tls, HOST)] + tls
    if require_certificate:
        lines.append("require_certificate true")
    # Websockets listeners without an address: Debian's mosquitto 2.0.11
    # (libwebsockets 4.1) fails to start one bound to 127.0.0.1 ("Unable to
    # start any listening sockets").
    lines += ["listener %d" % ports.ws, "protocol websockets"]
    lines += ["listener %d" % ports.wss, "protocol websockets"] + tls
    return "\n".join(lines) + "\n"


def client_context(ca="ca.crt", cert=None, alpn=None, max_version=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(path(ca))
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(path(cert + ".crt"), path(cert + ".key"))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if max_version:
        ctx.maximum_version = max_version
    return ctx


class TlsRawClient(mqttraw.RawClient):
    """RawClient whose reads first drain what the TLS layer already holds
    (select() does not see decrypted bytes buffered in the SSL object)."""

    def _fill(self, deadline):
        if self.sock.pending():
            self.buf += self.sock.recv(65536)
            return
        try:
            super()._fill(deadline)
        except ssl.SSLError as e:
            self.closed = True
            raise mqttraw.ConnectionClosed("TLS error: %s" % e)


def tls_raw(port, ctx=None, version=mqttraw.V311, timeout=10.0, session=None):
    """A mqttraw.RawClient over TLS (the handshake runs here; session:
    an ssl.SSLSession to resume)."""
    c = TlsRawClient(port, HOST, version=version, timeout=timeout)
    c.sock = (ctx or client_context()).wrap_socket(c.sock, server_hostname=HOST, session=session)
    return c
