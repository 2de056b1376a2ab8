"""tests/engine/mqttraw.py — a hand-written MQTT 3.1 / 3.1.1 / 5.0 packet
encoder/decoder and a raw-socket client for the integration tests.

It owns exact control over the bytes on the wire: the tests use it where a
library client would hide what matters (reason codes, DUP flags, packet ids,
topic aliases, malformed input). Pure Python, no state shared between
clients; every socket read is bounded by a timeout.
"""

import select
import socket
import struct
import time

# Packet types (fixed header, high nibble).
CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP = 8, 9, 10, 11, 12, 13
DISCONNECT, AUTH = 14, 15

TYPE_NAMES = {
    CONNECT: "CONNECT", CONNACK: "CONNACK", PUBLISH: "PUBLISH", PUBACK: "PUBACK",
    PUBREC: "PUBREC", PUBREL: "PUBREL", PUBCOMP: "PUBCOMP", SUBSCRIBE: "SUBSCRIBE",
    SUBACK: "SUBACK", UNSUBSCRIBE: "UNSUBSCRIBE", UNSUBACK: "UNSUBACK",
    PINGREQ: "PINGREQ", PINGRESP: "PINGRESP", DISCONNECT: "DISCONNECT", AUTH: "AUTH",
}

# Protocol levels.
V31, V311, V5 = 3, 4, 5

# MQTT 5 property identifiers.
PAYLOAD_FORMAT = 0x01
MESSAGE_EXPIRY = 0x02
CONTENT_TYPE = 0x03
RESPONSE_TOPIC = 0x08
CORRELATION_DATA = 0x09
SUBSCRIPTION_ID = 0x0B
SESSION_EXPIRY = 0x11
ASSIGNED_CLIENT_ID = 0x12
SERVER_KEEP_ALIVE = 0x13
AUTH_METHOD = 0x15
AUTH_DATA = 0x16
REQUEST_PROBLEM_INFO = 0x17
WILL_DELAY = 0x18
REQUEST_RESPONSE_INFO = 0x19
RESPONSE_INFO = 0x1A
SERVER_REFERENCE = 0x1C
REASON_STRING = 0x1F
RECEIVE_MAXIMUM = 0x21
TOPIC_ALIAS_MAXIMUM = 0x22
TOPIC_ALIAS = 0x23
MAXIMUM_QOS = 0x24
RETAIN_AVAILABLE = 0x25
USER_PROPERTY = 0x26
MAXIMUM_PACKET_SIZE = 0x27
WILDCARD_SUB_AVAILABLE = 0x28
SUB_ID_AVAILABLE = 0x29
SHARED_SUB_AVAILABLE = 0x2A

_BYTE, _U16, _U32, _VARINT, _STR, _BIN, _PAIR = range(7)
PROPERTY_TYPES = {
    PAYLOAD_FORMAT: _BYTE, MESSAGE_EXPIRY: _U32, CONTENT_TYPE: _STR,
    RESPONSE_TOPIC: _STR, CORRELATION_DATA: _BIN, SUBSCRIPTION_ID: _VARINT,
    SESSION_EXPIRY: _U32, ASSIGNED_CLIENT_ID: _STR, SERVER_KEEP_ALIVE: _U16,
    AUTH_METHOD: _STR, AUTH_DATA: _BIN, REQUEST_PROBLEM_INFO: _BYTE,
    WILL_DELAY: _U32, REQUEST_RESPONSE_INFO: _BYTE, RESPONSE_INFO: _STR,
    SERVER_REFERENCE: _STR, REASON_STRING: _STR, RECEIVE_MAXIMUM: _U16,
    TOPIC_ALIAS_MAXIMUM: _U16, TOPIC_ALIAS: _U16, MAXIMUM_QOS: _BYTE,
    RETAIN_AVAILABLE: _BYTE, USER_PROPERTY: _PAIR, MAXIMUM_PACKET_SIZE: _U32,
    WILDCARD_SUB_AVAILABLE: _BYTE, SUB_ID_AVAILABLE: _BYTE,
    SHARED_SUB_AVAILABLE: _BYTE,
}

