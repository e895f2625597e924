// The `packet` fuzz target (Sources/FuzzTargets) under libFuzzer.
import FuzzMain

runLibFuzzer(.packet)
