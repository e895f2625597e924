# Instructions per packet per stage, counted exactly by single-stepping ctbench under gdb.
# Loaded by scripts/instructions-per-packet.sh (read that first); runs inside gdb's Python.
#
# This machine kind has no hardware counters (`perf stat -e instructions` is not supported in
# the VM) and valgrind cannot run ctbench, so this counts by stepping: it stops at the
# `ConntrackPartition.trackTCPSegment` (the TCP lane, which every parsed
# packet enters) of packet `skip`, then steps one instruction at a time until that
# function is entered for the packet after the last one sampled. What lies between two
# entries is one packet's whole cost in the single-partition replay loop: the loop itself, a
# parse and hash (this packet's; a later one's when the look-ahead stages ahead), the
# prefetches, and the packet's own conntrack, ALG and dispatch. Each instruction goes to a stage by the innermost function
# (inlined ones included, from the debug info) that names one; the rest is "dispatch" (the
# pipeline's glue: admit, counters, action, verdict structs).
import collections
import gdb

# First match wins, innermost frame first; a frame that matches nothing passes to its caller.
STAGES = [
    ("checksum", ["ChecksumVerifier"]),
    ("prefetch", ["prefetchSlot", "prefetchEntry", "likelyEntry", "prefetchFrame", "lookAheadPays"]),
    ("hash", ["symmetricHash", "FlowKey+Hash", "mixEndpoint", "finalize"]),
    ("parse", ["PacketParser", "ParsedPacket", "parseFast", "parseGeneral"]),
    ("TCP update", ["TCPTracker", "TCPPeer", "TCPPeers", "slideWindows", "timeoutClass", "TCPSequence",
                    "TCPTimeoutClass", "classChanged"]),
    ("look-up", ["find_", "FlowIndex", "probe", "matchesReversed", "FlowKeyV2eeoi", "lookupExisting",
                 "update__7isReply"]),
    ("ALG", ["ALGEngine", "FTP", "TFTP", "inspectALG", "ExpectationTable"]),
    ("precheck", ["precheck", "sweep"]),
    # The TCP lane's own steps (its checksum, look-up and TCP steps match above).
    ("lane", ["trackTCPSegment", "trackStateChange"]),
    # The replay loop (or a lone shard's walk) with the look-ahead inlined: ring, flow hash,
    # frame prefetch. Its code is a merged specialisation without line or inlining
    # information, so its parts cannot be told apart here.
    ("loop, hash, look-ahead", ["TraceReplay", "walkAlone", "walkTrace", "forEachStaged", "stageItem"]),
]


class _PacketStart(gdb.Breakpoint):
    """A breakpoint on one form of the TCP lane; all of them together stop at the packet after
    the first `skip` (`start_at`)."""
    remaining = 0

    def stop(self):
        _PacketStart.remaining -= 1
        return _PacketStart.remaining < 0


def start_at(symbols, skip):
    """Breaks on every form of the lane (`trackTCPSegment` without and with an entry guess:
    each packet enters exactly one), stopping at packet `skip` of them all."""
    _PacketStart.remaining = skip
    for symbol in symbols:
        _PacketStart(symbol)


def packet_starts():
    """The addresses where a packet starts (the lane's forms, where their breakpoints stopped),
    the breakpoints removed so that stepping runs through them."""
    starts = set()
    for breakpoint in gdb.breakpoints():
        starts.update(int(location.address) for location in breakpoint.locations)
        breakpoint.delete()
    return starts


def stage_of(frame):
    depth = 0
    while frame is not None and depth < 12:
        name = frame.name() or ""
        for stage, needles in STAGES:
            if any(needle in name for needle in needles):
                return stage
        if frame.type() != gdb.INLINE_FRAME:
            break
        frame = frame.older()
        depth += 1
    return "dispatch"


def chain_name(frame, depth, width):
    """The frame's function and up to `depth - 1` callers it is inlined into, "f <- g"."""
    chain = []
    while frame is not None and len(chain) < depth:
        chain.append((frame.name() or "?")[:width])
        if frame.type() != gdb.INLINE_FRAME:
            break
        frame = frame.older()
    return " <- ".join(chain)


def count(packets):
    gdb.execute("set pagination off")
    totals = collections.Counter()
    per_packet = []
    entries = packet_starts()
    for _ in range(packets):
        counted = collections.Counter()
        while True:
            gdb.execute("stepi", to_string=True)
            pc = int(gdb.parse_and_eval("$pc"))
            if pc in entries:
                break
            counted[stage_of(gdb.newest_frame())] += 1
        per_packet.append(sum(counted.values()))
        totals.update(counted)
    n = len(per_packet)
    print("== instructions per packet ==")
    print("packets sampled   %d" % n)
    print("instructions      %.0f per packet (min %d, max %d)" % (sum(per_packet) / n, min(per_packet), max(per_packet)))
    for stage, value in totals.most_common():
        print("  %-22s %6.1f  %4.1f%%" % (stage, value / n, 100.0 * value / sum(per_packet)))


