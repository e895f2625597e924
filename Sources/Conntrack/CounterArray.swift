/// A fixed number of 64-bit counters in plain memory, for the per-packet path: incrementing one
/// is a single add, with no copy-on-write check and no bounds check (the index comes from a
/// raw value whose range sized the array). Read out as an `Array` for reports.
public struct CounterArray: ~Copyable {
    @usableFromInline let base: UnsafeMutablePointer<UInt64>
    public let count: Int

    public init(count: Int) {
        self.count = count
        base = .allocate(capacity: Swift.max(count, 1))
        base.initialize(repeating: 0, count: Swift.max(count, 1))
    }

    deinit { base.deallocate() }

    /// Adds one to counter `index` (which must be below `count`).
    @inlinable @inline(__always)
    public func increment(_ index: Int) {
        base[index] &+= 1
    }

    /// The counters, as an array.
    public var values: [UInt64] { Array(UnsafeBufferPointer(start: base, count: count)) }
}
