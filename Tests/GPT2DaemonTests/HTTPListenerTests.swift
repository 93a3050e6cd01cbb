// HTTPListenerTests — the OpenAI-compatible HTTP listener in-process, on its own Unix socket beside
// the JSON-lines one, spoken to with raw HTTP/1.1 (HTTPTestClient): endpoints and their shapes,
// equality with the JSON-lines protocol for the same request (greedy and seeded sampling, embeddings),
// OpenAI error objects and statuses, and what HTTP clients do to a server (pipelining, 100-continue,
// chunked uploads, oversized bodies, slow senders, garbage) — after each the daemon still serves.
import Foundation
import GPT2JSON
import GPT2TestSupport
import GPT2Systemd
import GPT2Wire
import NIOCore
import Testing
@testable import GPT2Daemon

/// A daemon with both listeners (DaemonHarness; the HTTP one with a request timeout of a few seconds:
/// short enough for the slow-sender test, long enough that a loaded machine never hits it between a
/// pipelined request's answer and the next, or between a 100-continue and its body).
typealias HTTPDaemon = DaemonHarness

extension DaemonHarness {
    /// The HTTP tests' request timeout (5 s, stretched by TestTimeScale).
    static let httpTestTimeout: TimeAmount = .milliseconds(Int64(TestTimeScale.seconds(5) * 1000))

    /// A client of the HTTP listener (a harness started with one).
    func http() async throws -> HTTPTestClient { try await HTTPTestClient.connect(httpPath!) }
    /// A JSON-lines client with the same read slack as the HTTP one (HTTPTestClient.connect).
    func jsonLines() async throws -> TestClient { try await TestClient.connect(socketPath, timeout: 120) }

    /// One request on a new connection.
    func call(_ method: String, _ path: String, body: String? = nil) async throws -> HTTPTestResponse {
        let c = try await http()
        defer { c.close() }
        return try await c.call(method, path, body: body)
    }

    /// The daemon with both listeners that the HTTP tests share.
    static func sharedHTTP() async throws -> DaemonHarness { try await SharedDaemon.withHTTP.get() }
}

extension SharedDaemon {
    static let withHTTP = SharedDaemon { try await DaemonHarness.start(httpRequestTimeout: DaemonHarness.httpTestTimeout) }
}

private func texts(_ choices: [JSON]) -> [String] { choices.compactMap { $0["text"]?.stringValue } }

@Suite struct HTTPListenerTests {
    @Test func modelsAndHealth() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let list = try await d.call("GET", "/v1/models")
        #expect(list.status == 200)
        #expect(list.header("content-type") == "application/json")
        let data = try #require(try list.json()["data"]?.arrayValue)
        #expect(data.map { $0["id"]?.stringValue } == ["tiny"])
        #expect(data[0]["object"] == "model")
        #expect(data[0]["max_model_len"]?.intValue ?? 0 > 0)

        let one = try await d.call("GET", "/v1/models/tiny")
        #expect(one.status == 200)
        #expect(try one.json()["id"] == "tiny")

        let missing = try await d.call("GET", "/v1/models/nope")
        #expect(missing.status == 404)
        #expect(try missing.error()["code"] == "model_not_found")
        #expect(try missing.error()["param"] == "model")

