#!/usr/bin/env python3
"""Writes the seed corpus of the fuzz targets into Fuzz/Corpus/<target>/ (committed). The
`datapath` target reads the same format as `packet` and starts from its folder.

Sources: the committed sample traces (traces/*.pcap), a few public captures from
../shared/traces (other link types, VLANs, real FTP and TFTP sessions), the flow files in
flows/, and hand-made frames for what the traces lack (ICMP errors quoting packets, IPv4 and
IPv6 fragments, IPv6 extension headers, zero-length and jumbo frames). Deterministic: running it
again writes the same files. Usage: python3 Fuzz/make-corpus.py (from the package root).
"""
import os
import struct
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared", "traces")
OUT = os.path.join(ROOT, "Fuzz", "Corpus")

# FuzzFrames.linkTypes (Sources/FuzzTargets/FuzzFrames.swift): index of each DLT.
LINK_INDEX = {1: 0, 12: 1, 113: 2, 276: 3, 0: 4, 108: 5, 228: 6, 229: 7, 101: 8, 147: 9}


def read_pcap(path):
    """Classic pcap records: (dlt, [(seconds, fraction, caplen, wirelen, data)])."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = struct.unpack("<I", blob[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    dlt = struct.unpack(endian + "I", blob[20:24])[0]
    records, at = [], 24
    while at + 16 <= len(blob):
        sec, frac, cap, wire = struct.unpack(endian + "IIII", blob[at:at + 16])
        records.append((sec, frac, cap, wire, blob[at + 16:at + 16 + cap]))
        at += 16 + cap
    return dlt, records


def write(target, name, data):
    folder = os.path.join(OUT, target)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- packet / datapath seeds

def frames_seed(dlt, frames, options=0):
    """FuzzFrames format: options byte, then (length, time, bytes) per frame; `time` is the
    frame's time byte without the snap bit (seconds, 0x40 for x64, 63 for 10 s backwards)."""
    out = bytearray([options | LINK_INDEX[dlt]])
    for data, time, snapped in frames:
        data = data[:9100]
        out += struct.pack(">HB", len(data), (time & 0x7F) | (0x80 if snapped else 0)) + data
    return bytes(out)


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src, dst, proto, payload, ident=1, flags_frag=0x4000, ttl=64):
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident, flags_frag, ttl, proto, 0,
                         bytes(src), bytes(dst))
    return header[:10] + struct.pack("!H", checksum(header)) + header[12:] + payload


def ipv6(src, dst, next_header, payload):
    return struct.pack("!IHBB16s16s", 6 << 28, len(payload), next_header, 64, bytes(src), bytes(dst)) + payload


def ether(ip_packet, vlans=()):
    ethertype = 0x86DD if ip_packet[0] >> 4 == 6 else 0x0800
    head = b"\x02\x00\x0a\x00\x00\x02\x02\x00\x0a\x00\x00\x01"
    for vid in vlans:
        head += struct.pack("!HH", 0x8100, vid)
    return head + struct.pack("!H", ethertype) + ip_packet


def tcp(sport, dport, seq, ack, flags, payload=b""):
    return struct.pack("!HHIIBBHHH", sport, dport, seq, ack, 5 << 4, flags, 65535, 0, 0) + payload


def udp(sport, dport, payload=b""):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


A4, B4, R4 = [10, 0, 0, 1], [10, 0, 0, 2], [10, 9, 9, 9]
A6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [1]
B6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [2]
R6 = [0x20, 0x01, 0x0d, 0xb8] + [0] * 11 + [9]


