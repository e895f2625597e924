// Resident memory per live connection: fills a partition (limit = N) with N established TCP
// connections, each through a real SYN / SYN-ACK / ACK handshake, and divides the growth of the
// process's resident set by N. The partition's own allocation (index and entry array) is counted:
// RSS is read before the partition exists. No packet arrays are kept, so the growth is the table.
//
//   swift run -c release --package-path Benchmarks MemoryPerConnection [N]     (default 1,000,000)
import Conntrack
import Glibc
import PacketParsing

/// Resident set size in bytes, from /proc/self/statm (second field, in pages).
func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return -1 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { return -1 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let fields = text.split(separator: " ")
    guard fields.count >= 2, let pages = Int(fields[1]) else { return -1 }
    return pages * sysconf(Int32(_SC_PAGESIZE))
}

func segment(_ key: FlowKey, _ flags: TCPFlags, seq: UInt32, ack: UInt32) -> ParsedPacket {
    var p = ParsedPacket()
    p.key = key
    p.etherType = 0x0800
    p.l3Offset = 14
    p.l3Length = 40
    p.l4Offset = 34
    p.payloadOffset = 54
    p.ipTTL = 64
    p.tcpFlags = flags
    p.tcpSeq = seq
    p.tcpAck = ack
    p.tcpWindow = 65_535
    return p
}

let flows = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let before = residentBytes()
let partition = ConntrackPartition(config: ConntrackConfig(maxConnections: flows, checksums: .off))
let afterCreate = residentBytes()
let action = CTAction(zone: 0, commit: true)
let empty = UnsafeRawBufferPointer(start: nil, count: 0)
var clock: UInt64 = 1_000_000_000
for i in 0..<flows {
    let key = FlowKey(
        src: IPAddress(v4: 0x0A00_0000 &+ UInt32(truncatingIfNeeded: i)),
        dst: IPAddress(v4: 0xAC10_0000 | UInt32(truncatingIfNeeded: i & 0xFF)),
        srcPort: UInt16(truncatingIfNeeded: 1024 + i % 64_000), dstPort: 443, proto: IPProtocol.tcp, family: .ipv4)
    let c = UInt32(truncatingIfNeeded: i) &* 2_654_435_761  // Wrapping: any 32-bit ISN is valid.
    let s = c ^ 0x5A5A_5A5A
    for (packet, k) in [(segment(key, .syn, seq: c, ack: 0), key),
                        (segment(key.reversed, [.syn, .ack], seq: s, ack: c &+ 1), key.reversed),
                        (segment(key, .ack, seq: c &+ 1, ack: s &+ 1), key)] {
        clock &+= 1_000
        let verdict = partition.process(packet, frame: empty, hash: partition.hash(k), packetIndex: clock,
                                        time: clock, action: action)
        precondition(!verdict.state.contains(.invalid) && verdict.connectionID != Connection.noID,
                     "flow \(i): \(verdict.state)")
    }
}
precondition(partition.count == flows)
let after = residentBytes()
let perConnection = Double(after - before) / Double(flows)
print("connections:                  \(partition.count)")
print("RSS before partition:         \(before) bytes")
print("RSS after init (index):       \(afterCreate) bytes (+\(afterCreate - before))")
print("RSS after \(flows) connections: \(after) bytes (+\(after - before))")
print("RSS growth per connection:    \(format2(perConnection)) bytes")
print("partition.bytesPerConnection: \(format2(partition.bytesPerConnection)) bytes (entry + index share, by layout)")
print("MemoryLayout<Connection>.stride: \(MemoryLayout<Connection>.stride) bytes")
withExtendedLifetime(partition) {}

func format2(_ x: Double) -> String {
    let hundredths = Int((x * 100).rounded())
    let frac = hundredths % 100
    return "\(hundredths / 100).\(frac < 10 ? "0" : "")\(frac)"
}