# MQTT 5 reason codes used by the tests.
RC_SUCCESS = 0x00
RC_NO_MATCHING_SUBSCRIBERS = 0x10
RC_DISCONNECT_WITH_WILL = 0x04
RC_UNSPECIFIED = 0x80
RC_MALFORMED = 0x81
RC_PROTOCOL_ERROR = 0x82
RC_CLIENT_ID_NOT_VALID = 0x85
RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84
RC_SERVER_SHUTTING_DOWN = 0x8B
RC_KEEP_ALIVE_TIMEOUT = 0x8D
RC_SESSION_TAKEN_OVER = 0x8E
RC_TOPIC_FILTER_INVALID = 0x8F
RC_TOPIC_NAME_INVALID = 0x90
RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93
RC_TOPIC_ALIAS_INVALID = 0x94
RC_PACKET_TOO_LARGE = 0x95
RC_QOS_NOT_SUPPORTED = 0x9B

# MQTT 3.1.1 CONNACK return codes.
V3_ACCEPTED = 0
V3_BAD_PROTOCOL = 1
V3_IDENTIFIER_REJECTED = 2


class MqttError(Exception):
    """The peer sent something this decoder cannot accept."""


class ConnectionClosed(Exception):
    """The peer closed (or reset) the connection."""


# ---------------------------------------------------------------- encoding

def varint(n):
    if n < 0 or n > 268435455:
        raise ValueError("variable byte integer out of range: %d" % n)
    out = bytearray()
    while True:
        b = n % 128
        n //= 128
        if n:
            b |= 0x80
        out.append(b)
        if not n:
            return bytes(out)


def utf8(s):
    b = s.encode("utf-8") if isinstance(s, str) else bytes(s)
    return struct.pack("!H", len(b)) + b


binary = utf8


def encode_properties(props):
    """props: iterable of (id, value) pairs, in wire order (duplicates kept)."""
    out = bytearray()
    for pid, val in props or ():
        kind = PROPERTY_TYPES[pid]
        out += varint(pid)
        if kind == _BYTE:
            out.append(val)
        elif kind == _U16:
            out += struct.pack("!H", val)
        elif kind == _U32:
            out += struct.pack("!I", val)
        elif kind == _VARINT:
            out += varint(val)
        elif kind in (_STR, _BIN):
            out += utf8(val)
        else:
            out += utf8(val[0]) + utf8(val[1])
    return varint(len(out)) + bytes(out)


def fixed(ptype, flags, body):
    return bytes([(ptype << 4) | flags]) + varint(len(body)) + body


def connect(client_id, version=V311, clean=True, keepalive=60, will=None,
            username=None, password=None, props=None):
    """will: dict(topic=, payload=b'', qos=0, retain=False, props=[])."""
    if version == V31:
        header = utf8("MQIsdp") + bytes([3])
    else:
        header = utf8("MQTT") + bytes([version])
    flags = 0x02 if clean else 0
    if will is not None:
        flags |= 0x04 | (will.get("qos", 0) << 3) | (0x20 if will.get("retain") else 0)
    if username is not None:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    body = bytearray(header + bytes([flags]) + struct.pack("!H", keepalive))
    if version == V5:
        body += encode_properties(props)
    body += utf8(client_id)
    if will is not None:
        if version == V5:
            body += encode_properties(will.get("props"))
        body += utf8(will["topic"]) + binary(will.get("payload", b""))
    if username is not None:
        body += utf8(username)
    if password is not None:
        body += binary(password)
    return fixed(CONNECT, 0, bytes(body))


def publish(topic, payload=b"", qos=0, retain=False, dup=False, pid=None,
            props=None, version=V311):
    if isinstance(payload, str):
        payload = payload.encode()
    flags = (qos << 1) | (1 if retain else 0) | (8 if dup else 0)
    body = bytearray(utf8(topic))
    if qos > 0:
        body += struct.pack("!H", pid if pid is not None else 1)
    if version == V5:
        body += encode_properties(props)
    body += payload
    return fixed(PUBLISH, flags, bytes(body))


