import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A live progress line on standard error, shown only when it is a terminal and only once a
/// run has lasted a second; redrawn at most every 0.2 s, erased at the end.
final class ProgressLine {
    private let total: Int
    private let enabled: Bool
    private let start = ContinuousClock.now
    private var lastDraw = ContinuousClock.now
    private var shown = false

    init(totalPackets: Int) {
        total = totalPackets
        enabled = isatty(STDERR_FILENO) == 1
    }

    func update(packetsDone: Int) {
        guard enabled else { return }
        let now = ContinuousClock.now
        guard now - start > .seconds(1), now - lastDraw > .milliseconds(200) else { return }
        lastDraw = now
        let elapsed = RunCommand.seconds(now - start)
        let percent = total > 0 ? 100 * packetsDone / total : 100
        let line = String(format: "\r  replaying: %3d%% (%d of %d packets, %.2f Mpps)",
                          percent, packetsDone, total, Double(packetsDone) / elapsed / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    func finish() {
        guard shown else { return }
        FileHandle.standardError.write(Data(("\r" + String(repeating: " ", count: 72) + "\r").utf8))
    }
}
