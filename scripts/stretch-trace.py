#!/usr/bin/env python3
"""Writes a copy of a classic pcap whose packet times are spread FACTOR times further apart
(from the first packet's time on; the frames are unchanged).

Generated traces space packets 1 us apart, so a million packets last one second and no
connection ever times out. Stretched (e.g. 300x: a 700,000-packet trace then lasts 210 s),
the sweeper reclaims connections while the trace runs, so a replay exercises expiry, the
timeout classes' lists and, with a small --max-conns, refusals that depend on when entries
were reclaimed (scripts/verdict-check.sh).

    scripts/stretch-trace.py IN.pcap OUT.pcap FACTOR
"""
import struct
import sys


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, target, factor = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(source, "rb") as src, open(target, "wb") as out:
        header = src.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            sys.exit("stretch-trace.py: not a little-endian classic pcap (pcapng: convert it first)")
        unit = 1_000_000_000 if magic == 0xA1B23C4D else 1_000_000
        out.write(header)
        first = last = None
        while len(record := src.read(16)) == 16:
            seconds, fraction, captured, original = struct.unpack("<IIII", record)
            frame = src.read(captured)
            time = seconds * unit + fraction
            first = time if first is None else first
            last = first + int((time - first) * factor)
            out.write(struct.pack("<IIII", last // unit, last % unit, captured, original))
            out.write(frame)
    if first is not None:
        print(f"{target}: {(last - first) / unit:.1f} s from the first packet to the last")


if __name__ == "__main__":
    main()
