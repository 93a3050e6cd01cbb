// Arena — owned memory for weights converted at load (F32 vectors of a 16-bit checkpoint, matrices
// narrowed to 16 bits, misaligned F32): one anonymous mapping per load and element size, pre-faulted
// with MAP_POPULATE so conversion does not take a page fault every 4 KiB.

#if canImport(Glibc)
import Glibc
#endif

final class Arena: @unchecked Sendable {
    let base: UnsafeMutableRawPointer
    /// Bytes requested (what the converted tensors fill exactly).
    let byteCount: Int
    private let mappedBytes: Int
    private let mapped: Bool

    init(byteCount: Int) {
        self.byteCount = byteCount
        mappedBytes = max(byteCount, 1)
        var flags = MAP_PRIVATE | MAP_ANONYMOUS
        #if os(Linux)
        flags |= MAP_POPULATE
        #endif
        if let p = mmap(nil, mappedBytes, PROT_READ | PROT_WRITE, flags, -1, 0), p != MAP_FAILED {
            base = p
            mapped = true
        } else {
            base = .allocate(byteCount: mappedBytes, alignment: 64)
            mapped = false
        }
    }

    /// The arena as F32 elements.
    var floats: UnsafeMutablePointer<Float> { base.assumingMemoryBound(to: Float.self) }

    /// Pins the pages (mlock); throws `.lockFailed` naming `what`.
    func lock(_ what: String) throws {
        if mlock(base, mappedBytes) != 0 { throw CheckpointError.lockFailed(path: what, reason: String(cString: strerror(errno))) }
    }

    deinit {
        if mapped { munmap(base, mappedBytes) } else { base.deallocate() }
    }
}