def _ack(ptype, flags, pid, rc, props, version):
    body = struct.pack("!H", pid)
    if version == V5 and (rc or props):
        body += bytes([rc])
        if props:
            body += encode_properties(props)
    return fixed(ptype, flags, body)


def puback(pid, rc=0, props=None, version=V311):
    return _ack(PUBACK, 0, pid, rc, props, version)


def pubrec(pid, rc=0, props=None, version=V311):
    return _ack(PUBREC, 0, pid, rc, props, version)


def pubrel(pid, rc=0, props=None, version=V311):
    return _ack(PUBREL, 2, pid, rc, props, version)


def pubcomp(pid, rc=0, props=None, version=V311):
    return _ack(PUBCOMP, 0, pid, rc, props, version)


def sub_options(qos=0, no_local=False, retain_as_published=False, retain_handling=0):
    return (qos | (4 if no_local else 0) | (8 if retain_as_published else 0)
            | (retain_handling << 4))


def subscribe(pid, topics, props=None, version=V311):
    """topics: list of (filter, options byte) — options is the QoS for 3.1.1."""
    body = bytearray(struct.pack("!H", pid))
    if version == V5:
        body += encode_properties(props)
    for flt, opts in topics:
        body += utf8(flt) + bytes([opts])
    return fixed(SUBSCRIBE, 2, bytes(body))


def unsubscribe(pid, filters, props=None, version=V311):
    body = bytearray(struct.pack("!H", pid))
    if version == V5:
        body += encode_properties(props)
    for flt in filters:
        body += utf8(flt)
    return fixed(UNSUBSCRIBE, 2, bytes(body))


def pingreq():
    return fixed(PINGREQ, 0, b"")


def disconnect(rc=0, props=None, version=V311):
    if version == V5 and (rc or props):
        body = bytes([rc]) + (encode_properties(props) if props else b"")
        return fixed(DISCONNECT, 0, body)
    return fixed(DISCONNECT, 0, b"")


# ---------------------------------------------------------------- decoding

def decode_varint(buf, pos):
    mult, val = 1, 0
    for i in range(4):
        if pos + i >= len(buf):
            raise MqttError("truncated variable byte integer")
        b = buf[pos + i]
        val += (b & 0x7F) * mult
        if not b & 0x80:
            return val, pos + i + 1
        mult *= 128
    raise MqttError("variable byte integer longer than 4 bytes")


def _take(buf, pos, n):
    if pos + n > len(buf):
        raise MqttError("truncated field")
    return buf[pos:pos + n], pos + n


def _u16(buf, pos):
    b, pos = _take(buf, pos, 2)
    return struct.unpack("!H", b)[0], pos


def _str(buf, pos):
    n, pos = _u16(buf, pos)
    b, pos = _take(buf, pos, n)
    return b, pos


def decode_properties(buf, pos):
    n, pos = decode_varint(buf, pos)
    end = pos + n
    if end > len(buf):
        raise MqttError("properties run past the packet")
    props = []
    while pos < end:
        pid, pos = decode_varint(buf, pos)
        kind = PROPERTY_TYPES.get(pid)
        if kind is None:
            raise MqttError("unknown property 0x%02x" % pid)
        if kind == _BYTE:
            v, pos = buf[pos], pos + 1
        elif kind == _U16:
            v, pos = _u16(buf, pos)
        elif kind == _U32:
            b, pos = _take(buf, pos, 4)
            v = struct.unpack("!I", b)[0]
        elif kind == _VARINT:
            v, pos = decode_varint(buf, pos)
        elif kind == _STR:
            b, pos = _str(buf, pos)
            v = b.decode("utf-8")
        elif kind == _BIN:
            v, pos = _str(buf, pos)
            v = bytes(v)
        else:
            k, pos = _str(buf, pos)
            val, pos = _str(buf, pos)
            v = (k.decode("utf-8"), val.decode("utf-8"))
        props.append((pid, v))
    if pos != end:
        raise MqttError("property overran its length")
    return props, end


