"""tests/platform/test_tls_type_ca.py — a device type's own TLS policy
(PLATFORM.md S-035: it overrides the org's) and the orgs' own CA
certificates (S-036, S-037: client certificates verified against the CAs
the org uploaded with `gannetctl org ca add`), both changed while gannetd
runs. paho clients over TLS and plain TCP; certificates from
tools/gannet-certs: the listener's tls_ca_file (tlsenv, the global
anchor) and two more CAs, one per org, that gannetd only learns from the
registry."""

import json
import os
import subprocess
import time

import platform_harness as ph
import tlsenv
from platform_harness import ORG, OTHER_ORG, TOKEN, PlatformTestCase

PORTS = tlsenv.Ports()
CA_ORG, CA_OTHER = "caorg1", "caorg2"     # one uploaded CA each


def ca_dir(name):
    """A CA of its own under the tests' certificate directory (made once),
    with client certificates made by client()."""
    d = tlsenv.path(name)
    if not os.path.exists(os.path.join(d, "ca.crt")):
        subprocess.run([tlsenv.CERTS_TOOL, d, "server"], check=True, capture_output=True, timeout=60)
    return d


def client(ca, type_, id_):
    """A client certificate CN d:TYPE:ID issued by CA `ca` (a ca_dir name);
    its base name for tlsenv.client_context."""
    base = os.path.join(ca, "client-%s-%s" % (type_, id_))
    if not os.path.exists(tlsenv.path(base + ".crt")):
        subprocess.run([tlsenv.CERTS_TOOL, ca_dir(ca), "client", type_, id_], check=True,
                       capture_output=True, timeout=60)
    for ext in (".crt", ".key"):
        os.chmod(tlsenv.path(base + ext), 0o644)
    return base


