// HTTPTestClient — a blocking HTTP/1.1 client over a Unix socket for the HTTP listener's tests: sends
// raw request bytes (so tests can pipeline, trickle, chunk or send garbage) and reads responses
// (Content-Length or chunked bodies; 1xx interim responses are returned as their own response).
import Foundation
import GPT2JSON
import GPT2TestSupport
#if canImport(Glibc)
import Glibc
#endif

struct HTTPTestResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    var text: String { String(decoding: body, as: UTF8.self) }
    func json() throws -> JSONObject {
        guard case .object(let o) = try JSON.parse(body) else { throw TestError.protocolViolation("body is not an object: \(text)") }
        return o
    }
    /// The `data:` payloads of a server-sent-event body, in order.
    var events: [String] {
        text.components(separatedBy: "\n\n").compactMap { $0.hasPrefix("data: ") ? String($0.dropFirst(6)) : nil }
    }
    /// OpenAI's error object's fields.
    func error() throws -> JSONObject {
        guard let e = try json()["error"]?.objectValue else { throw TestError.protocolViolation("no error object: \(text)") }
        return e
    }
}

final class HTTPTestClient: @unchecked Sendable {
    private let client: TestClient
    private var buffer: [UInt8] = []

    private init(_ client: TestClient) { self.client = client }

    /// `timeout`: how long a read may wait (only reached when something is wrong; a loaded 2-core
    /// machine running every suite at once needs minutes of slack).
    static func connect(_ path: String, timeout: Double = 120) async throws -> HTTPTestClient {
        HTTPTestClient(try await TestClient.connect(path, timeout: timeout))
    }

    /// A client of the HTTP listener's loopback TCP port.
    static func connectTCP(port: Int, timeout: Double = 120) async throws -> HTTPTestClient {
        HTTPTestClient(try await onThread { try TestClient.connectTCPBlocking(port: port, timeout: timeout) })
    }

    func close() { client.close() }

    func send(_ bytes: [UInt8]) async throws { try await client.sendRaw(bytes) }
    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    /// A request with a JSON (or any) body and Content-Length.
    static func request(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) -> String {
        var lines = ["\(method) \(path) HTTP/1.1", "Host: localhost"] + headers
        if let body {
            lines += ["Content-Type: application/json", "Content-Length: \(body.utf8.count)"]
            return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
        }
        return lines.joined(separator: "\r\n") + "\r\n\r\n"
    }

    /// Sends one request and reads its response.
    func call(_ method: String, _ path: String, body: String? = nil, headers: [String] = []) async throws -> HTTPTestResponse {
        try await send(Self.request(method, path, body: body, headers: headers))
        return try await readResponse()
    }

    func readResponse() async throws -> HTTPTestResponse { try await onThread { try self.readResponseBlocking() } }

    /// True when the server closed the connection (EOF) with nothing more to read.
    func readEOF() async throws -> Bool {
        try await onThread {
            if !self.buffer.isEmpty { return false }
            return try self.fill() == false
        }
    }

    // MARK: blocking

    /// Reads more bytes; false at EOF.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(client.fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return false }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { throw TestError.timeout("read timed out") }
                if errno == ECONNRESET { return false }
                throw TestError.io("recv: errno \(errno)")
            }
            buffer.append(contentsOf: chunk[..<n])
            return true
        }
    }

    private func line() throws -> String {
        while true {
            if let i = buffer.indices.dropLast().first(where: { buffer[$0] == 0x0D && buffer[$0 + 1] == 0x0A }) {
                let s = String(decoding: buffer[..<i], as: UTF8.self)
                buffer.removeSubrange(...(i + 1))
                return s
            }
            guard try fill() else { throw TestError.io("EOF inside a response") }
        }
    }

    private func bytes(_ n: Int) throws -> [UInt8] {
        while buffer.count < n { guard try fill() else { throw TestError.io("EOF inside a body") } }
        let out = Array(buffer[..<n])
        buffer.removeSubrange(..<n)
        return out
    }

    func readResponseBlocking() throws -> HTTPTestResponse {
        let statusLine = try line()
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw TestError.protocolViolation("status line '\(statusLine)'") }
        var headers: [(String, String)] = []
        while true {
            let h = try line()
            if h.isEmpty { break }
            guard let colon = h.firstIndex(of: ":") else { throw TestError.protocolViolation("header '\(h)'") }
            headers.append((String(h[..<colon]), h[h.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var response = HTTPTestResponse(status: status, headers: headers, body: [])
        if status / 100 == 1 { return response }
        if let length = response.header("content-length").flatMap(Int.init) {
            response.body = try bytes(length)
        } else if response.header("transfer-encoding")?.lowercased() == "chunked" {
            while true {
                let sizeLine = try line()
                guard let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { throw TestError.protocolViolation("chunk size '\(sizeLine)'") }
                if size == 0 { _ = try line(); break }
                response.body += try bytes(size)
                _ = try line()
            }
        }
        return response
    }
}
