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


class OrgDevicesOnline(PlatformTestCase):
    """S-095: at most max_devices_online devices and gateways of an org
    connected at once, org-wide over every shard; one more is refused with
    173 (S-098), applications are not counted."""
    shards = 2
    org_settings = ("max_devices_online=2",)

    @classmethod
    def setup(cls):
        for i in range(4):
            cls.device("sensor", "s%d" % i)
        cls.device("gwtype", "gw1", "g")

    def test_S095_concurrent_devices_over_the_org_limit_close_173(self):
        a = self.plain_as("d:%s:sensor:s0" % ORG)
        self.plain_as("g:%s:gwtype:gw1" % ORG)
        cid = "d:%s:sensor:s1" % ORG
        self.plain_as(cid, expect_rc=3)
        code, reason, _ = self.close_line(cid)
        self.assertEqual((code, reason), (173, "Too many connections for an organization"))
        self.wait_log_line(r"the organization has its maximum of connected devices")
        # MQTT 5: Quota exceeded
        self.paho_as("d:%s:sensor:s2" % ORG, "v5", connect=False).connect(expect_rc=0x97)
        # applications are not devices
        self.paho_app()
        # a device that reconnects at the limit takes its old connection over
        a = self.plain_as("d:%s:sensor:s0" % ORG)
        self.assertEqual(self.close_line("d:%s:sensor:s0" % ORG)[0], 288)
        # a device that leaves gives its place back
        a.disconnect()
        import time
        time.sleep(0.3)
        self.plain_as("d:%s:sensor:s3" % ORG)
