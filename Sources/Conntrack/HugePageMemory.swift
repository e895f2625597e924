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

    /// Faults in `bytes` of memory from `start` now (writable, zero-filled where never written):
    /// `MADV_POPULATE_WRITE` where the kernel has it (Linux 5.14), else a write to every page.
    static func populate(_ start: UnsafeMutableRawPointer, bytes: Int) {
        guard bytes > 0, !populateAdvice(start, bytes: bytes) else { return }
        var offset = 0
        while offset < bytes {
            start.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            offset += 4_096
        }
    }

    /// `MADV_POPULATE_WRITE` over the whole pages in `[start, start + bytes)`: advice only,
    /// false where the kernel refused it.
    @discardableResult
    static func populateAdvice(_ start: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        let page = 4_096
        let first = (Int(bitPattern: start) + page - 1) & ~(page - 1)
        let last = (Int(bitPattern: start) + bytes) & ~(page - 1)
        guard last > first, let address = UnsafeMutableRawPointer(bitPattern: first) else { return true }
        #if canImport(Glibc)
        return madvise(address, last - first, 23) == 0  // MADV_POPULATE_WRITE
        #else
        return false
        #endif
    }

    static func deallocate<T>(_ pointer: UnsafeMutablePointer<T>) {
        free(UnsafeMutableRawPointer(pointer))
    }
}
