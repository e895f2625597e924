import PacketParsing

extension GeneratorState {
    /// One FTP session: control connection to port 21 (220, USER/331, PASS/230, TYPE/200), the
    /// data-channel negotiation for `mode`, RETR or STOR with its data connection (handshake,
    /// data, FIN), 226, QUIT/221, FIN exchange.
    mutating func ftpSession(mode: FTPMode) -> [[UInt8]] {
        let v6 = mode.isIPv6
        let client = Endpoint(address: newClientAddress(v6: v6), port: ephemeralPort())
        let server = Endpoint(address: serverAddress(v6: v6), port: 21)
        let packet = sessionOptions()
        var control = conversation(client: client, server: server, packet: packet)
        var f: [[UInt8]] = []
        control.handshake(into: &f)
        control.send(fromClient: false, text: "220 ctbench FTP server ready.\r\n", into: &f)
        control.send(fromClient: true, text: "USER anonymous\r\n", into: &f)
        control.send(fromClient: false, text: "331 Please specify the password.\r\n", into: &f)
        control.send(fromClient: true, text: "PASS guest@example.com\r\n", into: &f)
        control.send(fromClient: false, text: "230 Login successful.\r\n", into: &f)
        control.send(fromClient: true, text: "TYPE I\r\n", into: &f)
        control.send(fromClient: false, text: "200 Switching to Binary mode.\r\n", into: &f)

        // Negotiate: who listens where.
        let initiator: Endpoint, listener: Endpoint
        switch mode {
        case .port, .eprt4, .eprt6:
            let port = ephemeralPort(avoiding: client.port)
            listener = client.with(port: port)
            initiator = server.with(port: 20)
            let command = mode == .port
                ? "PORT \(Self.commaAddress(client.address)),\(port >> 8),\(port & 0xff)\r\n"
                : "EPRT |\(v6 ? 2 : 1)|\(client.address)|\(port)|\r\n"
            control.send(fromClient: true, text: command, into: &f)
            control.send(fromClient: false, text: mode == .port ? "200 PORT command successful. Consider using PASV.\r\n"
                                                                : "200 EPRT command successful. Consider using EPSV.\r\n", into: &f)
        case .pasv, .epsv4, .epsv6:
            let port = ephemeralPort(avoiding: 21)
            listener = server.with(port: port)
            initiator = client.with(port: ephemeralPort(avoiding: client.port))
            if mode == .pasv {
                control.send(fromClient: true, text: "PASV\r\n", into: &f)
                control.send(fromClient: false, text: "227 Entering Passive Mode (\(Self.commaAddress(server.address)),\(port >> 8),\(port & 0xff)).\r\n", into: &f)
            } else {
                control.send(fromClient: true, text: "EPSV\r\n", into: &f)
                control.send(fromClient: false, text: "229 Entering Extended Passive Mode (|||\(port)|)\r\n", into: &f)
            }
        }

        let download = rng.chance(0.5)
        let size = rng.int(in: 200...6000)
        let file = "file-\(rng.int(below: 100_000)).bin"
        control.send(fromClient: true, text: download ? "RETR \(file)\r\n" : "STOR \(file)\r\n", into: &f)
        control.send(fromClient: false, text: "150 Opening BINARY mode data connection for \(file) (\(size) bytes).\r\n", into: &f)

        var data = conversation(client: initiator, server: listener, packet: packet)
        data.handshake(into: &f)
        // The data flows server -> client on RETR, client -> server on STOR; the data
        // connection's "client" is whoever connected.
        let senderIsInitiator = download == mode.serverConnects
        data.send(fromClient: senderIsInitiator, payload: payload(size), acked: true, into: &f)
        data.close(initiatedByClient: senderIsInitiator, into: &f)

        control.send(fromClient: false, text: "226 Transfer complete.\r\n", into: &f)
        control.send(fromClient: true, text: "QUIT\r\n", into: &f)
        control.send(fromClient: false, text: "221 Goodbye.\r\n", into: &f)
        control.close(initiatedByClient: false, into: &f)

        summary.ftpSessions[mode, default: 0] += 1
        summary.ftpDataConnections += 1
        if v6 { summary.ipv6Sessions += 1 }
        return f
    }

    /// "10,1,2,3" for PORT and 227.
    static func commaAddress(_ a: IPAddress) -> String {
        let v = a.v4!
        return "\(v >> 24),\((v >> 16) & 0xff),\((v >> 8) & 0xff),\(v & 0xff)"
    }

    /// One TFTP transfer: RRQ or WRQ from a client port to port 69; the server answers from a new
    /// ephemeral port to the client port; 512-byte DATA blocks (the last one shorter) and ACKs.
    mutating func tftpSession(write: Bool) -> [[UInt8]] {
        let v6 = rng.chance(config.ipv6Share)
        let client = Endpoint(address: newClientAddress(v6: v6), port: ephemeralPort())
        let server = Endpoint(address: serverAddress(v6: v6), port: 69)
        let transfer = server.with(port: ephemeralPort(avoiding: client.port))
        let packet = sessionOptions()
        let blocks = rng.int(in: 1...6)
        let lastSize = rng.int(in: 0...511)
        let file = "\(write ? "upload" : "boot")-\(rng.int(below: 10_000)).img"
        var f: [[UInt8]] = []
        let request: [UInt8] = [0, write ? 2 : 1] + Array(file.utf8) + [0] + Array("octet".utf8) + [0]
        f.append(PacketBuilder.udp(from: client, to: server, payload: request, packet: packet))
        func dataBlock(_ b: Int) -> [UInt8] { [0, 3] + bigEndianBytes(UInt16(b)) }
        func ackBlock(_ b: Int) -> [UInt8] { [0, 4] + bigEndianBytes(UInt16(b)) }
        if write { f.append(PacketBuilder.udp(from: transfer, to: client, payload: ackBlock(0), packet: packet)) }
        for b in 1...blocks {
            let body = payload(b == blocks ? lastSize : 512)
            if write {
                f.append(PacketBuilder.udp(from: client, to: transfer, payload: dataBlock(b) + body, packet: packet))
                f.append(PacketBuilder.udp(from: transfer, to: client, payload: ackBlock(b), packet: packet))
            } else {
                f.append(PacketBuilder.udp(from: transfer, to: client, payload: dataBlock(b) + body, packet: packet))
                f.append(PacketBuilder.udp(from: client, to: transfer, payload: ackBlock(b), packet: packet))
            }
        }
        summary.tftpSessions += 1
        if v6 { summary.ipv6Sessions += 1 }
        return f
    }
}
