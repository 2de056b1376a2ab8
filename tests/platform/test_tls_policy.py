"""tests/platform/test_tls_policy.py — an org's TLS policy at CONNECT and
the TLS close codes in platform mode (PLATFORM.md S-003, S-004, S-005,
S-007, S-035 ... S-037, S-110), with paho clients over TLS and plain TCP,
certificates from tools/gannet-certs (tests/engine/tlsenv.py) and the
orgs set up with gannetctl.

Each org has one policy: ORG (abc123) "cert", OTHER_ORG (zzz999) "token",
and three more orgs for "optional", "token+cert" and "cert|token"."""

import os
import ssl
import subprocess

import platform_harness as ph
import tlsenv
from platform_harness import ORG, OTHER_ORG, TOKEN, PlatformTestCase, uid

PORTS = tlsenv.Ports()
OPT_ORG, BOTH_ORG, EITHER_ORG = "opt111", "both22", "eith33"


def cert(cn, san_email=None):
    """A client certificate with this CN (and a subjectAltName email) from
    the tests' CA; its base name. One CN, one certificate."""
    base = "client-" + cn.replace(":", "_")
    if not os.path.exists(tlsenv.path(base + ".crt")):
        opt = ["--san-email", san_email] if san_email else []
        subprocess.run([tlsenv.CERTS_TOOL] + opt + [tlsenv.certs(), "client-cn", cn],
                       check=True, capture_output=True, timeout=60)
        for ext in (".crt", ".key"):
            os.chmod(tlsenv.path(base + ext), 0o644)
    return base


def handshake_fails(ctx):
    try:
        c = tlsenv.tls_raw(PORTS.tls, ctx, timeout=ph.TIMEOUT)
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    try:
        c.send(ph.mqttraw.connect(uid("x")))
        c.expect(ph.mqttraw.CONNACK)
        return False
    except (ph.mqttraw.ConnectionClosed, ssl.SSLError, ConnectionError, OSError):
        return True
    finally:
        c.close()


