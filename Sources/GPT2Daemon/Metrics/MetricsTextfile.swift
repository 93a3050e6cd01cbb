// MetricsTextfile — the exposition written to a file for node_exporter's textfile collector
// (`metrics_textfile`), atomically: the text goes into a new file in the same directory, named
// `.<name>.<random>` (hidden, and not `*.prom`, so the collector never reads it), is fsync'ed, given
// mode 0644 (the collector runs as another user; the directory's permissions are the access control)
// and renamed over the path. A reader sees the previous file or the new one, never part of one; a
// failure leaves the previous file and removes the temporary one.
#if canImport(Glibc)
import Glibc
#endif

struct MetricsTextfile: Sendable {
    /// Where the file goes (absolute; its directory must exist and be writable).
    let path: String

    struct WriteError: Error, CustomStringConvertible {
        var step: String
        var errno: Int32
        var description: String { "\(step): \(String(cString: strerror(errno)))" }
    }

    /// The temporary file's mkstemp template, in the same directory as `path`.
    var temporaryTemplate: String {
        let slash = path.lastIndex(of: "/")!
        return String(path[...slash]) + "." + String(path[path.index(after: slash)...]) + ".XXXXXX"
    }

    /// Replaces the file with `text`.
    func write(_ text: String) throws(WriteError) {
        var template = Array(temporaryTemplate.utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw WriteError(step: "create a temporary file beside \(path)", errno: errno) }
        let temporary = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var closed = false
        do throws(WriteError) {
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw WriteError(step: "write \(temporary)", errno: errno)
                }
                offset += n
            }
            guard fchmod(fd, 0o644) == 0 else { throw WriteError(step: "chmod \(temporary)", errno: errno) }
            guard fsync(fd) == 0 else { throw WriteError(step: "fsync \(temporary)", errno: errno) }
            closed = true
            guard close(fd) == 0 else { throw WriteError(step: "close \(temporary)", errno: errno) }
            guard rename(temporary, path) == 0 else { throw WriteError(step: "rename \(temporary) to \(path)", errno: errno) }
        } catch {
            if !closed { close(fd) }
            unlink(temporary)
            throw error
        }
    }
}