class Packet:
    """A decoded packet. Fields depend on the type; absent ones are None."""

    def __init__(self, ptype, flags, body):
        self.type = ptype
        self.flags = flags
        self.body = body
        self.props = []
        self.rc = None
        self.pid = None
        self.topic = None
        self.payload = None
        self.qos = self.retain = self.dup = None
        self.session_present = None
        self.codes = None

    @property
    def name(self):
        return TYPE_NAMES.get(self.type, "TYPE%d" % self.type)

    def prop(self, pid, default=None):
        for k, v in self.props:
            if k == pid:
                return v
        return default

    def props_all(self, pid):
        return [v for k, v in self.props if k == pid]

    def __repr__(self):
        fields = ["%s=%r" % (k, v) for k, v in sorted(self.__dict__.items())
                  if v not in (None, [], b"") and k not in ("type", "body")]
        return "<%s %s>" % (self.name, " ".join(fields))


def decode(ptype, flags, body, version):
    p = Packet(ptype, flags, body)
    v5 = version == V5
    if ptype == CONNACK:
        if len(body) < 2:
            raise MqttError("short CONNACK")
        p.session_present = bool(body[0] & 1)
        p.rc = body[1]
        if v5 and len(body) > 2:
            p.props, _ = decode_properties(body, 2)
    elif ptype == PUBLISH:
        p.qos = (flags >> 1) & 3
        p.retain = bool(flags & 1)
        p.dup = bool(flags & 8)
        topic, pos = _str(body, 0)
        p.topic = topic.decode("utf-8")
        if p.qos:
            p.pid, pos = _u16(body, pos)
        if v5:
            p.props, pos = decode_properties(body, pos)
        p.payload = bytes(body[pos:])
    elif ptype in (PUBACK, PUBREC, PUBREL, PUBCOMP):
        p.pid, pos = _u16(body, 0)
        p.rc = 0
        if v5 and len(body) > 2:
            p.rc = body[2]
            if len(body) > 3:
                p.props, _ = decode_properties(body, 3)
    elif ptype in (SUBACK, UNSUBACK):
        p.pid, pos = _u16(body, 0)
        if v5:
            p.props, pos = decode_properties(body, pos)
        p.codes = list(body[pos:])
    elif ptype in (DISCONNECT, AUTH):
        p.rc = body[0] if body else 0
        if v5 and len(body) > 1:
            p.props, _ = decode_properties(body, 1)
    return p


# ---------------------------------------------------------------- client

