// Keeps PROTOCOL.md honest: every example line ("→ " request, "← " response) must parse, and decode
// with the types of this module; the documented error examples must be what the code produces.

import Foundation
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct ProtocolExamplesTests {
    static func exampleLines() throws -> [(request: Bool, text: String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let doc = try String(contentsOf: root.appendingPathComponent("PROTOCOL.md"), encoding: .utf8)
        return doc.split(separator: "\n").compactMap { line in
            if line.hasPrefix("→ ") { return (true, String(line.dropFirst(2))) }
            if line.hasPrefix("← ") { return (false, String(line.dropFirst(2))) }
            return nil
        }
    }

    func decodeResult<R: WireRequest>(_ type: R.Type, _ body: JSONObject) throws {
        _ = try R.Response(from: body)
    }

    @Test func everyExampleDecodes() throws {
        let lines = try Self.exampleLines()
        #expect(lines.count >= 25)
        var lastType: (any WireRequest.Type)? = nil
        var lastError: EnvelopeError? = nil
        var lastRequest: Envelope? = nil
        for (isRequest, text) in lines {
            let bytes = Array(text.utf8)
            if isRequest {
                lastError = nil
                lastType = nil
                let env: Envelope
                do { env = try Envelope.parse(bytes) } catch {
                    lastError = error
                    continue
                }
                lastRequest = env
                let type = try #require(WireOps.requestType(for: env.op), "\(text)")
                lastType = type
                do { _ = try type.init(from: env.body) } catch {
                    // A documented failing request: its answer must be this exact error.
                    lastError = EnvelopeError(id: env.id, error)
                }
                continue
            }
            let response = try IncomingResponse.parse(bytes)
            switch response.kind {
            case .result(let body):
                let type = try #require(lastType, "result without a request: \(text)")
                #expect(lastError == nil, "\(text)")
                try decodeResult(type, body)
            case .token(let e):
                #expect(lastType == GenerateRequest.self, "\(text)")
                #expect(e.index >= 0)
            case .error(let e):
                if let expected = lastError {
                    #expect(String(decoding: ResponseLine.error(expected).dropLast(), as: UTF8.self) == text)
                } else {
                    // Errors the daemon makes (e.g. `cancelled`) only need to be well-formed.
                    #expect(lastRequest != nil)
                    #expect(!e.message.isEmpty)
                }
            }
        }
    }
}
