/// Byte-level helpers shared by the FTP and TFTP parsers. They read an `UnsafeRawBufferPointer`
/// by index and never allocate.
enum ASCII {
    static let nul: UInt8 = 0x00
    static let lineFeed: UInt8 = 0x0a
    static let carriageReturn: UInt8 = 0x0d
    static let space: UInt8 = 0x20
    static let openParenthesis: UInt8 = 0x28
    static let comma: UInt8 = 0x2c
    static let dot: UInt8 = 0x2e
    static let colon: UInt8 = 0x3a
    static let hyphen: UInt8 = 0x2d
    static let zero: UInt8 = 0x30

    @inline(__always)
    static func isDigit(_ b: UInt8) -> Bool { b &- zero < 10 }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ b: UInt8) -> UInt8? {
        if b &- zero < 10 { return b &- zero }
        let folded = b | 0x20  // 'A'...'F' -> 'a'...'f'; leaves digits and most punctuation alone
        if folded &- 0x61 < 6 { return folded &- 0x61 &+ 10 }
        return nil
    }

    /// ASCII lower case of a letter; other bytes unchanged.
    @inline(__always)
    static func lowercased(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }

    /// The reason a byte is not acceptable text, if it is a control or non-ASCII byte.
    @inline(__always)
    static func badByteReason(_ b: UInt8) -> FTPRejectReason? {
        if b >= 0x80 { return .nonASCIIByte }
        if b < 0x20 || b == 0x7f { return .controlByte }
        return nil
    }
}

/// The result of scanning a run of decimal digits.
struct DecimalRun {
    /// The value, valid when `overflow` is false.
    var value: UInt32
    /// Index of the first byte after the run.
    var end: Int
    /// The digits do not fit in a `UInt32`.
    var overflow: Bool
    /// The run was empty.
    var isEmpty: Bool
}

extension UnsafeRawBufferPointer {
    /// Scans the decimal digits starting at `start`, stopping before `limit`. On overflow the
    /// scan stops at the digit that overflowed.
    @inline(__always)
    func scanDecimal(from start: Int, to limit: Int) -> DecimalRun {
        var value: UInt32 = 0
        var i = start
        while i < limit {
            let d = self[i] &- ASCII.zero
            if d >= 10 { break }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt32(d))
            if o1 || o2 { return DecimalRun(value: 0, end: i, overflow: true, isEmpty: false) }
            value = sum
            i += 1
        }
        return DecimalRun(value: value, end: i, overflow: false, isEmpty: i == start)
    }

    /// Index of the first `byte` in `start..<limit`, or nil.
    @inline(__always)
    func firstIndex(of byte: UInt8, from start: Int, to limit: Int) -> Int? {
        var i = start
        while i < limit {
            if self[i] == byte { return i }
            i += 1
        }
        return nil
    }
}
