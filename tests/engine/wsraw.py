"""tests/engine/wsraw.py — a byte-level WebSocket client (RFC 6455) for the
MQTT-over-WebSockets tests: the upgrade request (any head, to test bad
ones), frames with any flags / masking / fragmentation, and MQTT packets
read out of the binary frames. Every wait is bounded."""

import base64
import os
import select
import socket
import ssl
import struct
import time

import mqttraw


def frame(opcode, payload=b"", fin=True, mask=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i & 3] for i, b in enumerate(payload))


def upgrade_request(path="/mqtt", key=None, version="13", protocol="mqtt", extra=""):
    key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
    lines = ["GET %s HTTP/1.1" % path, "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", "Sec-WebSocket-Key: " + key]
    if version is not None:
        lines.append("Sec-WebSocket-Version: " + version)
    if protocol is not None:
        lines.append("Sec-WebSocket-Protocol: " + protocol)
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


class WsClient:
    def __init__(self, port, host="127.0.0.1", ctx=None, timeout=10.0, version=mqttraw.V311):
        self.timeout = timeout
        self.version = version
        self.buf = bytearray()
        self.mqtt = bytearray()
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = ctx.wrap_socket(sock, server_hostname=host) if ctx else sock

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            self.buf += self.sock.recv(65536)
            return
        remaining = deadline - time.monotonic()
        r, _, _ = select.select([self.sock], [], [], max(remaining, 0))
        if not r:
            raise TimeoutError("no data from broker in time")
        try:
            chunk = self.sock.recv(65536)
        except (ConnectionResetError, ssl.SSLError, OSError):
            chunk = b""
        if not chunk:
            raise mqttraw.ConnectionClosed("broker closed the connection")
        self.buf += chunk

    def handshake(self, request=None):
        """Send the upgrade; return (status, headers dict lower-cased)."""
        self.send(request if request is not None else upgrade_request())
        deadline = time.monotonic() + self.timeout
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, _, rest = bytes(self.buf).partition(b"\r\n\r\n")
        self.buf = bytearray(rest)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for l in lines[1:]:
            k, _, v = l.partition(":")
            headers[k.strip().lower()] = v.strip()
        return status, headers

    def read_frame(self, timeout=None):
        """(fin, opcode, payload) of the next server frame (never masked)."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if len(self.buf) >= 2:
                b0, b1 = self.buf[0], self.buf[1]
                if b1 & 0x80:
                    raise AssertionError("server frame is masked")
                n, pos = b1 & 0x7F, 2
                if n == 126 and len(self.buf) >= 4:
                    n, pos = struct.unpack("!H", self.buf[2:4])[0], 4
                elif n == 127 and len(self.buf) >= 10:
                    n, pos = struct.unpack("!Q", self.buf[2:10])[0], 10
                if (b1 & 0x7F) < 126 or pos > 2:
                    if len(self.buf) >= pos + n:
                        payload = bytes(self.buf[pos:pos + n])
                        del self.buf[:pos + n]
                        return bool(b0 & 0x80), b0 & 0x0F, payload
            self._fill(deadline)

    def send_mqtt(self, data):
        self.send(frame(0x2, data))

    def read_packet(self, timeout=None):
        """Next MQTT packet out of the binary frames."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            if len(self.mqtt) >= 2:
                try:
                    n, pos = mqttraw.decode_varint(self.mqtt, 1)
                except mqttraw.MqttError:
                    n = None
                if n is not None and len(self.mqtt) >= pos + n:
                    head = self.mqtt[0]
                    body = bytes(self.mqtt[pos:pos + n])
                    del self.mqtt[:pos + n]
                    return mqttraw.decode(head >> 4, head & 0x0F, body, self.version)
            fin, op, payload = self.read_frame(max(deadline - time.monotonic(), 0.01))
            if op in (0x0, 0x2):
                self.mqtt += payload
            elif op == 0x8:
                raise mqttraw.ConnectionClosed("close frame %r" % payload)

    def expect_closed(self, timeout=None):
        """Read until the broker closes the TCP connection; returns the frames seen."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        frames = []
        while True:
            try:
                frames.append(self.read_frame(max(deadline - time.monotonic(), 0.01)))
            except mqttraw.ConnectionClosed:
                return frames
