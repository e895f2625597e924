import CFuzzer
import FuzzTargets
import Glibc

/// One input of the `flows` target (Sources/FuzzTargets); traps on a broken invariant.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTarget.flows.fuzzOne(data, size)
}

var arguments = CommandLine.argc
var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&arguments, &values) { fuzzOne($0, $1) })
