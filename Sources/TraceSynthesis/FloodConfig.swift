/// Hostile traffic for `FloodGenerator` (and `ctbench gen --flood`).
public enum FloodKind: String, CaseIterable, Hashable, Sendable {
    /// TCP SYNs from never-repeated spoofed sources to a few servers: each a new connection.
    case syn
    /// One FTP control connection sending PORT commands (one in 16 a bounce to a third party),
    /// each acknowledged by the server; then data connections to the newest and oldest port.
    case expectations
    /// ICMP and ICMPv6 errors quoting random TCP/UDP tuples (one in 64 quotes a live
    /// background connection instead).
    case icmpErrors = "icmp-errors"
    /// IPv4 and IPv6 fragments of UDP datagrams (first, middle and last).
    case fragments
    /// Frames of odd sizes: empty, a 10-byte runt, 9,000-byte UDP over IPv4 and IPv6, and a
    /// 65,000-byte UDP datagram (beyond any usual snap length).
    case oddSizes = "odd-sizes"
}

/// What `FloodGenerator` writes: `packets` flood units of one kind, interleaved with
/// `backgroundFlows` well-behaved TCP connections that are open before the flood, exchange data
/// all through it and close after it.
///
/// The background frames are the same, in the same order, whatever `packets` is: a trace with
/// `packets: 0` is the same traffic without the flood, to compare verdicts with.
public struct FloodConfig: Hashable, Sendable {
    public var kind: FloodKind
    /// Flood units: SYNs, PORT commands (2 frames each: command and ACK), ICMP errors,
    /// fragments or odd frames.
    public var packets: Int
    /// Background TCP connections (client 10.255.0.x to 172.31.255.1:80).
    public var backgroundFlows: Int
    /// Request/response exchanges per background connection, spread evenly over the flood.
    public var backgroundExchanges: Int
    public var seed: UInt64

    public init(kind: FloodKind, packets: Int, backgroundFlows: Int = 4, backgroundExchanges: Int = 8, seed: UInt64 = 1) {
        self.kind = kind
        self.packets = packets
        self.backgroundFlows = backgroundFlows
        self.backgroundExchanges = backgroundExchanges
        self.seed = seed
    }
}

/// What a flood trace holds, and where the frames a test looks at are.
public struct FloodSummary: Hashable, Sendable, CustomStringConvertible {
    public var packets = 0
    public var bytes = 0
    /// Frames of the flood itself (a PORT command and its ACK are two).
    public var floodFrames = 0
    /// Trace index of every background frame, in background order.
    public var backgroundIndices: [Int] = []
    /// Trace index of the SYN of a new well-behaved connection opened half-way through the
    /// flood (nil without a flood or without background flows).
    public var lateConnectionSYN: Int?
    /// `expectations`: the FTP control connection's frames, the PORT commands that named a
    /// third party, and the data connections' SYNs to the newest and the oldest announced port.
    public var controlIndices: [Int] = []
    public var bounceCommands: [Int] = []
    public var dataToNewestPort: Int?
    public var dataToOldestPort: Int?
    /// `icmpErrors`: the errors that quote a live background connection.
    public var relatedErrors: [Int] = []

    public init() {}

    public var description: String {
        "\(packets) packets, \(bytes) bytes: \(floodFrames) flood frames, \(backgroundIndices.count) background frames"
    }
}