class TlsTypeCaTest(PlatformTestCase):
    """ORG: tls_policy token, type `secure` cert (stricter), type `plain`
    token (the org's). OTHER_ORG: tls_policy cert, type `legacy` optional
    (laxer), type `tt` the org's. CA_ORG / CA_OTHER: policy cert, each
    with its own CA uploaded during the tests."""
    org_settings = ("tls_policy=token",)
    platform_conf = tlsenv.gannetd_conf(PORTS, "optional")

    @classmethod
    def setup(cls):
        cls.reg("org", OTHER_ORG, "tls_policy=cert")
        for org in (CA_ORG, CA_OTHER):
            cls.reg("org", org, "tls_policy=cert")
            cls.device("tt", "dev1", org=org)
        cls.device("secure", "s1")
        cls.device("plain", "p1")
        cls.device("legacy", "l1", org=OTHER_ORG)
        cls.device("tt", "t1", org=OTHER_ORG)
        ph.gannetctl(cls.db, "type", "set", ORG, "secure", "tls_policy", "cert")
        ph.gannetctl(cls.db, "type", "set", OTHER_ORG, "legacy", "tls_policy", "optional")
        for ca in ("ca-one", "ca-two"):
            ca_dir(ca)

    def tls(self, client_id, cert=None, expect_rc=0, password=TOKEN, **kw):
        kw.setdefault("username", "use-token-auth" if password else None)
        c = self.paho_as(client_id, port=PORTS.tls, tls=tlsenv.client_context(cert=cert),
                         password=password, connect=False, **kw)
        c.connect(expect_rc=expect_rc)
        return c

    def handshake_fails(self, cert, server_name=None):
        """Does a TLS handshake (and CONNECT) with this client certificate
        and server name fail? Its close line is "client=-"."""
        ctx = tlsenv.client_context(cert=cert)
        ctx.check_hostname = server_name is None    # the server certificate is for 127.0.0.1
        raw = tlsenv.TlsRawClient(PORTS.tls, ph.harness.HOST, timeout=ph.TIMEOUT)
        self.clients.append(raw)
        try:
            raw.sock = ctx.wrap_socket(raw.sock, server_hostname=server_name or ph.harness.HOST)
            raw.mqtt_connect("d:%s:tt:dev1" % CA_ORG)
        except (ph.mqttraw.ConnectionClosed, OSError):
            return True
        return False

    def mark(self):
        self.log_mark = len(self.broker.log())

    # -- S-035: a type's policy overrides its org's ------------------------
    def test_S035_type_stricter_than_org(self):
        self.tls("d:%s:plain:p1" % ORG)                         # the org's token policy
        cid = "d:%s:secure:s1" % ORG
        self.tls(cid, expect_rc=5)                              # token only: no certificate
        self.assert_close_code(cid, 169)
        self.mark()
        self.plain_as(cid, expect_rc=5)
        self.assert_close_code(cid, 180)
        self.assertTrue(self.handshake_fails(client("ca-one", "secure", "s1")))  # nobody's CA
        self.close_line("-", code=170)
        self.tls(cid, cert=tlsenv_client("secure", "s1"), password=None)   # global anchor

    def test_S035_type_laxer_than_org(self):
        cid = "d:%s:legacy:l1" % OTHER_ORG
        self.plain_as(cid)                                         # optional: plain TCP, token
        self.tls(cid)
        other = "d:%s:tt:t1" % OTHER_ORG
        self.plain_as(other, expect_rc=5)
        self.assert_close_code(other, 180)
        self.mark()
        self.tls(other, expect_rc=5)
        self.assert_close_code(other, 169)

    def test_S035_type_policy_changes_live(self):
        cid = "d:%s:plain:p1" % ORG
        self.tls(cid)
        self.registered("type-set", ORG, "plain", "cert")
        try:
            self.tls(cid, expect_rc=5)
            self.assert_close_code(cid, 169)
            self.registered("type-set", ORG, "plain", "optional")
            self.plain_as(cid)
        finally:
            self.registered("type-set", ORG, "plain", "org")
        self.mark()
        self.plain_as(cid, expect_rc=5)                            # the org's token policy again
        self.assert_close_code(cid, 180)

    # -- S-036 / S-037: the org's own CAs ----------------------------------
    def test_S036_org_ca_upload_live_and_other_orgs_ca_refused_170(self):
        one, two = client("ca-one", "tt", "dev1"), client("ca-two", "tt", "dev1")
        cid, cid2 = "d:%s:tt:dev1" % CA_ORG, "d:%s:tt:dev1" % CA_OTHER
        # before the upload: ca-one is nobody's, the handshake refuses it
        self.assertTrue(self.handshake_fails(one))
        self.close_line("-", code=170)
        self.registered("ca-add", CA_ORG, os.path.join(ca_dir("ca-one"), "ca.crt"))
        self.registered("ca-add", CA_OTHER, os.path.join(ca_dir("ca-two"), "ca.crt"))
        try:
            self.tls(cid, cert=one, password=None)              # no restart needed
            self.tls(cid2, cert=two, password=None)
            self.mark()
            self.tls(cid, cert=two, password=None, expect_rc=5)   # org B's CA for org A
            self.assert_close_code(cid, 170)
            self.assertIn("refused: the client certificate is not issued by a CA of this "
                          "organization (close 170)", self.broker.log()[self.log_mark:])
            self.mark()
            self.tls(cid2, cert=one, password=None, expect_rc=5)
            self.assert_close_code(cid2, 170)
            self.mark()
            # an org without CAs of its own trusts tls_ca_file only
            self.device("tt", "x1", org=OTHER_ORG)
            time.sleep(0.4 * ph.harness.SCALE)
            ocid = "d:%s:tt:x1" % OTHER_ORG
            self.tls(ocid, cert=client("ca-one", "tt", "x1"), password=None, expect_rc=5)
            self.assert_close_code(ocid, 170)
            # the global anchor (tls_ca_file) stays valid for every org
            self.tls(cid, cert=tlsenv_client("tt", "dev1"), password=None)
            # SNI naming the org: the handshake itself uses that org's store
            self.mark()
            self.assertTrue(self.handshake_fails(two, "%s.messaging.test" % CA_ORG))
            self.close_line("-", code=170)
            self.assertFalse(self.handshake_fails(one, "%s.messaging.test" % CA_ORG))
        finally:
            for org in (CA_ORG, CA_OTHER):
                for fp in ca_fingerprints(self.db, org):
                    self.registered("ca-remove", org, fp)
        self.mark()
        self.assertTrue(self.handshake_fails(one))              # removed: refused again
        self.close_line("-", code=170)

    def test_S035_S036_connected_clients_rechecked_on_change(self):
        """A stricter type policy, or the removal of the CA a connected
        device's certificate chains to, disconnects it with the code its
        next CONNECT would get; a laxer one leaves everyone connected."""
        self.device("tt", "r1", org=CA_ORG)
        self.device("tt", "r2", org=CA_ORG)
        self.registered("ca-add", CA_ORG, os.path.join(ca_dir("ca-one"), "ca.crt"))
        by_token = self.tls("d:%s:plain:p1" % ORG)
        by_cert = self.tls("d:%s:tt:r1" % CA_ORG, cert=client("ca-one", "tt", "r1"), password=None)
        by_anchor = self.tls("d:%s:tt:r2" % CA_ORG, cert=tlsenv_client("tt", "r2"), password=None)
        try:
            self.registered("type-set", ORG, "plain", "optional")       # laxer: nobody leaves
            self.assertTrue(by_token.disconnects.empty())
            self.registered("type-set", ORG, "plain", "cert")
            self.assert_close_code("d:%s:plain:p1" % ORG, 169)
            self.assertTrue(by_cert.disconnects.empty())
            for fp in ca_fingerprints(self.db, CA_ORG):
                self.registered("ca-remove", CA_ORG, fp)
            self.assert_close_code("d:%s:tt:r1" % CA_ORG, 170)
            self.assertIn("d:%s:tt:r1 no longer meets its TLS policy or CAs (close 170)" % CA_ORG,
                          self.broker.log()[self.log_mark:])
            self.assertTrue(by_anchor.disconnects.empty())     # tls_ca_file still holds
            # the org's own policy: its token devices leave, its cert devices stay
            self.registered("type-set", ORG, "plain", "org")
            self.mark()
            again = self.tls("d:%s:plain:p1" % ORG)
            self.registered("org-set", CA_ORG, "token+cert")
            self.assertTrue(by_anchor.disconnects.empty())
            self.registered("org-set", ORG, "cert")
            self.assert_close_code("d:%s:plain:p1" % ORG, 169)
            self.assertFalse(again.disconnects.empty())
        finally:
            self.registered("org-set", ORG, "token")
            self.registered("org-set", CA_ORG, "cert")
            self.registered("type-set", ORG, "plain", "org")
            for fp in ca_fingerprints(self.db, CA_ORG):
                self.registered("ca-remove", CA_ORG, fp)

    def test_S036_resumed_session_verified_again_after_ca_removal(self):
        """A TLS 1.3 session made while the org had the CA: resuming it
        after the CA was removed does not carry the old verification."""
        cid = "d:%s:tt:dev1" % CA_ORG
        self.registered("ca-add", CA_ORG, os.path.join(ca_dir("ca-one"), "ca.crt"))
        ctx = tlsenv.client_context(cert=client("ca-one", "tt", "dev1"))
        try:
            c = tlsenv.tls_raw(PORTS.tls, ctx)
            self.clients.append(c)
            c.mqtt_connect(cid)
            c.send(ph.mqttraw.pingreq())
            c.expect(ph.mqttraw.PINGRESP)           # the ticket came before or with it
            session = c.sock.session
            self.assertTrue(session.has_ticket)
            c.close()
            again = tlsenv.tls_raw(PORTS.tls, ctx, session=session)
            self.clients.append(again)
            self.assertTrue(again.sock.session_reused)
            again.mqtt_connect(cid)                 # still valid: resumed and accepted
            again.close()
        finally:
            for fp in ca_fingerprints(self.db, CA_ORG):
                self.registered("ca-remove", CA_ORG, fp)
        self.mark()
        third = tlsenv.tls_raw(PORTS.tls, ctx, session=session)
        self.clients.append(third)
        self.assertTrue(third.sock.session_reused)
        third.mqtt_connect(cid, expect_rc=5)
        self.assert_close_code(cid, 170)

    # registry helpers for the live changes
    @classmethod
    def reg(cls, what, *args):
        if what == "type-set":
            return ph.gannetctl(cls.db, "type", "set", args[0], args[1], "tls_policy", args[2])
        if what == "org-set":
            return ph.gannetctl(cls.db, "org", "set", args[0], "tls_policy", args[1])
        if what == "ca-add":
            return ph.gannetctl(cls.db, "org", "ca", "add", *args)
        if what == "ca-remove":
            return ph.gannetctl(cls.db, "org", "ca", "remove", *args)
        return super().reg(what, *args)


def ca_fingerprints(db, org):
    return [c["fingerprint"] for c in json.loads(ph.gannetctl(db, "--json", "org", "ca", "list", org))]


def tlsenv_client(type_, id_):
    """A client certificate CN d:TYPE:ID from the listener's own CA."""
    base = "client-%s-%s" % (type_, id_)
    if not os.path.exists(tlsenv.path(base + ".crt")):
        subprocess.run([tlsenv.CERTS_TOOL, tlsenv.certs(), "client", type_, id_], check=True,
                       capture_output=True, timeout=60)
        for ext in (".crt", ".key"):
            os.chmod(tlsenv.path(base + ext), 0o644)
    return base

if __name__ == "__main__":
    ph.harness.unittest.main()
