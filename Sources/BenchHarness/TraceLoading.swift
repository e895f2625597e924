import TraceIO

/// Loads the traces named on the command line into one in-memory trace, before any timing.
/// A trace cut short (truncated or corrupt record) keeps the packets before the damage; the
/// messages say which file and packet, and `skippedAnything` makes ctbench's exit status say so.
struct LoadedTraces {
    let trace: Trace
    let messages: [String]
    let skippedAnything: Bool

    static func load(_ paths: [String]) throws -> LoadedTraces {
        var traces: [Trace] = []
        var messages: [String] = []
        for path in paths {
            let loaded = try TraceLoader.load(path: path)
            if let error = loaded.error {
                messages.append("warning: \(error)")
            }
            traces.append(loaded.trace)
        }
        let trace = traces.count == 1 ? traces[0] : Trace(concatenating: traces)
        return LoadedTraces(trace: trace, messages: messages, skippedAnything: !messages.isEmpty)
    }
}
