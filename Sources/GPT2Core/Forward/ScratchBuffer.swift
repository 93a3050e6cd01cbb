// ScratchBuffer — a growable, 64-byte-aligned F32 buffer reused across forward calls.
import Foundation

final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private(set) var capacity: Int

    init(_ capacity: Int = 0) {
        self.capacity = max(capacity, 16)
        pointer = ScratchBuffer.alloc(self.capacity)
    }

    /// Ensures room for `count` floats (contents are not preserved on growth) and returns the pointer.
    @inline(__always)
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            free(pointer)
            capacity = max(count, capacity * 3 / 2)
            pointer = ScratchBuffer.alloc(capacity)
        }
        return pointer
    }

    private static func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, n * MemoryLayout<Float>.stride) == 0, let raw else {
            fatalError("scratch allocation of \(n) floats failed")
        }
        return raw.bindMemory(to: Float.self, capacity: n)
    }

    deinit { free(pointer) }
}
