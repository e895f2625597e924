import CJemalloc

#if canImport(Glibc)
import Glibc
#endif

/// Proves which allocator serves `malloc` in this process: jemalloc counts the bytes each thread
/// allocates (`thread.allocated`); if a 1 MiB `malloc` moves that counter, jemalloc is the malloc
/// in use (not merely linked).
public enum AllocatorProbe {
    /// What the probe found.
    public struct Report: Sendable, Equatable {
        /// jemalloc's version string (`mallctl("version")`), or nil when jemalloc is not linked.
        public var jemallocVersion: String?
        /// True when a plain `malloc` was seen by jemalloc's per-thread counter.
        public var jemallocServesMalloc: Bool

        public var description: String {
            guard let jemallocVersion else { return "allocator: system malloc (jemalloc not linked)" }
            return jemallocServesMalloc
                ? "allocator: jemalloc \(jemallocVersion) (serves malloc: a 1 MiB malloc moved thread.allocated)"
                : "allocator: jemalloc \(jemallocVersion) linked, but malloc is NOT served by it"
        }
    }

    public static func run() -> Report {
        var versionPointer: UnsafePointer<CChar>? = nil
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &versionPointer, &size, nil, 0) == 0, let versionPointer else {
            return Report(jemallocVersion: nil, jemallocServesMalloc: false)
        }
        let version = String(cString: versionPointer)
        let before = threadAllocated()
        let block = malloc(1 << 20)
        // An external call that reads the pointer: the optimiser may not drop the malloc/free
        // pair, and jemalloc's answer is at least the size asked for.
        let usable = malloc_usable_size(block)
        let after = threadAllocated()
        free(block)
        let serves = usable >= 1 << 20 && before != nil && after != nil && after! &- before! >= 1 << 20
        return Report(jemallocVersion: version, jemallocServesMalloc: serves)
    }

    private static func threadAllocated() -> UInt64? {
        var value: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        return mallctl("thread.allocated", &value, &size, nil, 0) == 0 ? value : nil
    }
}