def handmade_frames():
    """(name, [frames]) for what the sample traces do not have."""
    syn = ipv4(A4, B4, 6, tcp(40000, 80, 1000, 0, 0x02))
    udp_out = ipv4(A4, B4, 17, udp(40001, 53, b"query"))
    icmp_unreach = ipv4(B4, A4, 1, struct.pack("!BBHI", 3, 3, 0, 0) + udp_out[:28])
    icmp_stray = ipv4(R4, A4, 1, struct.pack("!BBHI", 11, 0, 0, 0) + ipv4(A4, R4, 17, udp(1, 2))[:28])
    syn6 = ipv6(A6, B6, 6, tcp(40000, 443, 7, 0, 0x02))
    icmp6_err = ipv6(B6, A6, 58, struct.pack("!BBHI", 1, 4, 0, 0) + syn6)
    big = ipv4(A4, B4, 17, udp(40002, 9, bytes(range(256)) * 4))
    frag1 = ipv4(A4, B4, 17, big[20:20 + 512], ident=7, flags_frag=0x2000)
    frag2 = ipv4(A4, B4, 17, big[20 + 512:], ident=7, flags_frag=512 // 8)
    frag6 = ipv6(A6, B6, 44, struct.pack("!BBHI", 17, 0, 1, 99) + udp(1, 2, b"x" * 16))
    hop_route = ipv6(A6, B6, 0, struct.pack("!BB", 43, 0) + b"\x01\x04\0\0\0\0"
                     + struct.pack("!BBBB", 6, 0, 0, 0) + b"\0" * 4 + tcp(40001, 80, 5, 0, 0x02))
    dest_opts = ipv6(A6, B6, 60, struct.pack("!BB", 17, 0) + b"\x01\x04\0\0\0\0" + udp(5353, 5353, b"m"))
    echo = ipv4(A4, B4, 1, struct.pack("!BBHHH", 8, 0, 0, 7, 1) + b"ping")
    echo_reply = ipv4(B4, A4, 1, struct.pack("!BBHHH", 0, 0, 0, 7, 1) + b"ping")
    jumbo = ipv4(A4, B4, 17, udp(40003, 9, b"J" * 9000))
    return [
        ("icmp-error-related", [syn, udp_out, icmp_unreach, icmp_stray]),
        ("icmpv6-error", [syn6, icmp6_err]),
        ("ipv4-fragments", [frag1, frag2, frag1]),
        ("ipv6-fragment-and-ext-headers", [frag6, hop_route, dest_opts]),
        ("icmp-echo", [echo, echo_reply, echo]),
        ("vlan-qinq", [ether(syn, (100,)), ether(syn, (100, 200))]),
        ("zero-length-and-jumbo", [b"", ether(jumbo)[:9100], ether(syn)]),
    ]


def packet_seeds():
    seeds = []
    for name in sorted(os.listdir(os.path.join(ROOT, "traces"))):
        if not name.endswith(".pcap"):
            continue
        dlt, records = read_pcap(os.path.join(ROOT, "traces", name))
        step = max(1, len(records) // 12)
        for i, start in enumerate(range(0, len(records), step)):
            window = records[start:start + 10]
            seeds.append(("%s-%02d" % (name[:-5], i), dlt, [(r[4][:4096], 0, r[2] < r[3]) for r in window]))
    for name in ["suricata-verify/decode-sll2-02.pcap", "tcpdump/tftp-heapoverflow.pcap", "arkime/twovlan.pcap",
                 "pcapplusplus/VlanPackets.pcap", "zeek/ipv6.pcap", "zeek/ftp-many-port-expected.pcap"]:
        path = os.path.join(SHARED, name)
        if not os.path.exists(path):
            sys.exit("missing %s (the public captures next to the package)" % path)
        dlt, records = read_pcap(path)
        seeds.append((os.path.basename(name)[:-5], dlt, [(r[4][:2048], 0, r[2] < r[3]) for r in records[:10]]))
    # The same Ethernet frames as other link types.
    for handmade, frames in handmade_frames():
        eth = [f if len(f) == 0 or f[0] >> 4 not in (4, 6) else ether(f) for f in frames]
        seeds.append((handmade, 1, [(f, 1, False) for f in eth]))
        raw = [f for f in frames if f[:1] and f[0] >> 4 in (4, 6)]
        if not raw:
            continue
        seeds.append((handmade + "-raw", 12, [(f, 1, False) for f in raw]))
        seeds.append((handmade + "-null", 0, [(struct.pack("<I", 2 if f[0] >> 4 == 4 else 10) + f, 1, False) for f in raw]))
        seeds.append((handmade + "-sll", 113, [(struct.pack("!HHH8sH", 0, 1, 6, b"\0" * 8,
                                                            0x0800 if f[0] >> 4 == 4 else 0x86DD) + f, 1, False)
                                               for f in raw]))
    for name, dlt, frames in seeds:
        write("packet", name, frames_seed(dlt, frames))
    # Expiry and the clamp: the same handshake with time gaps and a step backwards.
    dlt, records = read_pcap(os.path.join(ROOT, "traces", "ftp-active-v4.pcap"))
    timed = [(r[4], [0, 1, 62, 63, 0x40 | 40, 0][i % 6], False) for i, r in enumerate(records[:12])]
    write("packet", "ftp-active-time-gaps", frames_seed(dlt, timed, options=0x20))
    write("packet", "ftp-active-time-gaps-tiny-tables", frames_seed(dlt, timed, options=0x80))


# ---------------------------------------------------------------- FTP / TFTP seeds

def tcp_payloads(path, port):
    """Payloads of TCP segments to or from `port`, per direction (Ethernet/VLAN, IPv4/IPv6)."""
    dlt, records = read_pcap(path)
    to_server, from_server = bytearray(), bytearray()
    for r in records:
        data = r[4]
        at, ethertype = 12, None
        while at + 2 <= len(data):
            ethertype = struct.unpack("!H", data[at:at + 2])[0]
            if ethertype in (0x8100, 0x88A8):
                at += 4
                continue
            at += 2
            break
        if ethertype == 0x0800 and data[at + 9] == 6:
            l4 = at + (data[at] & 15) * 4
        elif ethertype == 0x86DD and data[at + 6] == 6:
            l4 = at + 40
        else:
            continue
        sport, dport = struct.unpack("!HH", data[l4:l4 + 4])
        payload = data[l4 + (data[l4 + 12] >> 4) * 4:]
        if dport == port:
            to_server += payload
        elif sport == port:
            from_server += payload
    return bytes(to_server), bytes(from_server)


def ftp_seeds():
    sources = [os.path.join(ROOT, "traces", n) for n in ("ftp-active-v4.pcap", "ftp-passive-v4.pcap", "ftp-ipv6.pcap")]
    sources += [os.path.join(SHARED, n) for n in ("zeek/ipv4.pcap", "zeek/ipv6.pcap", "zeek/fake-long-commands.pcap",
                                                  "suricata-verify/ftp-epsv.pcap", "suricata-verify/ftp__ftp-bounce.pcap")]
    for path in sources:
        client, server = tcp_payloads(path, 21)
        name = os.path.basename(path)[:-5]
        v6 = 0x02 if "ipv6" in name else 0
        write("ftp", name + "-client", bytes([v6, 7]) + client[:3000])
        write("ftp", name + "-server", bytes([v6 | 0x01, 0]) + server[:3000])
    hostile = [
        b"PORT 10,9,9,9,195,80\r\n", b"227 Entering Passive Mode (10,9,9,9,117,48).\r\n",
        b"EPRT |2|2001:db8:66::9|50000|\r\n", b"229 Entering Extended Passive Mode (|||0|)\r\n",
        b"PORT 10,1,1,1,99999999999999999999,80\r\n", b"EPRT |1|10.1.1.1|70000|\r\n",
        b"PORT 10,1,1,1,195," + bytes([0xC3, 0xA9]) + b"\r\n", b"PORT 10,1,1,1,195,80" + b" " * 300 + b"x\r\n",
        b"227-multi\r\n227 (10,1,1,2,4,1)\r\nport 10,1,1,1,4,2\r\n", b"PORT 10,1,1,1,0,21\r\n",
    ]
    for i, line in enumerate(hostile):
        write("ftp", "hostile-%02d" % i, bytes([0x04 if i % 2 else 0x08, 3 + i]) + line)
    write("ftp", "many-port", bytes([0, 5]) + b"".join(b"PORT 10,1,1,1,%d,%d\r\n" % (4 + i // 256, i % 256) for i in range(60)))


def tftp_seeds():
    dlt, records = read_pcap(os.path.join(ROOT, "traces", "tftp.pcap"))
    for i, r in enumerate(records):
        data = r[4]
        if len(data) > 42 and struct.unpack("!H", data[36:38])[0] == 69:
            write("tftp", "request-%02d" % i, data[42:])
    for i, payload in enumerate([b"\x00\x01file\x00octet\x00blksize\x001428\x00", b"\x00\x02a\x00NETASCII\x00",
                                 b"\x00\x01\x00octet\x00", b"\x00\x01x\x00bogus\x00", b"\x00\x05\x00\x01oops\x00",
                                 b"\x00\x01name-without-mode", b"\x00\x07junk", b"\x01"]):
        write("tftp", "handmade-%02d" % i, payload)


# ---------------------------------------------------------------- flows and pcap seeds

def flow_seeds():
    for name in sorted(os.listdir(os.path.join(ROOT, "flows"))):
        with open(os.path.join(ROOT, "flows", name), "rb") as f:
            text = f.read()
        write("flows", name, text)
        for i, line in enumerate(l for l in text.split(b"\n") if l and not l.startswith(b"#")):
            write("flows", "%s-line%02d" % (name[:-6], i), line + b"\n")


def pcap_file(dlt, records, nano=False, big=False, snap=65535):
    e = ">" if big else "<"
    out = struct.pack(e + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, snap, dlt)
    for sec, frac, cap, wire, data in records:
        out += struct.pack(e + "IIII", sec, frac * 1000 if nano else frac, len(data), wire) + data
    return out


def pcapng_block(kind, body):
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", kind, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def pcapng_file(interfaces, packets):
    out = pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    for dlt in interfaces:
        out += pcapng_block(1, struct.pack("<HHI", dlt, 0, 65535))
    for interface, micros, data in packets:
        out += pcapng_block(6, struct.pack("<IIIII", interface, micros >> 32, micros & 0xFFFFFFFF, len(data), len(data)) + data)
    return out


def pcap_seeds():
    dlt, records = read_pcap(os.path.join(ROOT, "traces", "ftp-active-v4.pcap"))
    first = [r for r in records[:6]]
    write("pcap", "classic-micro.pcap", pcap_file(dlt, first))
    write("pcap", "classic-nano.pcap", pcap_file(dlt, first, nano=True))
    write("pcap", "classic-big-endian.pcap", pcap_file(dlt, first, big=True))
    write("pcap", "backwards-time.pcap", pcap_file(dlt, [first[2], first[0], first[1]]))
    write("pcap", "truncated-last.pcap", pcap_file(dlt, first)[:-30])
    write("pcap", "over-snaplen.pcap", pcap_file(dlt, first, snap=64))
    write("pcap", "empty-header-only.pcap", pcap_file(dlt, []))
    frames = [r[4] for r in first]
    write("pcap", "pcapng-one-interface.pcapng", pcapng_file([1], [(0, 10 + i, f) for i, f in enumerate(frames)]))
    write("pcap", "pcapng-two-interfaces.pcapng", pcapng_file([1, 1], [(i % 2, 10 + i, f) for i, f in enumerate(frames)]))
    raw = [f[14:] for f in frames]
    write("pcap", "pcapng-two-link-types.pcapng", pcapng_file([1, 101], [(0, 1, frames[0]), (1, 2, raw[1])]))
    for name in ["tcpdump/tftp-heapoverflow.pcap", "arkime/twovlan.pcap"]:
        with open(os.path.join(SHARED, name), "rb") as f:
            write("pcap", os.path.basename(name), f.read())


if __name__ == "__main__":
    packet_seeds()
    ftp_seeds()
    tftp_seeds()
    flow_seeds()
    pcap_seeds()
    for target in sorted(os.listdir(OUT)):
        files = os.listdir(os.path.join(OUT, target))
        size = sum(os.path.getsize(os.path.join(OUT, target, f)) for f in files)
        print("%-9s %4d seeds, %7d bytes" % (target, len(files), size))