class TlsPolicyTest(PlatformTestCase):
    org_settings = ("tls_policy=cert",)
    platform_conf = tlsenv.gannetd_conf(PORTS, "optional")

    @classmethod
    def setup(cls):
        cls.reg("org", OTHER_ORG, "tls_policy=token")
        cls.reg("org", OPT_ORG, "tls_policy=optional")
        cls.reg("org", BOTH_ORG, "tls_policy=token+cert")
        cls.reg("org", EITHER_ORG, "tls_policy=cert|token")
        for org in (ORG, OTHER_ORG, OPT_ORG, BOTH_ORG, EITHER_ORG):
            cls.device("tt", "dev1", org=org)
        cls.device("gt", "gw1", "g")
        cls.reg("device", ORG, "tt", "off1", "d", TOKEN)
        cls.reg("disable", "device", ORG, "tt", "off1")

    def tls(self, client_id, cn=None, expect_rc=0, password=TOKEN, ctx=None, **kw):
        ctx = ctx or tlsenv.client_context(cert=cert(cn) if cn else None)
        c = self.paho_as(client_id, port=PORTS.tls, tls=ctx, password=password, connect=False,
                         **kw)
        self.clients.append(c)
        c.connect(expect_rc=expect_rc)
        return c

    # -- S-003: plain TCP only for TLS Optional --------------------------
    def test_S003_plain_refused_unless_tls_optional(self):
        for org in (ORG, OTHER_ORG, BOTH_ORG, EITHER_ORG):
            cid = "d:%s:tt:dev1" % org
            self.plain_as(cid, expect_rc=5)
            self.assert_close_code(cid, 180)
            self.log_mark = len(self.broker.log())
        self.plain_as("d:%s:tt:dev1" % OPT_ORG)

    def test_S035_token_policy_over_tls_with_token(self):
        self.tls("d:%s:tt:dev1" % OTHER_ORG).publish("iot-2/evt/e/fmt/json", b"{}", qos=1)
        cid = "d:%s:tt:dev1" % OTHER_ORG
        self.tls(cid, password="wrong-token", expect_rc=5)
        self.assert_close_code(cid, 180)

    def test_S035_optional_policy_over_tls(self):
        self.tls("d:%s:tt:dev1" % OPT_ORG)

    # -- S-035 / S-036: certificate policies -------------------------------
    def test_S036_cert_policy_cn_is_the_identity_no_token(self):
        self.tls("d:%s:tt:dev1" % ORG, cn="d:tt:dev1", password=None, username=None)
        self.tls("g:%s:gt:gw1" % ORG, cn="g:gt:gw1", password=None, username=None)

    def test_S036_cert_policy_san_email_is_the_identity(self):
        cid = "d:%s:tt:dev1" % ORG
        c = self.paho_as(cid, port=PORTS.tls, username=None, password=None, connect=False,
                         tls=tlsenv.client_context(cert=cert("Sensor dev1", "d:tt:dev1")))
        self.clients.append(c)
        c.connect()
        c.disconnect()
        c2 = self.paho_as(cid, port=PORTS.tls, username=None, password=None, connect=False,
                          tls=tlsenv.client_context(cert=cert("Sensor other", "d:tt:other")))
        self.clients.append(c2)
        c2.connect(expect_rc=5)
        self.close_line(cid, code=170)

    def test_S037_cert_policy_missing_certificate_169(self):
        cid = "d:%s:tt:dev1" % ORG
        self.tls(cid, expect_rc=5)
        self.assert_close_code(cid, 169)

    def test_S037_cert_policy_certificate_of_another_device_170(self):
        cid = "d:%s:tt:dev1" % ORG
        self.tls(cid, cn="d:tt:other", expect_rc=5)
        self.assert_close_code(cid, 170)
        self.log_mark = len(self.broker.log())
        self.tls(cid, cn="g:tt:dev1", expect_rc=5)      # class is part of the identity
        self.assert_close_code(cid, 170)

    def test_S036_cert_policy_device_must_be_registered_and_enabled(self):
        cid = "d:%s:tt:off1" % ORG
        self.tls(cid, cn="d:tt:off1", expect_rc=5)
        self.assert_close_code(cid, 180)
        cid = "d:%s:tt:nobody" % ORG
        self.tls(cid, cn="d:tt:nobody", expect_rc=5)
        self.assert_close_code(cid, 180)

    def test_S007_sni_names_the_org(self):
        ctx = tlsenv.client_context(cert=cert("d:tt:dev1"))
        ctx.check_hostname = False          # the server certificate is for 127.0.0.1
        cid = "d:%s:tt:dev1" % ORG
        raw = tlsenv.TlsRawClient(PORTS.tls, ph.harness.HOST, timeout=ph.TIMEOUT)
        raw.sock = ctx.wrap_socket(raw.sock, server_hostname="%s.messaging.test" % OTHER_ORG)
        self.clients.append(raw)
        raw.mqtt_connect(cid, expect_rc=5, username="use-token-auth", password=TOKEN.encode())
        self.assert_close_code(cid, 170)
        self.log_mark = len(self.broker.log())
        raw = tlsenv.TlsRawClient(PORTS.tls, ph.harness.HOST, timeout=ph.TIMEOUT)
        raw.sock = ctx.wrap_socket(raw.sock, server_hostname="%s.messaging.test" % ORG)
        self.clients.append(raw)
        raw.mqtt_connect(cid, username="use-token-auth", password=TOKEN.encode())

    def test_S035_token_and_cert_needs_both(self):
        cid = "d:%s:tt:dev1" % BOTH_ORG
        self.tls(cid, cn="d:tt:dev1")
        self.tls(cid, cn="d:tt:dev1", password="wrong-token", expect_rc=5)
        self.close_line(cid, code=180)
        self.log_mark = len(self.broker.log())
        self.tls(cid, expect_rc=5)
        self.close_line(cid, code=169)

    def test_S035_cert_or_token_either(self):
        cid = "d:%s:tt:dev1" % EITHER_ORG
        self.tls(cid, cn="d:tt:dev1", password=None, username=None)
        self.tls(cid)
        self.tls(cid, cn="d:tt:else", expect_rc=5)
        self.close_line(cid, code=170)

    def test_S035_applications_keep_api_keys_under_cert_policy(self):
        c = self.paho_app(port=PORTS.tls, tls=tlsenv.client_context(), connect=False)
        self.clients.append(c)
        c.connect()

    # -- S-004 / S-110: Quickstart has no TLS ------------------------------
    def test_S004_quickstart_over_tls_refused(self):
        cid = "d:quickstart:tt:%s" % uid("q")
        c = self.paho(cid, port=PORTS.tls, tls=tlsenv.client_context(), connect=False)
        c.connect(expect_rc=5)
        self.assert_close_code(cid, 180)
        self.paho("d:quickstart:tt:%s" % uid("q"))

    # -- S-005 / S-037: handshake failures ---------------------------------
    def test_S005_failed_handshake_163(self):
        ctx = tlsenv.client_context(max_version=ssl.TLSVersion.TLSv1_1)
        self.assertTrue(handshake_fails(ctx))
        self.close_line("-", code=163)

    def test_S037_invalid_certificate_in_handshake_170(self):
        self.assertTrue(handshake_fails(tlsenv.client_context(cert="client-t1-expired")))
        self.close_line("-", code=170)
        self.log_mark = len(self.broker.log())
        self.assertTrue(handshake_fails(tlsenv.client_context(cert="other/client-t1-stranger")))
        self.close_line("-", code=170)


class TlsRequiredCertListenerTest(PlatformTestCase):
    """tls_client_cert required: a missing certificate fails the handshake, 169."""
    platform_conf = tlsenv.gannetd_conf(PORTS, "required")

    def test_S037_missing_certificate_in_handshake_169(self):
        self.assertTrue(handshake_fails(tlsenv.client_context()))
        self.close_line("-", code=169)


if __name__ == "__main__":
    ph.harness.unittest.main()
