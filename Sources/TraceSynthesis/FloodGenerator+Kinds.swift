import PacketParsing

/// The flood units of each `FloodKind`, and the frames before and after them.
extension FloodState {
    static let ftpClient = Endpoint(ip: "10.254.0.1", port: 40_000)
    static let ftpServer = Endpoint(ip: "172.30.1.1", port: 21)

    mutating func prologue(into sink: inout some FrameSink) {
        guard config.kind == .expectations else { return }
        var c = TCPConversation(client: Self.ftpClient, server: Self.ftpServer)
        var frames: [[UInt8]] = []
        c.handshake(into: &frames)
        for (fromClient, line) in [(false, "220 ready.\r\n"), (true, "USER flood\r\n"), (false, "331 Password.\r\n"),
                                   (true, "PASS x\r\n"), (false, "230 Logged in.\r\n")] {
            c.send(fromClient: fromClient, text: line, into: &frames)
        }
        control = c
        emitControl(frames, into: &sink)
    }

    mutating func emitControl(_ frames: [[UInt8]], into sink: inout some FrameSink) {
        for frame in frames {
            summary.controlIndices.append(summary.packets)
            emit(frame, into: &sink)
        }
    }

    mutating func floodUnit(_ unit: Int, into sink: inout some FrameSink) {
        summary.floodFrames += config.kind == .expectations ? 2 : 1
        switch config.kind {
        case .syn: emit(spoofedSYN(unit), into: &sink)
        case .expectations: portCommand(unit, into: &sink)
        case .icmpErrors: icmpError(unit, into: &sink)
        case .fragments: emit(nextFragment(unit), into: &sink)
        case .oddSizes: emit(oddFrame(unit), into: &sink)
        }
    }

    mutating func epilogue(into sink: inout some FrameSink) {
        guard config.kind == .expectations, let newest = announced.last, let oldest = announced.first else { return }
        for port in newest == oldest ? [newest] : [newest, oldest] {
            var data = TCPConversation(client: Self.ftpServer.with(port: 20), server: Self.ftpClient.with(port: port))
            if port == newest { summary.dataToNewestPort = summary.packets } else { summary.dataToOldestPort = summary.packets }
            var frames: [[UInt8]] = []
            data.handshake(into: &frames)
            for frame in frames { emit(frame, into: &sink) }
        }
    }

    mutating func spoofedSYN(_ unit: Int) -> [UInt8] {
        let v6 = unit % 8 == 7
        let source = Endpoint(address: spoofedSource(v6: v6, prefix: 0x0A00_0000), port: UInt16(rng.int(in: 1024...65535)))
        let server = v6 ? Endpoint(ip: "2001:db8:5e::1", port: 443)
            : Endpoint(address: IPAddress(v4: 0xAC1E_0001 + UInt32(unit % 16)), port: unit % 2 == 0 ? 80 : 443)
        return PacketBuilder.tcp(from: source, to: server, flags: .syn, seq: UInt32(truncatingIfNeeded: rng.next()),
                                 options: TCPOption.synDefaults)
    }

    /// `PORT` from the control connection's client (one in 16 names 10.9.9.9: a bounce), acked.
    mutating func portCommand(_ unit: Int, into sink: inout some FrameSink) {
        let port = UInt16(1024 + unit % 60_000)
        let bounce = unit % 16 == 7 && unit != config.packets - 1
        let host = bounce ? "10,9,9,9" : "10,254,0,1"
        var frames: [[UInt8]] = []
        control!.send(fromClient: true, text: "PORT \(host),\(port >> 8),\(port & 0xFF)\r\n", acked: true, into: &frames)
        if bounce { summary.bounceCommands.append(summary.packets) } else { announced.append(port) }
        emitControl(frames, into: &sink)
    }

    mutating func icmpError(_ unit: Int, into sink: inout some FrameSink) {
        if unit % 64 == 63 && !background.isEmpty {
            var probe = background[unit % background.count]  // a copy: the background keeps its numbers
            let offending = probe.segment(fromClient: true, flags: .ack)
            summary.relatedErrors.append(summary.packets)
            emit(PacketBuilder.icmpError(.timeExceeded, from: IPAddress(v4: 0xC000_0201), about: offending), into: &sink)
            return
        }
        let v6 = unit % 8 == 3
        let source = Endpoint(address: spoofedSource(v6: v6, prefix: 0xC612_0000), port: UInt16(rng.int(in: 1...65535)))
        let target = v6 ? Endpoint(ip: "2001:db8:beef::1", port: UInt16(rng.int(in: 1...65535)))
            : Endpoint(address: IPAddress(v4: 0xC613_0000 | UInt32(rng.int(below: 65_536))), port: UInt16(rng.int(in: 1...65535)))
        let offending = unit % 2 == 0
            ? PacketBuilder.tcp(from: source, to: target, flags: .syn, seq: UInt32(truncatingIfNeeded: rng.next()))
            : PacketBuilder.udp(from: source, to: target, payload: [1, 2, 3, 4])
        let kinds: [ICMPErrorKind] = [.portUnreachable, .hostUnreachable, .timeExceeded, .fragmentationNeeded(mtu: 1400),
                                      .administrativelyProhibited]
        let router = v6 ? Endpoint(ip: "2001:db8:ffff::1").address : IPAddress(v4: 0xC000_0200 | UInt32(1 + unit % 200))
        emit(PacketBuilder.icmpError(kinds[rng.int(below: kinds.count)], from: router, about: offending), into: &sink)
    }

    /// The next fragment: a 1,200-byte UDP datagram in three pieces (one datagram in four over IPv6).
    mutating func nextFragment(_ unit: Int) -> [UInt8] {
        if pendingFragments.isEmpty {
            let v6 = (unit / 3) % 4 == 3
            let source = Endpoint(address: spoofedSource(v6: v6, prefix: 0x0A80_0000), port: 5_000)
            let target = v6 ? Endpoint(ip: "2001:db8:f::1", port: 5_001) : Endpoint(ip: "172.30.3.1", port: 5_001)
            let datagram = PacketBuilder.udp(from: source, to: target, payload: [UInt8](repeating: 0x46, count: 1_200))
            pendingFragments = PacketBuilder.fragment(datagram, payloadBytesPerFragment: 416,
                                                      identification: UInt32(truncatingIfNeeded: unit))
        }
        return pendingFragments.removeFirst()
    }

    /// Empty, runt, 9,000-byte UDP over IPv4 and IPv6, 65,000-byte UDP, in turn.
    mutating func oddFrame(_ unit: Int) -> [UInt8] {
        switch unit % 5 {
        case 0: return []
        case 1: return [UInt8](repeating: 0xAA, count: 10)
        case 2: return PacketBuilder.udp(from: Endpoint(ip: "10.253.0.1", port: 7_000), to: Endpoint(ip: "172.30.2.1", port: 7_001),
                                         payload: [UInt8](repeating: 0x4A, count: 9_000))
        case 3: return PacketBuilder.udp(from: Endpoint(ip: "2001:db8:253::1", port: 7_000),
                                         to: Endpoint(ip: "2001:db8:30:2::1", port: 7_001), payload: [UInt8](repeating: 0x4A, count: 9_000))
        default: return PacketBuilder.udp(from: Endpoint(ip: "10.253.0.2", port: 7_002), to: Endpoint(ip: "172.30.2.1", port: 7_003),
                                          payload: [UInt8](repeating: 0x47, count: 65_000))
        }
    }
}
