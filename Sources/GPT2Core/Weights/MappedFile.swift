// MappedFile — a read-only, private mmap of a whole file, unmapped in deinit
// (llama.cpp's llama_mmap / llama_mlock in one small RAII class).
//
// Pages come from the page cache and are shared by every process mapping the same file;
// nothing is copied. `preload` asks the kernel to fault everything in up front
// (MAP_POPULATE + madvise(MADV_WILLNEED)) so the first forward pass does not page-fault.
// `lock` pins the pages with mlock; a failure to lock is an error (CheckpointError.lockFailed),
// never a silent warning — asking for locked memory and not getting it is a deployment bug.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only mapping of one whole file. Immutable; safe to share across threads.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// Start of the mapping (page-aligned).
    public let base: UnsafeRawPointer
    /// File size in bytes (the mapping length).
    public let size: Int
    /// True when the pages are mlock'ed.
    public let isLocked: Bool

    /// The mapping as bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Maps `path` read-only.
    /// - Parameters:
    ///   - preload: fault all pages in now (MAP_POPULATE, then MADV_WILLNEED).
    ///   - lock: mlock the mapping; throws `.lockFailed` if the kernel refuses.
    public init(path: String, preload: Bool = false, lock: Bool = false) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let err = errno
            if err == ENOENT || err == ENOTDIR { throw CheckpointError.fileNotFound(path: path) }
            throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(err)))
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            throw CheckpointError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.cannotOpen(path: path, reason: "not a regular file")
        }
        let size = Int(st.st_size)
        guard size > 0 else { throw CheckpointError.emptyFile(path: path) }

        var flags = MAP_PRIVATE
        #if os(Linux)
        if preload { flags |= MAP_POPULATE }
        #endif
        guard let p = mmap(nil, size, PROT_READ, flags, fd, 0), p != MAP_FAILED else {
            throw CheckpointError.cannotOpen(path: path, reason: "mmap: " + String(cString: strerror(errno)))
        }
        if preload { _ = madvise(p, size, MADV_WILLNEED) }
        if lock {
            if mlock(p, size) != 0 {
                let reason = String(cString: strerror(errno))
                munmap(p, size)
                throw CheckpointError.lockFailed(path: path, reason: reason)
            }
        }
        self.path = path
        self.base = UnsafeRawPointer(p)
        self.size = size
        self.isLocked = lock
    }

    deinit {
        let p = UnsafeMutableRawPointer(mutating: base)
        if isLocked { munlock(p, size) }
        munmap(p, size)
    }

    /// True when `count` bytes starting at `pointer` lie inside this mapping.
    public func contains(_ pointer: UnsafeRawPointer, byteCount count: Int) -> Bool {
        let start = UInt(bitPattern: base), p = UInt(bitPattern: pointer)
        return p >= start && count >= 0 && p - start <= UInt(size) && UInt(size) - (p - start) >= UInt(count)
    }
}
