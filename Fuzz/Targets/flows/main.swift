// The `flows` fuzz target (Sources/FuzzTargets) under libFuzzer.
import FuzzMain

runLibFuzzer(.flows)
