#!/usr/bin/env python3
"""Writes a trace's packets regrouped by their place in their flow: every flow's first packet,
then every flow's second, and so on, the flows shuffled (seed 7) within each group; the
timestamps stay where they were, in order. Each flow's packets keep their order, so the verdicts
are the original trace's (tuples reused by a later flow may differ). For measuring what the
mix of packet kinds costs a walk (docs/PERFORMANCE.md, "Session 19"): in a generated trace
whose flows are all open at once, the first group is the SYNs, the next the SYN|ACKs, and so
on, so the walk meets one kind of packet at a time instead of a random one each time.

    scripts/phase-sort.py IN.pcap OUT.pcap

Classic pcap, little-endian (what `ctbench gen` writes); Ethernet, IPv4 or IPv6 TCP (no IPv6
extension headers), no VLAN tags: ctbench's flow presets. A flow is a TCP 4-tuple in either direction; a SYN without ACK on a
tuple seen before starts a new flow.
"""
import random
import struct
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    data = open(sys.argv[1], "rb").read()
    header = data[:24]
    if struct.unpack("<I", header[:4])[0] not in (0xA1B2C3D4, 0xA1B23C4D):
        sys.exit("phase-sort.py: not a little-endian classic pcap")
    packets, position = [], 24
    while position + 16 <= len(data):
        seconds, fraction, captured, original = struct.unpack("<IIII", data[position:position + 16])
        packets.append((seconds, fraction, original, data[position + 16:position + 16 + captured]))
        position += 16 + captured

    instance, count, groups = {}, {}, {}
    for packet in packets:
        frame = packet[3]
        if len(frame) >= 54 and frame[12:14] == b"\x08\x00" and frame[23] == 6:
            source, destination, tcp = frame[26:30], frame[30:34], 14 + 4 * (frame[14] & 15)
        elif len(frame) >= 74 and frame[12:14] == b"\x86\xdd" and frame[20] == 6:
            source, destination, tcp = frame[22:38], frame[38:54], 54
        else:
            sys.exit("phase-sort.py: expects untagged Ethernet IPv4 or IPv6 TCP frames only")
        a, b = (source, frame[tcp:tcp + 2]), (destination, frame[tcp + 2:tcp + 4])
        tuple_ = (a, b) if a < b else (b, a)
        if frame[tcp + 13] & 0x12 == 0x02 and tuple_ in instance:  # SYN without ACK: a new flow on the tuple
            instance[tuple_] += 1
        flow = (tuple_, instance.setdefault(tuple_, 0))
        place = count.get(flow, 0)
        count[flow] = place + 1
        groups.setdefault(place, {}).setdefault(flow, []).append(packet)

    rng = random.Random(7)
    order = []
    for place in sorted(groups):
        flows = list(groups[place])
        rng.shuffle(flows)
        for flow in flows:
            order.extend(groups[place][flow])
    times = sorted((p[0], p[1]) for p in packets)
    with open(sys.argv[2], "wb") as out:
        out.write(header)
        for (seconds, fraction), packet in zip(times, order):
            out.write(struct.pack("<IIII", seconds, fraction, len(packet[3]), packet[2]))
            out.write(packet[3])
    print(f"{len(order)} packets, {len(count)} flows, {len(groups)} groups")


if __name__ == "__main__":
    main()