        let health = try await d.call("GET", "/health")
        #expect(health.status == 200)
        #expect(try health.json()["status"] == "ok")
    }

    @Test func greedyCompletionIsTheJSONLinesGeneration() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let r = try await d.call("POST", "/v1/completions",
                                 body: #"{"model":"tiny","prompt":"Hello world","max_tokens":8,"temperature":0}"#)
        #expect(r.status == 200)
        let o = try r.json()
        #expect(o["object"] == "text_completion")
        #expect(o.string("id")?.hasPrefix("cmpl-") == true)
        let choices = try #require(o["choices"]?.arrayValue)
        #expect(choices.count == 1)
        #expect(choices[0]["index"] == 0)

        let j = try await d.jsonLines()
        let g = try await j.call("generate", ["model": "tiny", "prompt": "Hello world", "max_new_tokens": 8])
        #expect(texts(choices) == [g.string("text")!])
        let usage = try #require(o["usage"]?.objectValue)
        #expect(usage.int("completion_tokens") == g.ints("tokens")?.count)
        #expect(usage.int("total_tokens") == usage.int("prompt_tokens")! + usage.int("completion_tokens")!)
        let reason = g.string("finish_reason") == "length" ? "length" : "stop"
        #expect(choices[0]["finish_reason"]?.stringValue == reason)
    }

    @Test func seededSamplingIsTheJSONLinesGeneration() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        // n = 2: the engine's num_return_sequences (followers seeded seed + i), as on the JSON-lines socket.
        let r = try await d.call("POST", "/v1/completions", body: #"""
            {"model":"tiny","prompt":[11, 22, 33],"max_tokens":6,"temperature":0.8,"top_p":0.9,"seed":7,"n":2,"stop":["zz"]}
            """#)
        #expect(r.status == 200)
        let choices = try #require(try r.json()["choices"]?.arrayValue)
        let j = try await d.jsonLines()
        let g = try await j.call("generate", ["model": "tiny", "tokens": [11, 22, 33], "max_new_tokens": 6, "do_sample": true,
                                              "temperature": 0.8, "top_p": 0.9, "top_k": 0, "seed": 7,
                                              "num_return_sequences": 2, "stop": ["zz"]])
        let sequences = try #require(g["sequences"]?.arrayValue)
        #expect(texts(choices) == sequences.compactMap { $0["text"]?.stringValue })
        #expect(choices.map { $0["index"]?.intValue } == [0, 1])
    }

    @Test func streamedCompletionEndsWithDoneAndMatchesThePlainOne() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let body = #"{"model":"tiny","prompt":["Hello","The cat"],"max_tokens":7,"temperature":0"#
        let plain = try await d.call("POST", "/v1/completions", body: body + "}")
        let streamed = try await d.call("POST", "/v1/completions",
                                        body: body + #","stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(streamed.status == 200)
        #expect(streamed.header("content-type") == "text/event-stream")
        let events = streamed.events
        #expect(events.last == "[DONE]")
        var text = ["", ""]
        var finished = [String?](repeating: nil, count: 2)
        var usage: JSONObject?
        for e in events.dropLast() {
            let chunk = try #require(try JSON.parse(e).objectValue)
            #expect(chunk["object"] == "text_completion")
            let choices = try #require(chunk["choices"]?.arrayValue)
            if choices.isEmpty { usage = chunk["usage"]?.objectValue; continue }
            #expect(chunk["usage"] == JSON.null)
            for c in choices {
                let i = Int(c["index"]!.intValue!)
                text[i] += c["text"]!.stringValue!
                if let f = c["finish_reason"]?.stringValue { finished[i] = f }
            }
        }
        let plainChoices = try #require(try plain.json()["choices"]?.arrayValue)
        #expect(text == texts(plainChoices))
        #expect(finished == plainChoices.map { $0["finish_reason"]?.stringValue })
        #expect(usage?.int("completion_tokens") == (try plain.json()["usage"]?.objectValue?.int("completion_tokens")))
    }

    @Test func stopStringCutsPlainAndStreamedCompletionsAlike() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let body = #"{"model":"tiny","prompt":"The dog ran","max_tokens":16,"temperature":0"#
        let greedy = try await d.call("POST", "/v1/completions", body: body + "}")
        let greedyChoices = try #require(try greedy.json()["choices"]?.arrayValue)
        let free = try #require(texts(greedyChoices).first)
        let chars = Array(free)
        try #require(chars.count >= 4)
        // Two characters from the middle of the text: the completion ends before their first occurrence.
        let stop = String(chars[(chars.count / 2)..<(chars.count / 2 + 2)])
        let cut = try #require(free.range(of: stop))
        let want = String(free[..<cut.lowerBound])
        let withStop = body + #","stop":["# + JSON.string(stop).serialized() + "]"
        let stopped = try await d.call("POST", "/v1/completions", body: withStop + "}")
        let plain = try #require(try stopped.json()["choices"]?.arrayValue)
        #expect(texts(plain) == [want] && plain[0]["finish_reason"]?.stringValue == "stop")
        let streamed = try await d.call("POST", "/v1/completions", body: withStop + #","stream":true}"#)
        var text = "", finished: String? = nil
        for e in streamed.events.dropLast() {
            for c in try #require(try JSON.parse(e).objectValue?["choices"]?.arrayValue) {
                text += c["text"]?.stringValue ?? ""
                if let f = c["finish_reason"]?.stringValue { finished = f }
            }
        }
        #expect(text == want && finished == "stop")
    }

    @Test func logprobsWithEchoCoverPromptAndCompletion() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let r = try await d.call("POST", "/v1/completions", body: #"""
            {"model":"tiny","prompt":"Hello world","max_tokens":4,"temperature":0,"logprobs":2,"echo":true}
            """#)
        #expect(r.status == 200)
        let o = try r.json()
        let choice = try #require(o["choices"]?[0]?.objectValue)
        #expect(choice.string("text")?.hasPrefix("Hello world") == true)
        let lp = try #require(choice["logprobs"]?.objectValue)
        let tokens = try #require(lp["tokens"]?.arrayValue)
        let usage = try #require(o["usage"]?.objectValue)
        #expect(tokens.count == usage.int("prompt_tokens")! + usage.int("completion_tokens")!)
        let logprobs = try #require(lp["token_logprobs"]?.arrayValue)
        #expect(logprobs.count == tokens.count)
        #expect(logprobs[0] == .null)                       // nothing predicts the first prompt token
        #expect(logprobs.dropFirst().allSatisfy { ($0.doubleValue ?? 1) <= 0 })
        let top = try #require(lp["top_logprobs"]?.arrayValue)
        #expect(top[0] == .null)
        #expect(top.dropFirst().allSatisfy { ($0.objectValue?.count ?? 0) >= 1 && ($0.objectValue?.count ?? 9) <= 2 })
        // Offsets: where each token's text starts in the choice's text.
        let offsets = try #require(lp["text_offset"]?.arrayValue?.compactMap { $0.intValue.map(Int.init) })
        let pieces = tokens.compactMap(\.stringValue)
        #expect(offsets == pieces.indices.map { i in pieces[..<i].reduce(0) { $0 + $1.unicodeScalars.count } })
        #expect(pieces.joined() == choice.string("text"))
    }

    @Test func badRequestsGetOpenAIErrors() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let cases: [(String, String, String?, Int, String?)] = [
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":"x""#, 400, nil),
            ("POST", "/v1/completions", #"[1,2]"#, 400, nil),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":"x","max_tokens":"many"}"#, 400, "max_tokens"),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":{"a":1}}"#, 400, "prompt"),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":"x","temperature":3}"#, 400, "temperature"),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":"x","suffix":"y"}"#, 400, "suffix"),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":"x","n":2,"best_of":1}"#, 400, "best_of"),
            ("POST", "/v1/completions", #"{"model":"tiny","prompt":[999999]}"#, 400, "prompt"),
            ("POST", "/v1/completions", #"{"model":"nope","prompt":"x"}"#, 404, "model"),
            ("POST", "/v1/completions", #"{"prompt":"x"}"#, 400, "model"),
            ("POST", "/v1/embeddings", #"{"model":"tiny","input":"x","dimensions":8}"#, 400, "dimensions"),
            ("POST", "/v1/embeddings", #"{"model":"tiny","input":"x","encoding_format":"hex"}"#, 400, "encoding_format"),
            ("POST", "/v1/chat/completions", #"{"model":"tiny","messages":[]}"#, 400, nil),
            ("GET", "/v1/completions", nil, 405, nil),
            ("GET", "/v2/nothing", nil, 404, nil),
        ]
        for (method, path, body, status, param) in cases {
            let r = try await d.call(method, path, body: body)
            #expect(r.status == status, "\(method) \(path) \(body ?? ""): \(r.status) \(r.text)")
            let e = try r.error()
            #expect(e.string("message")?.isEmpty == false)
            #expect(e.string("type") != nil)
            #expect(e["param"] == (param.map(JSON.string) ?? .null), "\(body ?? path): \(r.text)")
        }
        let chat = try await d.call("POST", "/v1/chat/completions", body: #"{"model":"tiny","messages":[]}"#)
        #expect(try chat.error().string("message")?.contains("/v1/completions") == true)
        // Still serving.
        #expect(try await d.call("GET", "/health").status == 200)
    }

    @Test func embeddingsAreTheJSONLinesEmbeddings() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let r = try await d.call("POST", "/v1/embeddings", body: #"{"model":"tiny","input":["a cat","the dog sat"]}"#)
        #expect(r.status == 200)
        let data = try #require(try r.json()["data"]?.arrayValue)
        #expect(data.map { $0["index"]?.intValue } == [0, 1])
        let vectors = data.map { ($0["embedding"]?.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        let j = try await d.jsonLines()
        let e = try await j.call("embed", ["model": "tiny", "texts": ["a cat", "the dog sat"]])
        let expected = (e["embeddings"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap { $0.doubleValue.map(Float.init) } }
        // The same computation, but the shared daemon may batch either request's rows with other
        // tests' work, and the F32 products' summation order depends on the batch (only the
        // quantized products are batch-invariant): equal to F32 rounding.
        func close(_ a: [Float], _ b: [Float]) -> Bool {
            a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= 1e-5 * max(1, abs($1)) }
        }
        #expect(vectors.count == expected.count && zip(vectors, expected).allSatisfy { close($0, $1) }, "\(vectors) vs \(expected)")
        #expect(!vectors[0].isEmpty)

        let b = try await d.call("POST", "/v1/embeddings", body: #"{"model":"tiny","input":"a cat","encoding_format":"base64"}"#)
        let encoded = try #require(try b.json()["data"]?[0]?["embedding"]?.stringValue)
        let bytes = try #require(Data(base64Encoded: encoded))
        var floats: [Float] = []
        for i in stride(from: 0, to: bytes.count, by: 4) {
            var bits: UInt32 = 0
            for k in 0..<4 { bits |= UInt32(bytes[i + k]) << (8 * UInt32(k)) }
            floats.append(Float(bitPattern: bits))
        }
        #expect(close(floats, expected[0]), "\(floats) vs \(expected[0])")
    }

    @Test func gpt2dOpsHaveTheirJSONLinesFields() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let j = try await d.jsonLines()
        let tokens = try await d.call("POST", "/tokenize", body: #"{"model":"tiny","text":"Hello world"}"#)
        #expect(tokens.status == 200)
        #expect(try tokens.json() == (try await j.call("tokenize", ["model": "tiny", "text": "Hello world"])))
        let ids = try #require(try tokens.json().ints("tokens"))
        let text = try await d.call("POST", "/detokenize", body: #"{"model":"tiny","tokens":\#(ids)}"#)
        #expect(try text.json().string("text") == "Hello world")
        let score = try await d.call("POST", "/v1/score", body: #"{"model":"tiny","text":"The cat sat"}"#)
        #expect(try score.json() == (try await j.call("score", ["model": "tiny", "text": "The cat sat"])))

        // Sessions belong to the peer's uid: one opened over HTTP is the same user's on JSON lines.
        let opened = try await d.call("POST", "/v1/sessions", body: #"{"model":"tiny"}"#)
        let id = try #require(try opened.json().string("session"))
        #expect(try await j.call("session.info", ["session": .string(id)]).string("session") == id)
        let info = try await d.call("GET", "/v1/sessions/\(id)")
        #expect(try info.json().string("model") == "tiny")
        let list = try await d.call("GET", "/v1/sessions")
        #expect(try list.json()["sessions"]?.arrayValue?.contains { $0["session"]?.stringValue == id } == true)
        #expect(try await d.call("DELETE", "/v1/sessions/\(id)").status == 200)
        let gone = try await d.call("GET", "/v1/sessions/\(id)")
        #expect(gone.status == 404)
        #expect(try gone.error()["code"] == "unknown_session")

        let bad = try await d.call("POST", "/v1/score", body: #"{"model":"tiny"}"#)
        #expect(bad.status == 400)
        #expect(try bad.error()["code"] == "missing_field")
        #expect(try await d.call("PUT", "/v1/sessions").status == 405)
        #expect(try await d.call("GET", "/v1/stats").status == 200)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let c = try await d.http()
        defer { c.close() }
        try await c.send(HTTPTestClient.request("POST", "/v1/completions", body: #"{"model":"tiny","prompt":"Hi","max_tokens":3,"temperature":0}"#)
                         + HTTPTestClient.request("GET", "/v1/models/tiny") + HTTPTestClient.request("GET", "/health"))
        let first = try await c.readResponse(), second = try await c.readResponse(), third = try await c.readResponse()
        #expect(try first.json()["object"] == "text_completion")
        #expect(try second.json()["id"] == "tiny")
        #expect(try third.json()["status"] == "ok")
    }

    @Test func expectContinueAndChunkedUploads() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let body = #"{"model":"tiny","prompt":"Hi","max_tokens":2,"temperature":0}"#
        let c = try await d.http()
        defer { c.close() }
        try await c.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         + "Content-Length: \(body.utf8.count)\r\nExpect: 100-continue\r\n\r\n")
        let interim = try await c.readResponse()
        #expect(interim.status == 100)
        try await c.send(body)
        let answer = try await c.readResponse()
        #expect(answer.status == 200)

        // The same body in two chunks, on the same connection.
        let cut = body.index(body.startIndex, offsetBy: 10)
        let (a, b) = (String(body[..<cut]), String(body[cut...]))
        try await c.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + String(a.utf8.count, radix: 16) + "\r\n" + a + "\r\n")
        try await c.send(String(b.utf8.count, radix: 16) + "\r\n" + b + "\r\n0\r\n\r\n")
        let chunked = try await c.readResponse()
        #expect(chunked.status == 200)
        #expect(try chunked.json()["choices"] == (try answer.json()["choices"]))
    }

    @Test func oversizedBodiesAreRefusedBeforeTheyAreRead() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let c = try await d.http()
        defer { c.close() }
        try await c.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: \(1 << 40)\r\nExpect: 100-continue\r\n\r\n")
        let r = try await c.readResponse()
        #expect(r.status == 413)
        #expect(try r.error()["code"] == "request_too_large")
        #expect(try await c.readEOF())
        #expect(try await d.call("GET", "/health").status == 200)
    }

    @Test func slowSendersGet408AndOthersAreServed() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let slow = try await d.http()
        defer { slow.close() }
        try await slow.send("POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n{\"model\":")
        // Meanwhile another client is served at once.
        #expect(try await d.call("GET", "/health").status == 200)
        let r = try await slow.readResponse()   // the test daemon allows 5 s per request
        #expect(r.status == 408)
        #expect(try await slow.readEOF())
    }

    @Test func garbageIsA400AndTheDaemonServesOn() async throws {
        let d = try await HTTPDaemon.sharedHTTP()
        let c = try await d.http()
        defer { c.close() }
        try await c.send("THIS IS NOT HTTP\r\n\r\n")
        let r = try await c.readResponse()
        #expect(r.status == 400)
        #expect(try await d.call("GET", "/health").status == 200)
    }

    @Test func healthFollowsTheDaemonsServingState() async throws {
        let d = try await HTTPDaemon.start(httpRequestTimeout: HTTPDaemon.httpTestTimeout)
        #expect(try await d.call("GET", "/health").status == 200)
        // The state every listener reads, not the JSON-lines server's own.
        d.daemon.serving.beginDraining()
        let r = try await d.call("GET", "/health")
        #expect(r.status == 503)
        #expect(try r.json()["status"] == "shutting_down")
        let j = try await d.jsonLines()
        #expect(try await j.call("health").string("status") == "shutting_down")
        j.close()
        await d.daemon.shutdown()
        #expect(!FileManager.default.fileExists(atPath: d.httpPath!))
    }
}

@Suite struct HTTPSocketSettingTests {
    @Test func autoIsTheDefaultPathOrBesideTheSocket() throws {
        #expect(HTTPSocketSetting.auto.path(socket: DaemonSettings.socket.defaultValue) == "/run/gpt2d/http.sock")
        #expect(HTTPSocketSetting.auto.path(socket: "/tmp/a/gpt2d.sock") == "/tmp/a/gpt2d.http.sock")
        #expect(HTTPSocketSetting.auto.path(socket: "/tmp/a/s") == "/tmp/a/s.http.sock")
        #expect(HTTPSocketSetting.none.path(socket: "/tmp/s.sock") == nil)
        #expect(HTTPSocketSetting.path("/x/h.sock").path(socket: "/tmp/s.sock") == "/x/h.sock")
        let type = SettingType<HTTPSocketSetting>.autoNoneOrPath
        #expect(try type.parse("none") == HTTPSocketSetting.none)
        #expect(try type.parse("AUTO") == .auto)
        #expect(try type.parse("/p") == .path("/p"))
        #expect(throws: SettingValueError.self) { try type.parse("relative") }
    }

    @Test func activationDecidesUnderSystemd() {
        var c = DaemonConfig()
        c.socketPath = "/tmp/x.sock"
        let http = ActivatedSocket(fileDescriptor: 4, name: "http", isUnixStreamListener: true)
        let json = ActivatedSocket(fileDescriptor: 3, name: "gpt2d", isUnixStreamListener: true)
        #expect(Daemon.httpTarget(c, activated: [json, http], jsonLinesActivated: true) == .activated(fileDescriptor: 4))
        #expect(Daemon.httpTarget(c, activated: [json], jsonLinesActivated: true) == nil)
        #expect(Daemon.httpTarget(c, activated: [], jsonLinesActivated: false) == .path("/tmp/x.http.sock"))
        c.httpSocket = .none
        #expect(Daemon.httpTarget(c, activated: [json, http], jsonLinesActivated: true) == nil)
        c.httpSocket = .path("/tmp/h.sock")
        #expect(Daemon.httpTarget(c, activated: [json], jsonLinesActivated: true) == .path("/tmp/h.sock"))
    }

    @Test func theHTTPSocketCannotBeTheJSONLinesSocket() {
        var c = DaemonConfig()
        c.socketPath = "/tmp/same.sock"
        c.httpSocket = .path("/tmp/same.sock")
        #expect(throws: ConfigError.self) { try c.validate() }
    }
}