class RawClient:
    """One TCP connection speaking bytes. Every wait is bounded by `timeout`
    (seconds). Not thread-safe: one test thread drives it."""

    def __init__(self, port, host="127.0.0.1", version=V311, timeout=10.0):
        self.version = version
        self.timeout = timeout
        self.buf = bytearray()
        self.closed = False
        self.pending = []   # PUBLISHes read while waiting for an ack
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.closed = True

    def abort(self):
        """Close with a TCP reset (network loss, no DISCONNECT)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no data from broker in time")
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            raise TimeoutError("no data from broker in time")
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ConnectionAbortedError):
            chunk = b""
        if not chunk:
            self.closed = True
            raise ConnectionClosed("broker closed the connection")
        self.buf += chunk

    def read_packet(self, timeout=None):
        """Next packet, or TimeoutError / ConnectionClosed."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if len(self.buf) >= 2:
                try:
                    n, pos = decode_varint(self.buf, 1)
                except MqttError:
                    if len(self.buf) >= 5:
                        raise
                    n = None
                if n is not None and len(self.buf) >= pos + n:
                    head = self.buf[0]
                    body = bytes(self.buf[pos:pos + n])
                    del self.buf[:pos + n]
                    return decode(head >> 4, head & 0x0F, body, self.version)
            self._fill(deadline)

    def expect(self, ptype, timeout=None, skip=()):
        """Read until a packet of ptype arrives; packet types in `skip` are
        ignored, anything else is an assertion error."""
        while True:
            p = self.read_packet(timeout)
            if p.type == ptype:
                return p
            if p.type not in skip:
                raise AssertionError("expected %s, got %r" % (TYPE_NAMES[ptype], p))

    def expect_closed(self, timeout=None):
        """Wait for the broker to close the connection. Returns the packets
        received before the close. Raises TimeoutError if it stays open."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        got = []
        while True:
            try:
                got.append(self.read_packet(max(0.0, deadline - time.monotonic())))
            except ConnectionClosed:
                return got
            except MqttError:
                # Undecodable bytes before the close still count as "closed".
                self.buf.clear()

    def is_open(self, within=0.3):
        """True if the connection shows no EOF within `within` seconds.
        Packets that arrive meanwhile are kept for later reads."""
        try:
            self._fill(time.monotonic() + within)
            return True
        except TimeoutError:
            return True
        except ConnectionClosed:
            return False

    def collect(self, duration):
        """Read packets for `duration` seconds; returns them (stops early on close)."""
        deadline = time.monotonic() + duration
        got = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return got
            try:
                got.append(self.read_packet(left))
            except (TimeoutError, ConnectionClosed):
                return got

    # -- conveniences --------------------------------------------------

    def mqtt_connect(self, client_id, expect_rc=0, **kw):
        kw.setdefault("version", self.version)
        self.send(connect(client_id, **kw))
        ack = self.expect(CONNACK)
        if expect_rc is not None and ack.rc != expect_rc:
            raise AssertionError("CONNACK rc=0x%02x, expected 0x%02x (%r)" % (ack.rc, expect_rc, ack))
        return ack

    def mqtt_subscribe(self, topics, pid=1, props=None):
        """topics: list of (filter, options). Returns the SUBACK."""
        self.send(subscribe(pid, topics, props=props, version=self.version))
        return self._expect_ack(SUBACK, pid)

    def mqtt_unsubscribe(self, filters, pid=2, props=None):
        self.send(unsubscribe(pid, filters, props=props, version=self.version))
        return self._expect_ack(UNSUBACK, pid)

    def _expect_ack(self, ptype, pid):
        while True:
            p = self.read_packet()
            if p.type == ptype and p.pid == pid:
                return p
            if p.type == PUBLISH:
                self.pending.append(p)
                continue
            raise AssertionError("expected %s for id %d, got %r" % (TYPE_NAMES[ptype], pid, p))

    def next_publish(self, timeout=None):
        """Next PUBLISH, first from those read while waiting for acks."""
        if self.pending:
            return self.pending.pop(0)
        return self.expect(PUBLISH, timeout)

    def publish(self, topic, payload=b"", qos=0, retain=False, pid=None, props=None, dup=False):
        """Publish and complete the QoS handshake as the sender. Returns the
        final ack (PUBACK / PUBCOMP) or None for QoS 0."""
        if pid is None and qos:
            pid = 1
        self.send(publish(topic, payload, qos, retain, dup, pid, props, self.version))
        if qos == 1:
            return self._expect_ack(PUBACK, pid)
        if qos == 2:
            rec = self._expect_ack(PUBREC, pid)
            if rec.rc is not None and rec.rc >= 0x80:
                return rec
            self.send(pubrel(pid, version=self.version))
            return self._expect_ack(PUBCOMP, pid)
        return None

    def ack(self, p):
        """Acknowledge a received PUBLISH as the receiver (QoS 1 / 2 flows)."""
        if p.qos == 1:
            self.send(puback(p.pid, version=self.version))
        elif p.qos == 2:
            self.send(pubrec(p.pid, version=self.version))
            self._expect_ack(PUBREL, p.pid)
            self.send(pubcomp(p.pid, version=self.version))

    def ping(self):
        self.send(pingreq())
        while True:
            p = self.read_packet()
            if p.type == PINGRESP:
                return p
            if p.type != PUBLISH:
                raise AssertionError("expected PINGRESP, got %r" % p)
            self.pending.append(p)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

