#if canImport(Glibc)
import Glibc
#endif

/// Process memory figures from the kernel.
enum ResourceUsage {
    /// Peak resident set size in bytes: `VmHWM` of /proc/self/status, the high-water mark of
    /// this program's own address space. (`getrusage`'s `ru_maxrss` also keeps the peak of the
    /// address space it replaced at exec: started by a big process through `posix_spawn`, which
    /// borrows the parent's memory until the exec, ctbench reported the parent's peak.)
    /// Falls back to `getrusage` where /proc is missing.
    static var peakRSSBytes: UInt64 {
        if let kib = statusField("VmHWM:") { return kib * 1024 }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return UInt64(usage.ru_maxrss) * 1024
    }

    /// Memory the kernel says new allocations can have without swapping: `MemAvailable` of
    /// /proc/meminfo, else the free physical pages. Nil when neither can be read.
    static var availableMemoryBytes: UInt64? {
        if let kib = statusField("MemAvailable:", in: "/proc/meminfo") { return kib * 1024 }
        let pages = sysconf(Int32(_SC_AVPHYS_PAGES)), pageSize = sysconf(Int32(_SC_PAGESIZE))
        return pages > 0 && pageSize > 0 ? UInt64(pages) * UInt64(pageSize) : nil
    }

    /// A `kB` field of /proc/self/status (or of `path`), in KiB.
    static func statusField(_ name: String, in path: String = "/proc/self/status") -> UInt64? {
        guard let file = fopen(path, "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix(name) else { continue }
            return text.dropFirst(name.count).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { UInt64($0) }
        }
        return nil
    }

    /// Size of a file in bytes (0 when it cannot be read).
    static func fileSize(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    /// Current resident set size in bytes (second field of /proc/self/statm, in pages).
    static var currentRSSBytes: UInt64 {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return 0 }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}
