@testable import Conntrack
import PacketParsing
import Testing

/// Layout, timeout defaults and the reason table.
@Suite struct TCPTrackerValueTests {
    @Test func trackerFitsInThirtyTwoBytes() {
        #expect(MemoryLayout<TCPTracker>.size <= 32)
        #expect(MemoryLayout<TCPUpdateResult>.size <= 2)
    }

    @Test func defaultTimeoutsAreOVSUserspaceDefaults() {
        let t = TCPTimeouts()
        let second: UInt64 = 1_000_000_000
        #expect(t[.firstPacket] == 30 * second)
        #expect(t[.opening] == 30 * second)
        #expect(t[.established] == 86_400 * second)
        #expect(t[.closing] == 900 * second)
        #expect(t[.finWait] == 45 * second)
        #expect(t[.closed] == 30 * second)
        #expect(TCPTimeoutClass.allCases.map { t.seconds($0) } == [30, 30, 86_400, 900, 45, 30])
        #expect(t == TCPTimeouts.ovsDefaults)
        #expect(TCPTimeoutClass.allCases.map(\.policyName) == [
            "tcp_syn_sent", "tcp_syn_recv", "tcp_established", "tcp_fin_wait", "tcp_time_wait",
            "tcp_close",
        ])
    }

    @Test func timeoutsAreConfigurable() {
        var t = TCPTimeouts(establishedSeconds: 3600, closedSeconds: 1)
        #expect(t.seconds(.established) == 3600)
        #expect(t.seconds(.closed) == 1)
        #expect(t.seconds(.opening) == 30)
        t[.finWait] = 5
        #expect(t[.finWait] == 5)
        #expect(TCPTimeouts(establishedSeconds: .max)[.established] == .max)
    }

    @Test func invalidReasonsAreStableSmallIntegersWithNames() {
        #expect(TCPInvalidReason.allCases.map(\.rawValue) == Array(0..<7))
        #expect(TCPInvalidReason.allCases.map(\.name) == [
            "invalid_flags", "syn_ack_new", "seq_above_window", "seq_below_window",
            "ack_ahead_of_data", "ack_behind_window", "rst_seq_mismatch",
        ])
    }

    @Test func peerStatesNumberAsOVS() {
        #expect(TCPPeerState.allCases.map(\.rawValue) == Array(0...10))
        #expect(TCPPeerState.allCases.map(\.name) == [
            "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "CLOSE_WAIT", "FIN_WAIT_1",
            "CLOSING", "LAST_ACK", "FIN_WAIT_2", "TIME_WAIT",
        ])
    }

    @Test func truncatedCaptureCountsTheIPLength() throws {
        // A snapped capture: 100 payload bytes captured out of 1000 in the IP packet.
        var t = try #require(Handshake().established())
        var p = segment([.ack, .psh], seq: 1001, ack: 5001, length: 1000)
        p.payloadLength = 100
        p.payloadTruncated = true
        #expect(t.update(p, isReply: false) == .valid)
        #expect(t.origin.sequenceEnd == 2001)
        p.payloadTruncated = false
        var copy = try #require(Handshake().established())
        #expect(copy.update(p, isReply: false) == .valid)
        #expect(copy.origin.sequenceEnd == 1101)
    }

    @Test func peerLayoutIsTwelveBytes() {
        #expect(MemoryLayout<TCPPeer>.size == 12)
    }
}
