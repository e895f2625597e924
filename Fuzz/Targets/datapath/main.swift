// The `datapath` fuzz target (Sources/FuzzTargets) under libFuzzer.
import FuzzMain

runLibFuzzer(.datapath)
