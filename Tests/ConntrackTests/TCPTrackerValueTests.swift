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
        let t = TimeoutPolicy.ovsDefaults
        #expect(TimeoutClass.allCases.map { t[$0] / 1_000_000_000 } == [30, 30, 86_400, 900, 45, 30, 60, 60, 30, 60, 30])
        #expect(TCPTimeoutClass.allCases.map { TimeoutClass($0).name } == TCPTimeoutClass.allCases.map(\.policyName))
    }

    @Test func timeoutsAreConfigurableByPolicyName() {
        var t = TimeoutPolicy.ovsDefaults
        let accepted = [t.set("tcp_established", seconds: 3600), t.set("udp_multiple", seconds: 5), t.set("tcp_bogus", seconds: 1)]
        #expect(accepted == [true, true, false])
        #expect(t[.tcpEstablished] == 3600 * 1_000_000_000)
        #expect(t[.otherBidir] == 5 * 1_000_000_000)
        #expect(t[.tcpOpening] == 30 * 1_000_000_000)
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
