import PacketParsing

/// Scripts one TCP connection with consistent sequence and acknowledgement numbers.
///
///     var frames: [[UInt8]] = []
///     var c = TCPConversation(client: Endpoint(ip: "10.0.0.1", port: 40000),
///                             server: Endpoint(ip: "10.0.0.2", port: 21))
///     c.handshake(into: &frames)
///     c.send(fromClient: false, text: "220 ready\r\n", into: &frames)
///     c.close(into: &frames)
///
/// Every segment after the SYN carries ACK with the peer's next sequence number, so data sent
/// by one side implicitly acknowledges everything the other side sent before.
public struct TCPConversation: Sendable {
    public let client: Endpoint
    public let server: Endpoint
    public let clientISN: UInt32
    public let serverISN: UInt32
    /// The sequence number each side sends next.
    public private(set) var clientNextSeq: UInt32
    public private(set) var serverNextSeq: UInt32
    public var clientWindow: UInt16 = 64240
    public var serverWindow: UInt16 = 65160
    /// Payloads longer than this are sent as several segments.
    public var maximumSegmentSize = 1460
    /// VLAN tags, TTL and so on for every segment; the IPv4 identification is counted per side.
    public var packet: PacketOptions
    public var clientIPID: UInt16
    public var serverIPID: UInt16

    public init(client: Endpoint, server: Endpoint, clientISN: UInt32 = 1_000, serverISN: UInt32 = 500_000,
                packet: PacketOptions = PacketOptions(), clientIPID: UInt16 = 1, serverIPID: UInt16 = 1) {
        precondition(client.isIPv6 == server.isIPv6, "TCPConversation: client and server families differ")
        self.client = client
        self.server = server
        self.clientISN = clientISN
        self.serverISN = serverISN
        clientNextSeq = clientISN
        serverNextSeq = serverISN
        self.packet = packet
        self.clientIPID = clientIPID
        self.serverIPID = serverIPID
    }

    /// Builds one segment from one side with the current numbers; advances that side's sequence
    /// number by the payload length (+1 for SYN and FIN).
    public mutating func segment(fromClient: Bool, flags: TCPFlags, payload: [UInt8] = [],
                                 options: [TCPOption] = []) -> [UInt8] {
        var opts = packet
        if fromClient { opts.identification = clientIPID; clientIPID &+= 1 }
        else { opts.identification = serverIPID; serverIPID &+= 1 }
        let seq = fromClient ? clientNextSeq : serverNextSeq
        let ack = flags.contains(.ack) ? (fromClient ? serverNextSeq : clientNextSeq) : 0
        let frame = PacketBuilder.tcp(
            from: fromClient ? client : server, to: fromClient ? server : client, flags: flags,
            seq: seq, ack: ack, window: fromClient ? clientWindow : serverWindow,
            payload: payload, options: options, packet: opts)
        let advance = UInt32(payload.count) + (flags.contains(.syn) ? 1 : 0) + (flags.contains(.fin) ? 1 : 0)
        if fromClient { clientNextSeq &+= advance } else { serverNextSeq &+= advance }
        return frame
    }

    /// SYN, SYN-ACK, ACK.
    public mutating func handshake(into sink: inout some FrameSink, options: [TCPOption] = TCPOption.synDefaults) {
        sink.append(segment(fromClient: true, flags: .syn, options: options))
        sink.append(segment(fromClient: false, flags: [.syn, .ack], options: options))
        sink.append(segment(fromClient: true, flags: .ack))
    }

    /// Sends `payload` from one side as PSH|ACK segments of at most `maximumSegmentSize` bytes;
    /// with `acked`, the other side answers the last segment with a pure ACK.
    public mutating func send(fromClient: Bool, payload: [UInt8], acked: Bool = false, into sink: inout some FrameSink) {
        var start = 0
        repeat {
            let end = min(start + maximumSegmentSize, payload.count)
            sink.append(segment(fromClient: fromClient, flags: [.psh, .ack], payload: Array(payload[start..<end])))
            start = end
        } while start < payload.count
        if acked { sink.append(segment(fromClient: !fromClient, flags: .ack)) }
    }

    /// Sends text (e.g. an FTP command line, CRLF included by the caller).
    public mutating func send(fromClient: Bool, text: String, acked: Bool = false, into sink: inout some FrameSink) {
        send(fromClient: fromClient, payload: Array(text.utf8), acked: acked, into: &sink)
    }

    /// A pure ACK from one side.
    public mutating func acknowledge(fromClient: Bool, into sink: inout some FrameSink) {
        sink.append(segment(fromClient: fromClient, flags: .ack))
    }

    /// FIN|ACK, ACK, FIN|ACK, ACK, starting from the side given.
    public mutating func close(initiatedByClient: Bool = true, into sink: inout some FrameSink) {
        sink.append(segment(fromClient: initiatedByClient, flags: [.fin, .ack]))
        sink.append(segment(fromClient: !initiatedByClient, flags: .ack))
        sink.append(segment(fromClient: !initiatedByClient, flags: [.fin, .ack]))
        sink.append(segment(fromClient: initiatedByClient, flags: .ack))
    }

    /// RST|ACK from one side, at its next sequence number.
    public mutating func reset(fromClient: Bool = true, into sink: inout some FrameSink) {
        sink.append(segment(fromClient: fromClient, flags: [.rst, .ack]))
    }
}
