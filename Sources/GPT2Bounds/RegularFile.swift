// RegularFile — opening and reading a file a user points the daemon at (model weights, config.json,
// vocab.json, merges.txt, tokenizer.json, the config file) so that a hostile path costs nothing:
//
//   * open(2) with O_NONBLOCK, so a FIFO with no writer (or a device) never blocks start-up; then
//     fstat on the descriptor (no race with a rename) and anything but a regular file is refused,
//     naming what it is; O_NONBLOCK is then cleared (it means nothing for a regular file's reads,
//     but a caller may hand the descriptor on);
//   * `read` takes a byte cap: a file larger than it is refused from its st_size before one byte is
//     read, and the read itself stops at cap + 1 bytes (a file that grows meanwhile is refused too).
//
// Caps used by the project (`Caps`): 1 MiB for config files (config.json, the daemon's config file),
// 16 MiB for model.safetensors.index.json, 64 MiB for tokenizer files (vocab.json, merges.txt,
// tokenizer.json; gpt2's are 1.0 MB, 0.5 MB and 1.4 MB).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be opened or read; `description` is one line naming the path.
public enum RegularFileError: Error, CustomStringConvertible, Equatable, Sendable {
    /// ENOENT / ENOTDIR.
    case notFound(path: String)
    /// The path is a FIFO, device, socket or directory.
    case notRegular(path: String, kind: String)
    /// The file holds more than `limit` bytes.
    case tooLarge(path: String, size: Int, limit: Int)
    /// open/fstat/read failed (errno's text).
    case system(path: String, operation: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            return "\(path): no such file or directory"
        case let .notRegular(path, kind):
            return "\(path): is a \(kind), not a regular file"
        case let .tooLarge(path, size, limit):
            return "\(path): \(size) bytes exceeds the \(RegularFile.describe(bytes: limit)) limit for this file"
        case let .system(path, operation, reason):
            return "\(path): \(operation): \(reason)"
        }
    }

    /// The reason alone, without the path (for errors that name the path themselves).
    public var reason: String {
        switch self {
        case .notFound: return "no such file or directory"
        case let .notRegular(_, kind): return "is a \(kind), not a regular file"
        case let .tooLarge(_, size, limit): return "\(size) bytes exceeds the \(RegularFile.describe(bytes: limit)) limit for this file"
        case let .system(_, operation, reason): return "\(operation): \(reason)"
        }
    }
}

public enum RegularFile {
    /// Size caps of the files the project reads whole (bytes).
    public enum Caps {
        /// config.json, the daemon's config file.
        public static let configFile = 1 << 20
        /// model.safetensors.index.json.
        public static let shardIndex = 16 << 20
        /// vocab.json, merges.txt, encoder.json, vocab.bpe, tokenizer.json.
        public static let tokenizerFile = 64 << 20
    }

    /// Opens `path` read-only without blocking and checks it is a regular file. Returns the
    /// descriptor (O_CLOEXEC, blocking mode restored) and its size; the caller closes it.
    public static func open(_ path: String) throws(RegularFileError) -> (fd: Int32, size: Int) {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        if fd < 0 {
            let e = errno
            if e == ENOENT || e == ENOTDIR { throw .notFound(path: path) }
            throw .system(path: path, operation: "open", reason: String(cString: strerror(e)))
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw .system(path: path, operation: "fstat", reason: String(cString: strerror(e)))
        }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            close(fd)
            throw .notRegular(path: path, kind: kindName(type))
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return (fd, Int(st.st_size))
    }

    /// The whole content of the regular file `path`, refused when larger than `limit` bytes.
    public static func read(_ path: String, limit: Int) throws(RegularFileError) -> [UInt8] {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size <= limit else { throw .tooLarge(path: path, size: size, limit: limit) }
        var bytes = [UInt8](repeating: 0, count: min(size, limit) + 1)
        var filled = 0
        while filled < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .system(path: path, operation: "read", reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            filled += n
        }
        // The file grew past the cap while we read it.
        guard filled <= limit else { throw .tooLarge(path: path, size: filled, limit: limit) }
        bytes.removeSubrange(filled...)
        return bytes
    }

    /// "1 MiB", "64 MiB", "4096 bytes".
    public static func describe(bytes n: Int) -> String {
        if n >= 1 << 20, n % (1 << 20) == 0 { return "\(n >> 20) MiB" }
        if n >= 1 << 10, n % (1 << 10) == 0 { return "\(n >> 10) KiB" }
        return "\(n) bytes"
    }

    static func kindName(_ type: mode_t) -> String {
        switch type {
        case S_IFIFO: return "FIFO"
        case S_IFCHR: return "character device"
        case S_IFBLK: return "block device"
        case S_IFSOCK: return "socket"
        case S_IFDIR: return "directory"
        case S_IFLNK: return "symbolic link"
        default: return "special file"
        }
    }
}
