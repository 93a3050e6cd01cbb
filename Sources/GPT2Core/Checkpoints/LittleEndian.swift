// Little-endian reads from mapped or loaded bytes: one place for every checkpoint, cache and
// archive parser. Callers check bounds first (`fits`); these reads never check again.

extension UnsafeRawBufferPointer {
    /// Whether `length` bytes at `offset` lie inside the buffer (no overflow for any UInt64 pair).
    func fits(_ offset: UInt64, _ length: UInt64) -> Bool {
        offset <= UInt64(count) && length <= UInt64(count) - offset
    }
    func fits(_ offset: UInt64, _ length: Int) -> Bool { fits(offset, UInt64(length)) }

    /// The `T` stored little-endian at byte `offset` (any alignment).
    @inline(__always)
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
    func u16(at offset: Int) -> UInt16 { littleEndian(UInt16.self, at: offset) }
    func u32(at offset: Int) -> UInt32 { littleEndian(UInt32.self, at: offset) }
    func u64(at offset: Int) -> UInt64 { littleEndian(UInt64.self, at: offset) }
}

extension UnsafeRawPointer {
    /// The `T` stored little-endian `offset` bytes past this pointer (any alignment).
    @inline(__always)
    func littleEndian<T: FixedWidthInteger>(_: T.Type, at offset: Int = 0) -> T {
        T(littleEndian: loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}
