// The `pcap` fuzz target (Sources/FuzzTargets) under libFuzzer.
import FuzzMain

runLibFuzzer(.pcap)
