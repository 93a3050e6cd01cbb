// MappedFile — a read-only, private mmap of a whole file, unmapped in deinit
// (llama.cpp's llama_mmap / llama_mlock in one small RAII class).
//
// Pages come from the page cache and are shared by every process mapping the same file;
// nothing is copied. `preload` asks the kernel to fault everything in up front
// (MAP_POPULATE + madvise(MADV_WILLNEED)) so the first forward pass does not page-fault.
// `lock` pins the pages with mlock; a failure to lock is an error (CheckpointError.lockFailed),
// never a silent warning — asking for locked memory and not getting it is a deployment bug.
// A mapping opened without either can be populated or locked later (a converting load decides
// which files it keeps only after reading them), and pages already converted can be discarded.

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
    public private(set) var isLocked: Bool

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

    /// Faults every page in now (what `preload` does at open), for a mapping opened without it.
    /// MADV_POPULATE_READ where the kernel has it (5.14+), else one read per page.
    public func populate() {
        let p = UnsafeMutableRawPointer(mutating: base)
        _ = madvise(p, size, MADV_WILLNEED)
        if madvise(p, size, 22 /* MADV_POPULATE_READ */) == 0 { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var sum: UInt8 = 0
        var off = 0
        while off < size { sum &+= base.load(fromByteOffset: off, as: UInt8.self); off += page }
        withExtendedLifetime(sum) {}
    }

    /// Pins the pages (mlock) of a mapping opened without `lock`; throws `.lockFailed`.
    public func lock() throws {
        guard !isLocked else { return }
        if mlock(base, size) != 0 { throw CheckpointError.lockFailed(path: path, reason: String(cString: strerror(errno))) }
        isLocked = true
    }

    /// Gives the whole pages inside bytes `range` back to the kernel (MADV_DONTNEED): they leave this
    /// process's RSS (the file's page cache keeps them) and are read again from the file if touched.
    /// For a mapping whose values were converted and will not be read again. No-op when locked.
    public func discard(_ range: Range<Int>) {
        guard !isLocked else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (max(0, range.lowerBound) + page - 1) / page * page
        let end = min(size, range.upperBound) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
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
