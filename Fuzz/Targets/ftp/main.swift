// The `ftp` fuzz target (Sources/FuzzTargets) under libFuzzer.
import FuzzMain

runLibFuzzer(.ftp)
