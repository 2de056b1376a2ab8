"""tests/platform/test_limits.py — the configurable connection limits
behind close codes 104 (server capacity, platform_max_connections) and
173 (connections per org, platform_max_org_connections or the org's own
max_connections setting); PLATFORM.md S-098."""

from platform_harness import mqttraw
from platform_harness import ORG, OTHER_ORG, TOKEN, PlatformTestCase


class ServerCapacity(PlatformTestCase):
    platform_conf = "platform_max_connections 3\n"

    @classmethod
    def setup(cls):
        for i in range(5):
            cls.device("sensor", "s%d" % i)

    def test_S098_server_capacity_close_104(self):
        held = [self.raw_as("d:%s:sensor:s%d" % (ORG, i)) for i in range(3)]
        for version, rc in ((mqttraw.V311, 3), (mqttraw.V5, 0x89)):
            cid = "d:%s:sensor:s3" % ORG
            c = self.raw_as(cid, version, expect_rc=rc)
            c.expect_closed()
            self.assertEqual(self.assert_close_code(cid, 104), "The server capacity is reached")
        held[0].close()
        held[0].closed = True
        import time
        time.sleep(0.3)
        self.raw_as("d:%s:sensor:s4" % ORG)


class OrgConnections(PlatformTestCase):
    platform_conf = "platform_max_org_connections 2\n"

    @classmethod
    def setup(cls):
        for i in range(4):
            cls.device("sensor", "s%d" % i)
        cls.device("sensor", "x", "d", TOKEN, OTHER_ORG)

    def test_S098_org_connection_limit_close_173(self):
        a = self.raw_as("d:%s:sensor:s0" % ORG)
        b = self.raw_as("d:%s:sensor:s1" % ORG)
        cid = "d:%s:sensor:s2" % ORG
        self.raw_as(cid, expect_rc=3).expect_closed()
        self.assertEqual(self.assert_close_code(cid, 173), "Too many connections for an organization")
        # another org is not affected
        self.raw_as("d:%s:sensor:x" % OTHER_ORG)
        # a slot comes back when a connection ends
        a.send(mqttraw.disconnect())
        a.expect_closed()
        import time
        time.sleep(0.2)
        self.raw_as("d:%s:sensor:s3" % ORG)
        self.assert_open(b)
