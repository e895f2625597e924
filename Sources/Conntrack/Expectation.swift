import PacketParsing

/// What an expected data connection looks like before it exists: protocol, zone, the address of
/// the side that will connect (any source port), and the listener's address and port.
///
/// The key leaves out the initiator's port, so the data connection's own 5-tuple hash says
/// nothing about where its expectation is: the sharded datapath picks an expectation's owner
/// with `ownerHash`, which reads only zone, protocol and the (unordered) address pair, so every
/// expectation of one master lands with the same owner.
public struct ExpectationKey: Hashable, Sendable, CustomStringConvertible {
    public var src: IPAddress
    public var dst: IPAddress
    public var dstPort: UInt16
    public var zone: UInt16
    public var proto: UInt8
    public var family: AddressFamily

    public init(src: IPAddress, dst: IPAddress, dstPort: UInt16, proto: UInt8, family: AddressFamily, zone: UInt16) {
        self.src = src
        self.dst = dst
        self.dstPort = dstPort
        self.zone = zone
        self.proto = proto
        self.family = family
    }

    /// The expectation a new connection's first packet would match.
    @inlinable
    public init(firstPacketOf key: FlowKey) {
        self.init(src: key.src, dst: key.dst, dstPort: key.dstPort, proto: key.proto, family: key.family, zone: key.zone)
    }

    /// Symmetric in the two addresses, port-free: same owner for all of a master's expectations.
    @inlinable
    public func ownerHash(seed: UInt64) -> UInt64 {
        FlowKey(src: src, dst: dst, srcPort: 0, dstPort: 0, proto: proto, family: family, zone: zone)
            .symmetricHash(seed: seed)
    }

    public var description: String {
        "\(ConntrackDump.protocolName(FlowKey(src: src, dst: dst, srcPort: 0, dstPort: dstPort, proto: proto, family: family))),"
            + "src=\(src),dst=\(dst),sport=*,dport=\(dstPort)" + (zone != 0 ? ",zone=\(zone)" : "")
    }
}

/// An announced data connection, waiting for its first packet.
public struct Expectation: Sendable, Equatable {
    public var key: ExpectationKey
    /// The control (master) connection's id and original key (to check it is still alive).
    public var masterID: UInt64
    public var masterKey: FlowKey
    /// The ALG that announced it.
    public var alg: ALGKind
    /// Trace time (ns) after which it is gone.
    public var expiration: UInt64
    /// Trace index of the packet that announced it.
    public var announcedAt: UInt64
    /// The master's mark and label, inherited by the related connection (as OVS does).
    public var mark: UInt32
    public var label: CTLabel

    public init(key: ExpectationKey, masterID: UInt64, masterKey: FlowKey, alg: ALGKind, expiration: UInt64,
                announcedAt: UInt64, mark: UInt32 = 0, label: CTLabel = .zero) {
        self.key = key
        self.masterID = masterID
        self.masterKey = masterKey
        self.alg = alg
        self.expiration = expiration
        self.announcedAt = announcedAt
        self.mark = mark
        self.label = label
    }
}

/// Counters of an expectation table.
public struct ExpectationStats: Sendable, Equatable {
    public var created: UInt64 = 0
    /// An identical expectation (same key, same master) announced again: a retransmission.
    public var duplicates: UInt64 = 0
    /// Same key announced by another master while the first is alive: the first one stays.
    public var clashes: UInt64 = 0
    public var matched: UInt64 = 0
    public var expired: UInt64 = 0
    /// Removed because their master went away.
    public var orphaned: UInt64 = 0
    /// Oldest expectation of a master evicted because the master reached its limit.
    public var evictedByMasterLimit: UInt64 = 0
    /// Refused because the table was full.
    public var refusedByTableLimit: UInt64 = 0

    public init() {}

    public mutating func merge(_ o: ExpectationStats) {
        created += o.created; duplicates += o.duplicates; clashes += o.clashes; matched += o.matched
        expired += o.expired; orphaned += o.orphaned; evictedByMasterLimit += o.evictedByMasterLimit
        refusedByTableLimit += o.refusedByTableLimit
    }
}
