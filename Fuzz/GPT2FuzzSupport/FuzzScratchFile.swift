// FuzzScratchFile — the one file per fuzzing process that a target writes each input to, so the code
// under test opens and maps it as it would a real checkpoint (in /dev/shm when it exists: no disk I/O).

#if canImport(Glibc)
import Glibc
#endif

public struct FuzzScratchFile: Sendable {
    public let path: String

    /// `/dev/shm/gpt2d-fuzz-<pid><suffix>` (or under /tmp).
    public init(suffix: String) {
        let dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
        path = "\(dir)/gpt2d-fuzz-\(getpid())\(suffix)"
    }

    /// Replaces the file's contents with `bytes`; a failure to write is the harness's, so it aborts.
    public func write(_ bytes: [UInt8]) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { fatalError("fuzz: cannot create \(path)") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { fatalError("fuzz: cannot write \(path)") }
            done += n
        }
    }

    public func remove() { unlink(path) }
}
