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
// The file is opened through GPT2Bounds' RegularFile (O_NONBLOCK, then fstat): a FIFO or device at
// the path is refused at once instead of blocking start-up in open(2).
//
// A file truncated or overwritten in place under the mapping would kill the process with SIGBUS on
// the next read past its new end. Every mapping is registered with CFaultGuard: such a fault maps
// zero pages over the whole mapping and flags it (`isDamaged`), so reads finish with garbage the
// caller must discard. The descriptor stays open, so `fileChanged` (one fstat: size or mtime differs)
// notices a truncation or an overwrite in place before anything faults (a file replaced by rename is
// another inode: the mapping keeps the old one and stays whole); `restoreIfWhole` maps the file at the path again over the same addresses once it
// has its old size and header bytes (`rememberPrefix`), so every pointer into the mapping stays valid.

import CFaultGuard
import GPT2Bounds
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only mapping of one whole file. Immutable but for `restoreIfWhole` (call it only while no
/// thread reads the mapping); safe to share across threads.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// Start of the mapping (page-aligned).
    public let base: UnsafeRawPointer
    /// File size in bytes (the mapping length).
    public let size: Int
    /// True when the pages are mlock'ed.
    public private(set) var isLocked: Bool

    /// The open descriptor of the mapped file (for `fileChanged`).
    private var descriptor: Int32
    /// The file's st_mtim when it was mapped.
    private var modified: timespec
    /// CFaultGuard slot of the mapping (-1: unguarded).
    private let guardSlot: Int32
    /// The file's first bytes as mapped at open (`rememberPrefix`), compared by `restoreIfWhole`.
    private var prefix: [UInt8] = []

    /// The mapping as bytes.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: size) }

    /// Maps `path` read-only.
    /// - Parameters:
    ///   - preload: fault all pages in now (MAP_POPULATE, then MADV_WILLNEED).
    ///   - lock: mlock the mapping; throws `.lockFailed` if the kernel refuses.
    public init(path: String, preload: Bool = false, lock: Bool = false) throws {
        let fd: Int32, size: Int
        do throws(RegularFileError) { (fd, size) = try RegularFile.open(path) } catch { throw CheckpointError(error) }
        var keepDescriptor = false
        defer { if !keepDescriptor { close(fd) } }
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
        _ = fg_install()
        self.path = path
        self.base = UnsafeRawPointer(p)
        self.size = size
        self.isLocked = lock
        self.descriptor = fd
        self.modified = Self.modificationTime(fd)
        self.guardSlot = fg_register(p, size)
        keepDescriptor = true
    }

    /// Owned read-only memory that stands in for a file: `byteCount` zeroed bytes (an anonymous
    /// mapping) that `fill` writes once, then made read-only. For values a container format cannot
    /// expose in place (a PyTorch tensor with non-row-major strides, gathered). Never damaged or
    /// changed; `discard` leaves it alone (its pages have no file to come back from).
    public init(anonymous name: String, byteCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void) throws {
        let length = max(byteCount, 1)
        guard let p = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
            throw CheckpointError.cannotOpen(path: name, reason: "mmap of \(byteCount) bytes: " + String(cString: strerror(errno)))
        }
        do { try fill(UnsafeMutableRawBufferPointer(start: p, count: byteCount)) } catch {
            munmap(p, length)
            throw error
        }
        _ = mprotect(p, length, PROT_READ)
        self.path = name
        self.base = UnsafeRawPointer(p)
        self.size = length
        self.isLocked = false
        self.descriptor = -1
        self.modified = timespec()
        self.guardSlot = -1
    }

    /// True for `init(anonymous:)` memory (no file behind it).
    public var isAnonymous: Bool { descriptor < 0 }

    // MARK: damage (file changed in place)

    /// True once a read faulted past the file's end and the mapping was replaced by zero pages.
    public var isDamaged: Bool { fg_region_damaged(guardSlot) != 0 }

    /// True when the mapped file's size or modification time is no longer what was mapped: it was
    /// truncated (a read past its end would fault) or written in place. One fstat(2).
    public func fileChanged() -> Bool {
        guard !isAnonymous else { return false }
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { return false }
        return Int(st.st_size) != size || st.st_mtim.tv_sec != modified.tv_sec || st.st_mtim.tv_nsec != modified.tv_nsec
    }

    private static func modificationTime(_ fd: Int32) -> timespec {
        var st = stat()
        return fstat(fd, &st) == 0 ? st.st_mtim : timespec()
    }

    /// Keeps a copy of the first `count` bytes (a header), checked by `restoreIfWhole`.
    public func rememberPrefix(_ count: Int) {
        prefix = Array(UnsafeRawBufferPointer(start: base, count: min(max(count, 0), size)))
    }

    /// If the regular file now at `path` has the mapping's size and its remembered prefix, maps it
    /// read-only over the same addresses (MAP_FIXED; mlock'ed again when locked, pages preloaded
    /// with MADV_WILLNEED) and clears the damage. Returns true when the mapping is whole again.
    /// No thread may read the mapping meanwhile.
    public func restoreIfWhole() -> Bool {
        guard !isAnonymous else { return true }
        guard let (fd, newSize) = try? RegularFile.open(path) else { return false }
        var keep = false
        defer { if !keep { close(fd) } }
        guard newSize == size else { return false }
        fg_region_clear(guardSlot)
        let p = UnsafeMutableRawPointer(mutating: base)
        guard let q = mmap(p, size, PROT_READ, MAP_PRIVATE | MAP_FIXED, fd, 0), q != MAP_FAILED, q == p else {
            return false
        }
        _ = madvise(p, size, MADV_WILLNEED)
        if isLocked, mlock(p, size) != 0 { return false }
        // Reading the prefix may fault again if the file shrank meanwhile: the guard flags it.
        let same = prefix.isEmpty || prefix.withUnsafeBytes { memcmp($0.baseAddress!, base, prefix.count) == 0 }
        guard same, !isDamaged else { return false }
        close(descriptor)
        descriptor = fd
        modified = Self.modificationTime(fd)
        keep = true
        return true
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
        guard !isLocked, !isAnonymous else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (max(0, range.lowerBound) + page - 1) / page * page
        let end = min(size, range.upperBound) / page * page
        if end > start { _ = madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, MADV_DONTNEED) }
    }

    deinit {
        fg_unregister(guardSlot)
        if !isAnonymous { close(descriptor) }
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
