import PacketParsing

/// The application-layer gateway attached to a connection (given on its first commit).
public enum ALGKind: UInt8, Sendable, CaseIterable {
    case none = 0
    case ftp
    case tftp

    public var name: String {
        switch self {
        case .none: "none"
        case .ftp: "ftp"
        case .tftp: "tftp"
        }
    }

    public init?(name: String) {
        guard let kind = ALGKind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// One tracked connection: the entry that both directions find. Lives in the partition's
/// connection store; the index of its slot is its handle inside the partition, `id` is its
/// name outside (the trace index of the packet that committed it, so ids do not depend on
/// sharding).
///
/// 128 bytes, two cache lines (pinned by a test). The first holds everything a packet of an
/// established connection reads and writes: the key's words but the addresses' high halves,
/// the TCP peers, the expiry, and the id packed with the small fields (`packed`). The second
/// holds the rest: the addresses' high halves (zero for IPv4, so an IPv4 key compares on the
/// first line alone: `addressHighsAreZero`), the listed expiry, the master's id, mark, label
/// and list links. So an IPv4 packet of an established connection touches one entry line,
/// not two (docs/PERFORMANCE.md, "Session 13"). Field order is the layout.
public struct Connection: Sendable {
    // First line: the established path's.
    /// The low halves (bytes 8..<16) of the original direction's source and destination.
    var sourceLow: UInt64
    var destinationLow: UInt64
    /// The original direction's ports, zone, protocol and family (`FlowKey.tailWord`).
    var keyTail: UInt64
    /// TCP state of both peers (unused for other protocols).
    public var tcp: TCPPeers
    /// Trace time (ns) at which the connection expires unless refreshed.
    public var expiration: UInt64
    /// `id` in bits 0-47 (all ones: `noID`), then `timeoutClass`, `listClass`, `alg`,
    /// `otherState` and two flags (`Packed`).
    var packed: UInt64

    // Second line.
    /// The high halves (bytes 0..<8) of the original direction's source and destination.
    var sourceHigh: UInt64
    var destinationHigh: UInt64
    /// The expiration this entry had when it was placed in its expiry list (see `ConnectionStore`).
    var listedExpiration: UInt64
    /// `masterID`'s value; `packed` says whether it is set.
    var storedMasterID: UInt64
    /// ct_label, 128 bits as two halves (high, low).
    public var labelHigh: UInt64
    public var labelLow: UInt64
    public var mark: UInt32
    /// Expiry-list links (entry indices), or the free-list link while the entry is unused.
    var previous: UInt32
    var next: UInt32

    init(key: FlowKey, tcp: TCPPeers, timeoutClass: TimeoutClass, alg: ALGKind, otherState: OtherState,
         mark: UInt32, expiration: UInt64, id: UInt64, masterID: UInt64, labelHigh: UInt64, labelLow: UInt64) {
        sourceLow = key.src.low
        destinationLow = key.dst.low
        keyTail = key.tailWord
        self.tcp = tcp
        self.expiration = expiration
        packed = Packed.idMask
        sourceHigh = key.src.high
        destinationHigh = key.dst.high
        listedExpiration = 0
        storedMasterID = Connection.noID
        self.labelHigh = labelHigh
        self.labelLow = labelLow
        self.mark = mark
        previous = 0
        next = 0
        self.id = id
        self.timeoutClass = timeoutClass
        self.alg = alg
        self.otherState = otherState
        self.masterID = masterID
        if key.src.high | key.dst.high == 0 { packed |= Packed.addressHighsAreZero }
    }

    @inlinable public static var noID: UInt64 { .max }

    /// Original-direction key, zone included. The reply key is `key.reversed`.
    public var key: FlowKey {
        FlowKey(src: IPAddress(high: sourceHigh, low: sourceLow), dst: IPAddress(high: destinationHigh, low: destinationLow),
                tailWord: keyTail)
    }

    /// Trace index of the committing packet, or `noID` for an unused entry. At most 2^48 - 2.
    public var id: UInt64 {
        @inline(__always) get {
            let raw = packed & Packed.idMask
            return raw == Packed.idMask ? Connection.noID : raw
        }
        set {
            precondition(newValue < Packed.idMask || newValue == Connection.noID, "connection id past 2^48")
            packed = packed & ~Packed.idMask | newValue & Packed.idMask
        }
    }

    /// The timeout class the connection is under now (for TCP: the one its tracker last chose).
    public var timeoutClass: TimeoutClass {
        @inline(__always) get { TimeoutClass(packedByte: packed >> Packed.timeoutClassShift) }
        set { packed = packed & ~(0xF << Packed.timeoutClassShift) | UInt64(newValue.rawValue) << Packed.timeoutClassShift }
    }

    /// The class whose expiry list holds the entry: `timeoutClass`, or an earlier class while
    /// that list still reaches the entry in time (`ConnectionStore.classChanged`).
    var listClass: TimeoutClass {
        @inline(__always) get { TimeoutClass(packedByte: packed >> Packed.listClassShift) }
        set { packed = packed & ~(0xF << Packed.listClassShift) | UInt64(newValue.rawValue) << Packed.listClassShift }
    }

    /// The application-layer gateway attached to the connection.
    public var alg: ALGKind {
        @inline(__always) get { unsafeBitCast(UInt8(truncatingIfNeeded: packed >> Packed.algShift) & 3, to: ALGKind.self) }
        set { packed = packed & ~(3 << Packed.algShift) | UInt64(newValue.rawValue) << Packed.algShift }
    }

    /// UDP / ICMP / other: whether the reply direction has been seen; first-vs-multiple.
    var otherState: OtherState {
        @inline(__always) get { unsafeBitCast(UInt8(truncatingIfNeeded: packed >> Packed.otherStateShift) & 3, to: OtherState.self) }
        set { packed = packed & ~(3 << Packed.otherStateShift) | UInt64(newValue.rawValue) << Packed.otherStateShift }
    }

    /// `id` of the master connection for related connections, else `Connection.noID`.
    public var masterID: UInt64 {
        @inline(__always) get { isRelated ? storedMasterID : Connection.noID }
        set {
            storedMasterID = newValue
            packed = newValue == Connection.noID ? packed & ~Packed.related : packed | Packed.related
        }
    }

    /// Whether the entry holds a connection (a free one's id is `noID`; read on the first line).
    var isLive: Bool { @inline(__always) get { packed & Packed.idMask != Packed.idMask } }

    /// Whether the connection has a master (read on the first line).
    public var isRelated: Bool { @inline(__always) get { packed & Packed.related != 0 } }

    /// `masterID` of the connection at `entry`, reading the second line only for a related
    /// connection. Through `masterID` itself the compiler may load the stored id ahead of the
    /// branch (it did in `trackStateChange`: a second-line miss on every state change at a
    /// million flows); out of line, it cannot.
    @inline(__always)
    static func masterID(at entry: UnsafePointer<Connection>) -> UInt64 {
        entry.pointee.isRelated ? storedMasterID(at: entry) : Connection.noID
    }

    @inline(never)
    static func storedMasterID(at entry: UnsafePointer<Connection>) -> UInt64 { entry.pointee.storedMasterID }

    /// Both addresses' high halves are zero (every IPv4 key): a key whose high halves are zero
    /// too matches on the first line alone, and one whose are not cannot match.
    var addressHighsAreZero: Bool { packed & Packed.addressHighsAreZero != 0 }

    /// Whether `key` is the original direction (false) of the connection at `entry`, its reply
    /// direction (true), or neither (nil); the original direction is asked first. Reads the
    /// second line only for a key whose addresses' high halves are not all zero (IPv6).
    /// Through a pointer: a method on the value copied the whole entry, both lines, first.
    @inline(__always)
    static func direction(of key: FlowKey, at entry: UnsafePointer<Connection>) -> Bool? {
        let forward = (entry.pointee.sourceLow ^ key.src.low) | (entry.pointee.destinationLow ^ key.dst.low)
            | (entry.pointee.keyTail ^ key.tailWord)
        if forward == 0 && highsMatch(key, at: entry, reversed: false) { return false }
        let reverse = (entry.pointee.sourceLow ^ key.dst.low) | (entry.pointee.destinationLow ^ key.src.low)
            | (entry.pointee.keyTail ^ key.reversedTailWord)
        if reverse == 0 && highsMatch(key, at: entry, reversed: true) { return true }
        return nil
    }

    /// Whether the addresses' high halves of `key` (swapped when `reversed`) are the entry's.
    @inline(__always)
    static func highsMatch(_ key: FlowKey, at entry: UnsafePointer<Connection>, reversed: Bool) -> Bool {
        let keyHighsAreZero = key.src.high | key.dst.high == 0
        let entryHighsAreZero = entry.pointee.addressHighsAreZero
        if keyHighsAreZero || entryHighsAreZero { return keyHighsAreZero && entryHighsAreZero }
        return secondLineHighsMatch(key, at: entry, reversed: reversed)
    }

    /// The high halves compared on the second line. Out of line so that the compiler cannot
    /// load them ahead of the branch above for every key (inline, it did: the second line was
    /// read on every look-up).
    @inline(never)
    static func secondLineHighsMatch(_ key: FlowKey, at entry: UnsafePointer<Connection>, reversed: Bool) -> Bool {
        reversed ? entry.pointee.sourceHigh == key.dst.high && entry.pointee.destinationHigh == key.src.high
                 : entry.pointee.sourceHigh == key.src.high && entry.pointee.destinationHigh == key.dst.high
    }

    /// The bits of `packed`.
    enum Packed {
        static var idMask: UInt64 { 0xFFFF_FFFF_FFFF }
        static var timeoutClassShift: UInt64 { 48 }
        static var listClassShift: UInt64 { 52 }
        static var algShift: UInt64 { 56 }
        static var otherStateShift: UInt64 { 58 }
        static var related: UInt64 { 1 << 60 }
        static var addressHighsAreZero: UInt64 { 1 << 61 }
    }
}

extension TimeoutClass {
    /// The class in the low four bits of `byte` (`Connection.packed`): a nibble the setter stored.
    @inline(__always)
    init(packedByte byte: UInt64) {
        self = unsafeBitCast(UInt8(truncatingIfNeeded: byte) & 0xF, to: TimeoutClass.self)
    }
}

/// State of a non-TCP connection, as OVS's conntrack-other / conntrack-icmp keep it.
enum OtherState: UInt8, Sendable {
    case first = 0
    case multiple
    case bidirectional
}
