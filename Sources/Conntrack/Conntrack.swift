// The Conntrack module: one single-threaded connection-tracking partition with Open vSwitch
// semantics (ct_state flags, zones, commit, per-protocol tracking, timeouts in trace time).
// The sharded datapath runs one partition per shard; nothing here knows about threads.
