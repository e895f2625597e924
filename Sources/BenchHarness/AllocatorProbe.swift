#if canImport(Glibc)
import Glibc
#endif

/// Proves which allocator serves `malloc` in this process: jemalloc counts the bytes each thread
/// allocates (`thread.allocated`); if a 1 MiB `malloc` moves that counter, jemalloc is the malloc
/// in use (not merely linked). jemalloc's `mallctl` is looked up at run time, so this module
/// does not link jemalloc itself: only the `ctbench` executable does.
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

    typealias Mallctl = @convention(c) (
        UnsafePointer<CChar>?, UnsafeMutableRawPointer?, UnsafeMutablePointer<Int>?, UnsafeMutableRawPointer?, Int
    ) -> Int32

    public static func run() -> Report {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(nil, "mallctl") else { return Report(jemallocVersion: nil, jemallocServesMalloc: false) }
        let mallctl = unsafeBitCast(symbol, to: Mallctl.self)
        var versionPointer: UnsafePointer<CChar>? = nil
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &versionPointer, &size, nil, 0) == 0, let versionPointer else {
            return Report(jemallocVersion: nil, jemallocServesMalloc: false)
        }
        let version = String(cString: versionPointer)
        let before = threadAllocated(mallctl)
        let block = malloc(1 << 20)
        // An external call that reads the pointer: the optimiser may not drop the malloc/free
        // pair, and jemalloc's answer is at least the size asked for.
        let usable = usableSize(block)
        let after = threadAllocated(mallctl)
        free(block)
        let serves = usable >= 1 << 20 && before != nil && after != nil && after! &- before! >= 1 << 20
        return Report(jemallocVersion: version, jemallocServesMalloc: serves)
    }

    /// `malloc_usable_size` (declared in malloc.h, which Glibc's module does not export).
    private static func usableSize(_ block: UnsafeMutableRawPointer?) -> Int {
        typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int
        guard let symbol = dlsym(nil, "malloc_usable_size") else { return 0 }
        return unsafeBitCast(symbol, to: UsableSize.self)(block)
    }

    private static func threadAllocated(_ mallctl: Mallctl) -> UInt64? {
        var value: UInt64 = 0
        var size = MemoryLayout<UInt64>.size
        return mallctl("thread.allocated", &value, &size, nil, 0) == 0 ? value : nil
    }
}
