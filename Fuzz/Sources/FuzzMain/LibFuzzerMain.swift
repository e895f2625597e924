import CFuzzer
import FuzzTargets
import Glibc

/// The target this executable fuzzes, set once by `runLibFuzzer` before libFuzzer starts
/// (libFuzzer's callback is a C function: it cannot capture it).
nonisolated(unsafe) private var selectedTarget = FuzzTarget.packet

/// One input, for libFuzzer: runs the selected target and traps on a broken invariant.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    selectedTarget.fuzzOne(data, size)
}

/// The body of each fuzz executable's main: hands the command line to libFuzzer's driver.
public func runLibFuzzer(_ target: FuzzTarget) -> Never {
    selectedTarget = target
    var arguments = CommandLine.argc
    var values: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&arguments, &values) { fuzzOne($0, $1) })
}