def unattributed(packets):
    """The innermost function names behind the "dispatch" stage (for refining STAGES)."""
    gdb.execute("set pagination off")
    names = collections.Counter()
    entries = packet_starts()
    for _ in range(packets):
        while True:
            gdb.execute("stepi", to_string=True)
            if int(gdb.parse_and_eval("$pc")) in entries:
                break
            frame = gdb.newest_frame()
            if stage_of(frame) == "dispatch":
                names[chain_name(frame, 3, 70)] += 1
    print("== instructions per packet ==")
    for name, value in names.most_common(40):
        print("%6.1f %s" % (value / packets, name))


# The packet's TCP flags at the lane's entry: its first argument points at the ParsedPacket, and
# `tcpFlags` sits at this offset (`MemoryLayout<ParsedPacket>.offset(of: \.tcpFlags)`; check it
# when ParsedPacket changes: the anchor's data segments must read 18, PSH|ACK).
TCP_FLAGS_OFFSET = 0x47


def functions(packets):
    """Every instruction by its innermost function and that function's caller (inlined frames
    included), per packet; and each packet's TCP flags with its count (SYN 02, SYN|ACK 12, ...)."""
    gdb.execute("set pagination off")
    names = collections.Counter()
    entries = packet_starts()
    per_packet = []
    flags = []
    for _ in range(packets):
        flags.append(int(gdb.parse_and_eval("*(unsigned char*)($rdi+%d)" % TCP_FLAGS_OFFSET)))
        n = 0
        while True:
            gdb.execute("stepi", to_string=True)
            if int(gdb.parse_and_eval("$pc")) in entries:
                break
            n += 1
            names[chain_name(gdb.newest_frame(), 2, 60)] += 1
        per_packet.append(n)
    print("== instructions per packet ==")
    print("per packet (flags:count): " + " ".join("%02x:%d" % (f, c) for f, c in zip(flags, per_packet)))
    print("mean %.0f" % (sum(per_packet) / len(per_packet)))
    for name, value in names.most_common(60):
        print("%6.1f %s" % (value / packets, name))


def loop(packets):
    """The replay loop's own instructions (its real, non-inlined function: ring, hash, frame
    prefetch, calls, counters), each with how often it ran per packet, in address order."""
    gdb.execute("set pagination off")
    counts = collections.Counter()
    entries = packet_starts()
    total = 0
    for _ in range(packets):
        while True:
            gdb.execute("stepi", to_string=True)
            pc = int(gdb.parse_and_eval("$pc"))
            if pc in entries:
                break
            total += 1
            frame = gdb.newest_frame()
            while frame is not None and frame.type() == gdb.INLINE_FRAME:
                frame = frame.older()
            if frame is not None and any(loop in (frame.name() or "") for loop in ("TraceReplay", "walkAlone")):
                counts[pc] += 1
    print("== instructions per packet ==")
    print("total %.1f per packet, of which the loop's own %.1f" % (total / packets, sum(counts.values()) / packets))
    for pc in sorted(counts):
        text = gdb.execute("x/i %d" % pc, to_string=True).split(":", 1)[-1].strip()
        print("%5.2f %s" % (counts[pc] / packets, text))


def byflag(packets):
    """`functions` per TCP flags value: each kind of packet (SYN 02, SYN|ACK 12, ACK 10, FIN|ACK
    11, ...) with its mean and its instructions by function and caller."""
    gdb.execute("set pagination off")
    names = collections.defaultdict(collections.Counter)
    seen = collections.Counter()
    entries = packet_starts()
    for _ in range(packets):
        f = int(gdb.parse_and_eval("*(unsigned char*)($rdi+%d)" % TCP_FLAGS_OFFSET))
        seen[f] += 1
        while True:
            gdb.execute("stepi", to_string=True)
            if int(gdb.parse_and_eval("$pc")) in entries:
                break
            names[f][chain_name(gdb.newest_frame(), 2, 70)] += 1
    print("== instructions per packet ==")
    for f in sorted(seen):
        total = sum(names[f].values())
        print("flags %02x: %d packets, mean %.0f" % (f, seen[f], total / seen[f]))
        for name, value in names[f].most_common(45):
            print("%6.1f %s" % (value / seen[f], name))
