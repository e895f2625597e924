/// The datapath's default pipeline (`DefaultPipeline` in Datapath) written as flows, so that a
/// flow-table datapath can run it and be compared with the hard-coded one. The same text is in
/// `flows/default.flows` at the repository root (a test keeps them identical).
///
/// Policy, all in table 0 and ct zone 0:
/// - priority 100: every IPv4/IPv6 packet not yet tracked (`-trk`) goes through ct and comes
///   back to table 0 (`ct(recirc)`);
/// - priority 90: `+trk+inv` is dropped;
/// - priority 80: `+trk+new` TCP (v4 and v6) to port 21 is committed with `alg=ftp`, UDP (v4
///   and v6) to port 69 with `alg=tftp`, then forwarded (`normal`);
/// - priority 70: any other `+trk+new` is committed plainly and forwarded;
/// - priority 60: `+trk+est` and `+trk+rel` are forwarded;
/// - priority 0: everything else, which is only non-IP frames (ARP ...), is forwarded.
///
/// The `-inv` in the new/est/rel flows is redundant given the priority-90 drop; it keeps each
/// flow's meaning independent of priorities.
public enum DefaultFlows {
    public static let text = """
        # The datapath's default pipeline as flows (table 0, ct zone 0). Kept identical to
        # FlowTable.DefaultFlows.text (a test compares them).
        #
        # 1. Every IPv4/IPv6 packet that has not been through ct goes through it and comes back.
        priority=100,ip,ct_state=-trk,actions=ct(zone=0,recirc)
        priority=100,ipv6,ct_state=-trk,actions=ct(zone=0,recirc)
        # 2. Invalid packets are dropped.
        priority=90,ct_state=+trk+inv,actions=drop
        # 3. New connections are committed (with the FTP / TFTP ALG on their server ports) and forwarded.
        priority=80,tcp,tp_dst=21,ct_state=+trk+new-inv,actions=ct(commit,zone=0,alg=ftp),normal
        priority=80,tcp6,tp_dst=21,ct_state=+trk+new-inv,actions=ct(commit,zone=0,alg=ftp),normal
        priority=80,udp,tp_dst=69,ct_state=+trk+new-inv,actions=ct(commit,zone=0,alg=tftp),normal
        priority=80,udp6,tp_dst=69,ct_state=+trk+new-inv,actions=ct(commit,zone=0,alg=tftp),normal
        priority=70,ct_state=+trk+new-inv,actions=ct(commit,zone=0),normal
        # 4. Established and related packets are forwarded.
        priority=60,ct_state=+trk+est-inv,actions=normal
        priority=60,ct_state=+trk+rel-inv,actions=normal
        # 5. Non-IP frames are forwarded (every IP packet is caught above: after ct it is inv, new,
        #    est or rel).
        priority=0,actions=normal
        """

    /// `text`, parsed (it always parses: a test checks it).
    public static var flows: [Flow] {
        // The text is a constant checked by the tests; a failure here is a programming error.
        do { return try FlowParser.parse(text) } catch { fatalError("DefaultFlows.text: \(error)") }
    }
}
