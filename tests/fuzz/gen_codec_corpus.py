#!/usr/bin/env python3
"""tests/fuzz/gen_codec_corpus.py — writes the seed corpora of the codec
fuzz targets (tests/fuzz/corpus/{decode,frame,props}/): valid packets of
every type in MQTT 3.1, 3.1.1 and 5, a few classic malformations, and
property blocks for each context. Deterministic; rerun after changing it:
    python3 tests/fuzz/gen_codec_corpus.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack(">H", len(b)) + b


def pkt(first, body):
    return bytes([first]) + varint(len(body)) + body


def props(*items):
    body = b"".join(items)
    return varint(len(body)) + body


def p_byte(i, v):
    return bytes([i, v])


def p_u16(i, v):
    return bytes([i]) + struct.pack(">H", v)


def p_u32(i, v):
    return bytes([i]) + struct.pack(">I", v)


def p_str(i, v):
    return bytes([i]) + s(v)


def p_user(k, v):
    return bytes([0x26]) + s(k) + s(v)


def p_subid(v):
    return bytes([0x0B]) + varint(v)


TOPIC = "iot-2/type/T/id/I/evt/E/fmt/json"

PUBLISH_PROPS = props(p_byte(0x01, 1), p_u32(0x02, 60), p_str(0x03, "application/json"),
                      p_str(0x08, "reply/to"), p_str(0x09, b"\x01\x02"), p_subid(5),
                      p_subid(300), p_u16(0x23, 4), p_user("k", "v"))
CONNECT_PROPS = props(p_u32(0x11, 3600), p_u16(0x21, 20), p_u16(0x22, 10),
                      p_u32(0x27, 65536), p_byte(0x17, 1), p_byte(0x19, 0),
                      p_str(0x15, "SCRAM"), p_str(0x16, b"\x00\x01"), p_user("a", "b"))
WILL_PROPS = props(p_u32(0x18, 5), p_byte(0x01, 0), p_str(0x03, "text/plain"))
CONNACK_PROPS = props(p_u32(0x11, 60), p_str(0x12, "auto-1"), p_u16(0x13, 30),
                      p_u16(0x21, 10), p_u16(0x22, 5), p_byte(0x24, 1), p_byte(0x25, 1),
                      p_u32(0x27, 4096), p_byte(0x28, 1), p_byte(0x29, 1), p_byte(0x2A, 0),
                      p_str(0x1A, "resp"), p_str(0x1C, "other:1883"), p_str(0x1F, "ok"))


def connect(level, flags, cid, will=None, user=None, pw=None, cprops=b"", wprops=b""):
    name = "MQIsdp" if level == 3 else "MQTT"
    body = s(name) + bytes([level, flags]) + struct.pack(">H", 60)
    if level == 5:
        body += cprops or b"\x00"
    body += s(cid)
    if will:
        if level == 5:
            body += wprops or b"\x00"
        body += s(will[0]) + s(will[1])
    if user is not None:
        body += s(user)
    if pw is not None:
        body += s(pw)
    return pkt(0x10, body)


def decode_seeds():
    seeds = {}
    for level in (3, 4, 5):
        v5 = level == 5
        e = b"\x00" if v5 else b""
        seeds[f"connect_v{level}"] = connect(level, 0xEE, "dev1", ("w/t", "bye"), "u", "p",
                                             CONNECT_PROPS, WILL_PROPS)
        seeds[f"connect_min_v{level}"] = connect(level, 0x02, "c")
        seeds[f"connack_v{level}"] = pkt(0x20, b"\x00\x00" + (CONNACK_PROPS if v5 else b""))
        seeds[f"publish_q0_v{level}"] = pkt(0x30, s(TOPIC) + e + b"0123456789abcdef")
        seeds[f"publish_q1_v{level}"] = pkt(0x3B, s("a/b") + b"\x00\x0A" +
                                            (PUBLISH_PROPS if v5 else b"") + b"hello")
        seeds[f"publish_q2_v{level}"] = pkt(0x34, s("a") + b"\x12\x34" + e)
        for t in (0x40, 0x50, 0x62, 0x70):
            seeds[f"ack_{t:02x}_v{level}"] = pkt(t, b"\x00\x07")
        seeds[f"subscribe_v{level}"] = pkt(0x82, b"\x00\x0A" + e + s("a/+/c") + b"\x01" +
                                           s("#") + b"\x02" + s("$share/g/x") + b"\x00")
        seeds[f"unsubscribe_v{level}"] = pkt(0xA2, b"\x00\x0B" + e + s("a/+") + s("#"))
        seeds[f"suback_v{level}"] = pkt(0x90, b"\x00\x0A" + e + b"\x00\x01\x02\x80")
        seeds[f"unsuback_v{level}"] = pkt(0xB0, b"\x00\x0B" + (b"\x00\x00\x11" if v5 else b""))
        seeds[f"ping_v{level}"] = pkt(0xC0, b"") + pkt(0xD0, b"")
        seeds[f"disconnect_v{level}"] = pkt(0xE0, b"")
    seeds["puback_v5_reason"] = pkt(0x40, b"\x00\x07\x10")
    seeds["puback_v5_props"] = pkt(0x40, b"\x00\x07\x80" + props(p_str(0x1F, "no"),
                                                                  p_user("x", "y")))
    seeds["subscribe_v5_opts"] = pkt(0x82, b"\x00\x01" + props(p_subid(7)) + s("a/b") + b"\x2E")
    seeds["disconnect_v5_props"] = pkt(0xE0, b"\x8E" + props(p_u32(0x11, 0),
                                                             p_str(0x1C, "srv")))
    seeds["disconnect_v5_reason"] = pkt(0xE0, b"\x04")
    seeds["auth_v5"] = pkt(0xF0, b"\x18" + props(p_str(0x15, "m"), p_str(0x16, "d")))
    seeds["publish_alias_v5"] = pkt(0x30, s("") + props(p_u16(0x23, 3)) + b"x")
    seeds["publish_big"] = pkt(0x30, s(TOPIC) + b"\x00" + bytes(range(256)) * 2)
    # malformations
    seeds["bad_varint5"] = b"\x30\xff\xff\xff\xff\x01"
    seeds["bad_overlong"] = b"\xc0\x80\x00"
    seeds["bad_qos3"] = pkt(0x36, s("a") + b"\x00\x01")
    seeds["bad_wildcard"] = pkt(0x30, s("a/#"))
    seeds["bad_dup_props"] = pkt(0x30, s("a") + props(p_u16(0x23, 1), p_u16(0x23, 2)))
    seeds["bad_utf8_topic"] = pkt(0x30, b"\x00\x03\xed\xa0\x80")
    # a stream of several packets
    seeds["stream_mixed"] = b"".join(seeds[k] for k in ("connect_v4", "publish_q1_v4",
                                                        "ack_40_v4", "subscribe_v4",
                                                        "ping_v4", "disconnect_v4"))
    return seeds


def frame_seeds(dec):
    out = {}
    for i, (name, data) in enumerate(sorted(dec.items())):
        if not name.startswith(("stream", "publish", "connect_v", "bad_varint", "bad_overlong")):
            continue
        maxp = 0 if i % 2 == 0 else 200
        seed = struct.pack("<I", 0x9E3779B9 * (i + 1) & 0xFFFFFFFF)
        out[name] = bytes([maxp]) + seed + data * 3
    return out


def props_seeds():
    ctx = {"connect": 0, "connack": 1, "publish": 2, "will": 3, "puback": 4, "subscribe": 5,
           "suback": 6, "unsubscribe": 7, "unsuback": 8, "disconnect": 9, "auth": 10}
    return {
        "publish": bytes([ctx["publish"]]) + PUBLISH_PROPS,
        "connect": bytes([ctx["connect"]]) + CONNECT_PROPS,
        "will": bytes([ctx["will"]]) + WILL_PROPS,
        "connack": bytes([ctx["connack"]]) + CONNACK_PROPS,
        "puback": bytes([ctx["puback"]]) + props(p_str(0x1F, "r"), p_user("k", "v")),
        "subscribe": bytes([ctx["subscribe"]]) + props(p_subid(268435455), p_user("a", "")),
        "suback": bytes([ctx["suback"]]) + props(p_str(0x1F, "x")),
        "unsubscribe": bytes([ctx["unsubscribe"]]) + props(p_user("u", "v")),
        "unsuback": bytes([ctx["unsuback"]]) + props(p_str(0x1F, "y")),
        "disconnect": bytes([ctx["disconnect"]]) + props(p_u32(0x11, 1), p_str(0x1C, "s")),
        "auth": bytes([ctx["auth"]]) + props(p_str(0x15, "m"), p_str(0x16, b"\xff")),
        "empty": bytes([ctx["publish"]]) + b"\x00",
        "bad_dup": bytes([ctx["publish"]]) + props(p_u16(0x23, 1), p_u16(0x23, 1)),
        "bad_len": bytes([ctx["publish"]]) + b"\x05\x23\x00",
    }


def write(dirname, seeds):
    path = os.path.join(HERE, "corpus", dirname)
    os.makedirs(path, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(path, name + ".bin"), "wb") as f:
            f.write(data)
    return len(seeds)


if __name__ == "__main__":
    dec = decode_seeds()
    n = write("decode", dec) + write("frame", frame_seeds(dec)) + write("props", props_seeds())
    print(f"wrote {n} seed files")
