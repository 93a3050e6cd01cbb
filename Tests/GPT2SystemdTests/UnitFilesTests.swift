// Runs scripts/check-systemd-units.sh: `systemd-analyze verify` prints nothing, sysusers parses,
// `systemd-analyze security --offline=true` rates gpt2d.service ≤ 2.0. Also checks that the script
// really fails on a warning-only problem and on weak hardening.

import Foundation
import Testing

private let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private let systemdAnalyzeAvailable = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"]
    .contains { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(
    .enabled(if: systemdAnalyzeAvailable,
             "systemd-analyze is not installed (Debian package `systemd`); unit files not checked")
)
struct UnitFilesTests {
    @Test func checkScriptPasses() throws {
        let (status, output) = try runCheck(unitsDirectory: nil)
        #expect(status == 0, "check-systemd-units.sh failed:\n\(output)")
        #expect(output.contains("ok: no output"))
        let score = try #require(exposure(in: output), "no exposure score in:\n\(output)")
        #expect(score <= 2.0)
    }

    @Test func checkScriptFailsOnVerifyWarnings() throws {
        let dir = try copyUnits()
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = dir.appendingPathComponent("gpt2d.service")
        var text = try String(contentsOf: service, encoding: .utf8)
        // Both are only warnings for systemd 252 (exit code 0) — the script must still fail.
        text = text.replacingOccurrences(of: "Type=notify\n", with: "Type=notify-reload\nNoSuchKey=1\n")
        try text.write(to: service, atomically: true, encoding: .utf8)
        let (status, output) = try runCheck(unitsDirectory: dir)
        #expect(status == 1)
        #expect(output.contains("notify-reload"))
        #expect(output.contains("NoSuchKey"))
    }

    @Test func checkScriptFailsOnWeakHardening() throws {
        let dir = try copyUnits()
        defer { try? FileManager.default.removeItem(at: dir) }
        let service = dir.appendingPathComponent("gpt2d.service")
        let weakened = try String(contentsOf: service, encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !["DynamicUser=", "PrivateNetwork=", "RestrictAddressFamilies=", "SystemCallFilter=",
                        "CapabilityBoundingSet=", "ProtectSystem=", "IPAddressDeny="].contains(where: $0.hasPrefix) }
            .joined(separator: "\n")
        try weakened.write(to: service, atomically: true, encoding: .utf8)
        let (status, output) = try runCheck(unitsDirectory: dir)
        #expect(status == 1)
        let score = try #require(exposure(in: output))
        #expect(score > 2.0)
    }

    @Test func serviceKeepsRequiredSettings() throws {
        let service = try String(
            contentsOf: repositoryRoot.appendingPathComponent("systemd/gpt2d.service"), encoding: .utf8)
        let lines = Set(service.split(separator: "\n").map(String.init))
        for required in [
            "Type=notify", "NotifyAccess=main", "ExecStart=/usr/local/bin/gpt2d --config /etc/gpt2d/gpt2d.conf",
            "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure", "WatchdogSec=30", "TimeoutStartSec=300",
            "Requires=gpt2d.socket", "After=gpt2d.socket", "DynamicUser=yes", "PrivateNetwork=yes",
            "RestrictAddressFamilies=AF_UNIX", "MemoryDenyWriteExecute=yes", "SystemCallFilter=@system-service",
            "SystemCallArchitectures=native", "SystemCallErrorNumber=EPERM", "CapabilityBoundingSet=",
            "ProtectProc=invisible", "UMask=0077", "LimitMEMLOCK=infinity",
        ] {
            #expect(lines.contains(required), "gpt2d.service lacks \(required)")
        }
        let settings = lines.filter { !$0.hasPrefix("#") }
        #expect(!settings.contains { $0.hasPrefix("ProcSubset=") }, "ProcSubset=pid hides /proc/meminfo")
        #expect(!settings.contains { $0.hasPrefix("PrivateUsers=yes") }, "breaks SO_PEERCRED uids")
        #expect(!settings.contains { $0.hasPrefix("RuntimeDirectory=") }, "socket must not live in the service's RuntimeDirectory")

        let socket = try String(
            contentsOf: repositoryRoot.appendingPathComponent("systemd/gpt2d.socket"), encoding: .utf8)
        let socketLines = Set(socket.split(separator: "\n").map(String.init))
        for required in ["SocketMode=0660", "SocketGroup=gpt2d", "FileDescriptorName=gpt2d", "RemoveOnStop=yes"] {
            #expect(socketLines.contains(required), "gpt2d.socket lacks \(required)")
        }
    }

    /// The HTTP listener's socket is activated like the JSON-lines one, told apart by its fd name, and
    /// the service wants it (the daemon serves JSON lines without it).
    @Test func httpSocketIsActivatedBesideTheJSONLinesSocket() throws {
        let socket = try String(
            contentsOf: repositoryRoot.appendingPathComponent("systemd/gpt2d-http.socket"), encoding: .utf8)
        let socketLines = Set(socket.split(separator: "\n").map(String.init))
        for required in ["ListenStream=/run/gpt2d/http.sock", "SocketMode=0660", "SocketGroup=gpt2d",
                         "FileDescriptorName=http", "Service=gpt2d.service", "RemoveOnStop=yes"] {
            #expect(socketLines.contains(required), "gpt2d-http.socket lacks \(required)")
        }
        let service = try String(
            contentsOf: repositoryRoot.appendingPathComponent("systemd/gpt2d.service"), encoding: .utf8)
        let lines = Set(service.split(separator: "\n").map(String.init))
        for required in ["Wants=gpt2d-http.socket", "After=gpt2d-http.socket", "Also=gpt2d.socket gpt2d-http.socket"] {
            #expect(lines.contains(required), "gpt2d.service lacks \(required)")
        }
    }
}

// MARK: - helpers

private func runCheck(unitsDirectory: URL?) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repositoryRoot.appendingPathComponent("scripts/check-systemd-units.sh").path]
    var environment = ProcessInfo.processInfo.environment
    environment["GPT2D_UNITS_DIR"] = unitsDirectory?.path
    process.environment = environment
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

private func copyUnits() throws -> URL {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("gpt2d-units-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    for name in ["gpt2d.service", "gpt2d.socket", "gpt2d-http.socket", "gpt2d.sysusers"] {
        try FileManager.default.copyItem(
            at: repositoryRoot.appendingPathComponent("systemd/\(name)"), to: dir.appendingPathComponent(name))
    }
    return dir
}

/// The score the script reports: "ok: exposure 0.6 (…)" or "FAIL: exposure 5.8 > 2.0".
private func exposure(in output: String) -> Double? {
    for line in output.split(separator: "\n") {
        guard let range = line.range(of: "exposure ") else { continue }
        let number = line[range.upperBound...].prefix(while: { $0.isNumber || $0 == "." })
        if let value = Double(number) { return value }
    }
    return nil
}
