import PacketParsing
import TraceIO

/// Loads the traces named on the command line into one in-memory trace, before any timing.
/// A trace cut short (truncated or corrupt record) keeps the packets before the damage; the
/// messages say which file and packet, and `skippedAnything` makes ctbench's exit status say so.
struct LoadedTraces {
    let trace: Trace
    let messages: [String]
    let skippedAnything: Bool
    /// The process's resident memory before loading began, and the size of the files read:
    /// inputs of the memory prediction.
    var rssBeforeLoading: UInt64 = 0
    var fileBytes = 0

    static func load(_ paths: [String]) throws -> LoadedTraces {
        let rssBefore = ResourceUsage.currentRSSBytes
        var fileBytes = 0
        var traces: [Trace] = []
        var messages: [String] = []
        var skipped = false
        for path in paths {
            let loaded = try TraceLoader.load(path: path)
            fileBytes += ResourceUsage.fileSize(path)
            if let error = loaded.error {
                messages.append("warning: \(error)")
                skipped = true
            }
            for linkType in Set(loaded.trace.records.map(\.linkType)) where !linkType.isSupported {
                messages.append("warning: '\(path)': link type \(linkType) is not one ctbench parses (Ethernet, "
                                + "Linux SLL/SLL2, raw IP, loopback): its packets are counted as unsupported_link_type "
                                + "and never reach conntrack")
            }
            traces.append(loaded.trace)
        }
        let trace = traces.count == 1 ? traces[0] : Trace(concatenating: traces)
        return LoadedTraces(trace: trace, messages: messages, skippedAnything: skipped, rssBeforeLoading: rssBefore,
                            fileBytes: fileBytes)
    }
}
