"""tests/platform/test_keepalive.py — keep-alive (PLATFORM.md S-101 …
S-103): the client's value, close 160 after 1.5 times it, no cap for
clients that are not A:."""

import time

from platform_harness import mqttraw
from platform_harness import ORG, PlatformTestCase


class KeepAlive(PlatformTestCase):

    @classmethod
    def setup(cls):
        cls.device("sensor", "s1")
        cls.device("sensor", "s2")

    def test_S101_silent_client_closed_160(self):
        cid = "d:%s:sensor:s1" % ORG
        for version in (mqttraw.V311, mqttraw.V5):
            c = self.raw_as(cid, version, keepalive=1)
            got = c.expect_closed(timeout=5)
            if version == mqttraw.V5:
                self.assertTrue(any(p.type == mqttraw.DISCONNECT and p.rc == 0x8D for p in got), got)
        self.assertEqual(self.assert_close_code(cid, 160), "The connection timed out")

    def test_S102_no_cap_for_devices(self):
        c = self.raw_as("d:%s:sensor:s2" % ORG, mqttraw.V5, keepalive=65535)
        self.assertIsNone(c.connack.prop(mqttraw.SERVER_KEEP_ALIVE))
        self.assert_open(c)

    def test_S103_grace_is_one_and_a_half_keepalive(self):
        c = self.raw_as("d:%s:sensor:s1" % ORG, keepalive=2)
        t0 = time.monotonic()
        c.expect_closed(timeout=8)
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 2.9)      # 1.5 x 2 s, not 2 s
        self.assertLess(took, 5.0)
