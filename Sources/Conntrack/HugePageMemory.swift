#if canImport(Glibc)
import Glibc
#endif

/// Allocation of the partition's large arrays (the index slots, the connection entries) on
/// 2 MiB boundaries, with transparent huge pages requested or refused (`hugePages`): a table
/// of a million connections spans hundreds of 4 KiB pages, and a look-up that misses the TLB
/// as well as the cache pays for a page walk on top of the memory access. But an array that is
/// touched a little at a time as the table fills (the entries) pays for each first touch of a
/// huge page in the packet path: zeroing 2 MiB, and with the kernel's `defrag=madvise` a
/// compaction stall. Small arrays use plain aligned memory. Pages are still touched (and
/// counted in RSS) only when first written.
enum HugePageMemory {
    static let hugePage = 2 << 20

    /// `count` uninitialised elements of `T`; release with `deallocate`. `hugePages`: ask for
    /// transparent huge pages (true) or refuse them (false), for arrays of 2 MiB and more.
    static func allocate<T>(_ type: T.Type, count: Int, hugePages: Bool = true) -> UnsafeMutablePointer<T> {
        let bytes = Swift.max(count, 1) * MemoryLayout<T>.stride
        let alignment = bytes >= hugePage ? hugePage : Swift.max(MemoryLayout<T>.alignment, 64)
        var memory: UnsafeMutableRawPointer?
        guard posix_memalign(&memory, alignment, bytes) == 0, let memory else {
            fatalError("HugePageMemory: cannot allocate \(bytes) bytes")
        }
        #if canImport(Glibc)
        if bytes >= hugePage { _ = madvise(memory, bytes, hugePages ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) }  // advice only
        #endif
        return memory.bindMemory(to: T.self, capacity: Swift.max(count, 1))
    }

    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) {
        free(UnsafeMutableRawPointer(pointer))
    }
}
