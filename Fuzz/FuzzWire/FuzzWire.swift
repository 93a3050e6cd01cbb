// FuzzWire — libFuzzer target for protocol v1 as the daemon reads it: line framing (LineFramer), the
// envelope (Envelope.parse), every op's request decoding, and the response lines a client reads.
//
// Input: byte 0 seeds the chunking, the rest is a byte stream as a client would send it. Invariants:
// - framing does not depend on how the stream is cut into chunks (whole stream vs. chunks of 1–16 bytes
//   chosen from byte 0); lines are non-empty, newline-free and within the limit (checked with a 64-byte
//   limit so `.tooLong` is reached);
// - each line (default limit) that parses as an envelope re-encodes to one that parses the same;
// - its body is decoded as EVERY op's request (not only its own op, so each body exercises all 17
//   decoders); a body that decodes re-encodes (`RequestLine.encode`, what clients send) to a line that
//   decodes to an equal request with the same id;
// - an envelope error becomes an error line that a client parses back to the same id and error;
// - every line is also read as a response line (`IncomingResponse.parse`), and a result body is decoded
//   as every op's response: no crash, and once re-encoded (scores rounded to float32) a response
//   decodes and re-encodes unchanged.

import CFuzzerDriver
import GPT2FuzzSupport
import GPT2JSON
import GPT2Wire

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzWire_main")
public func fuzzWireMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    gpt2d_fuzz_run(argc, argv, fuzzWire)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput.bytes(data, size)
    guard let seed = input.first else { return 0 }
    let stream = Array(input.dropFirst())

    checkFramingIsChunkInvariant(stream, seed: seed, maxLineBytes: 64)

    var framer = LineFramer()
    for event in framer.push(stream) + framer.finish() {
        guard case .line(let line) = event else { continue }
        checkRequestLine(line)
        checkResponseLine(line)
    }
    return 0
}

// MARK: - Framing

private func frame(_ chunks: [ArraySlice<UInt8>], maxLineBytes: Int) -> [LineFramer.Event] {
    var framer = LineFramer(maxLineBytes: maxLineBytes)
    var events: [LineFramer.Event] = []
    for chunk in chunks { events += framer.push(chunk) }
    events += framer.finish()
    fuzzExpect(framer.bufferedByteCount == 0, "finish() left \(framer.bufferedByteCount) bytes buffered")
    return events
}

private func checkFramingIsChunkInvariant(_ stream: [UInt8], seed: UInt8, maxLineBytes: Int) {
    let whole = frame([stream[...]], maxLineBytes: maxLineBytes)
    var chunks: [ArraySlice<UInt8>] = []
    var state = UInt32(seed) &* 2_654_435_761 &+ 1
    var start = 0
    while start < stream.count {
        state = state &* 1_103_515_245 &+ 12_345
        let length = min(Int(state >> 16) % 16 + 1, stream.count - start)
        chunks.append(stream[start..<(start + length)])
        start += length
    }
    let chunked = frame(chunks, maxLineBytes: maxLineBytes)
    fuzzExpect(whole == chunked, "framing depends on chunking (seed \(seed)): \(fuzzDescribe(stream))")
    for event in whole {
        guard case .line(let line) = event else { continue }
        fuzzExpect(!line.isEmpty && !line.contains(0x0A) && line.count <= maxLineBytes,
                   "framed line breaks the framing contract: \(fuzzDescribe(line))")
    }
}

// MARK: - Requests

private func checkRequestLine(_ line: [UInt8]) {
    let envelope: Envelope
    do {
        envelope = try Envelope.parse(line)
    } catch {
        checkErrorLine(id: error.id, error.error)
        return
    }
    if !hasKeyWithNUL(envelope.body) {
        var o = envelope.body
        if let id = envelope.id { o["id"] = id.json }
        o["op"] = .string(envelope.op)
        let again = Result { () throws(EnvelopeError) in try Envelope.parse(JSON.object(o).serializedBytes()) }
        fuzzExpect(again == .success(envelope), "envelope does not survive re-encoding: \(fuzzDescribe(line))")
    }
    if WireOps.requestType(for: envelope.op) == nil {
        checkErrorLine(id: envelope.id, WireOps.unknownOp(envelope.op))
    }
    for type in WireOps.v1 { checkDecode(type, envelope) }
}

/// Decodes the body as `R`; a decoded request must survive the client's encoding unchanged.
private func checkDecode<R: WireRequest>(_ type: R.Type, _ envelope: Envelope) {
    let request: R
    do {
        request = try R(from: envelope.body)
    } catch {
        // The error line is what the daemon sends for the line's own op only.
        if R.op == envelope.op { checkErrorLine(id: envelope.id, error) }
        return
    }
    let line = RequestLine.encode(request, id: envelope.id)
    fuzzExpect(line.last == 0x0A && !line.dropLast().contains(0x0A), "RequestLine.encode is not one line")
    do {
        let again = try Envelope.parse(line.dropLast())
        fuzzExpect(again.op == R.op && again.id == envelope.id, "re-encoded \(R.op) has another op or id")
        let decoded = try again.decode(R.self)
        fuzzExpect(decoded == request, "\(R.op) request changes through encode → decode: \(fuzzDescribe(line))")
    } catch {
        fuzzExpect(false, "re-encoded \(R.op) request does not decode (\(error)): \(fuzzDescribe(line))")
    }
}

/// The error line the daemon would send reads back, on the client, as the same id and error.
private func checkErrorLine(id: RequestID?, _ error: WireError) {
    let line = ResponseLine.error(id: id, error)
    do {
        let response = try IncomingResponse.parse(line.dropLast())
        fuzzExpect(response == IncomingResponse(id: id, kind: .error(error)),
                   "error line reads back differently: \(fuzzDescribe(line))")
    } catch {
        fuzzExpect(false, "error line does not parse as a response (\(error)): \(fuzzDescribe(line))")
    }
}

// MARK: - Responses (the client's side)

private func checkResponseLine(_ line: [UInt8]) {
    guard let response = try? IncomingResponse.parse(line), case .result(let body) = response.kind else { return }
    for type in WireOps.v1 { checkResponse(type, body) }
}

/// Responses carry task scores written in float32's shortest form, so a score with more digits than
/// float32 holds changes once on the first re-encoding; after that, encode → decode is the identity.
private func checkResponse<R: WireRequest>(_ type: R.Type, _ body: JSONObject) {
    guard let response = try? R.Response(from: body) else { return }
    do {
        let normalized = try R.Response(from: response.json())
        let again = try R.Response(from: normalized.json())
        fuzzExpect(again == normalized, "\(R.op) response changes through a second encode → decode")
    } catch {
        fuzzExpect(false, "re-encoded \(R.op) response does not decode: \(error)")
    }
}

private func hasKeyWithNUL(_ object: JSONObject) -> Bool {
    object.contains { member in
        if member.key.utf8.contains(0) { return true }
        switch member.value {
        case .object(let o): return hasKeyWithNUL(o)
        case .array(let items): return items.contains { item in
            if case .object(let o) = item { return hasKeyWithNUL(o) }
            if case .array = item { return hasKeyWithNUL(["": item]) }
            return false
        }
        default: return false
        }
    }
}
