// FuzzTokenizer — libFuzzer target for GPT2Tokenizer with the real gpt2 vocabulary
// (Tests/Fixtures/vocab/gpt2, or the directory in GPT2D_FUZZ_VOCAB), loaded once, before fuzzing starts.
//
// Input: any bytes, used twice. As text (invalid UTF-8 replaced by U+FFFD, as a request's JSON string
// would be valid already):
// - decode(encode(text)) == text (byte for byte), with and without parsing "<|endoftext|>";
// - encodeWithOffsets gives the same ids, one span per id, each non-empty, inside the text (in code
//   points), starts never decreasing; every id is in the vocabulary.
// As little-endian UInt16 ids (so unknown ids ≥ vocabSize occur too):
// - the streaming decoder's pieces (one id at a time, then flush) concatenate to decode(ids).

import Foundation
import CFuzzerDriver
import GPT2FuzzSupport
import GPT2Tokenizer

private let tokenizer: GPT2Tokenizer = {
    let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tests/Fixtures/vocab/gpt2").path
    let directory = ProcessInfo.processInfo.environment["GPT2D_FUZZ_VOCAB"] ?? fixture
    do { return try GPT2Tokenizer.load(directory: directory) } catch {
        fatalError("FuzzTokenizer: cannot load the vocabulary from \(directory): \(error)")
    }
}()

/// The entry point SwiftPM links the executable with (see Package.swift): starts libFuzzer.
@_cdecl("FuzzTokenizer_main")
public func fuzzTokenizerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    // Load the vocabulary (seconds in a debug ASan build) before libFuzzer's per-input timeout starts.
    _ = tokenizer.vocabSize
    return gpt2d_fuzz_run(argc, argv, fuzzTokenizer)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTokenizer(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzInput.bytes(data, size)
    let text = String(decoding: bytes, as: UTF8.self)
    checkText(text)
    checkStreaming(bytes)
    return 0
}

private func checkText(_ text: String) {
    for parseSpecial in [true, false] {
        let ids = tokenizer.encode(text, parseSpecial: parseSpecial)
        fuzzExpect(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabSize }, "encode gave an id outside the vocabulary")
        let back = tokenizer.decode(ids)
        fuzzExpect(back.utf8.elementsEqual(text.utf8), "decode(encode(text)) != text (parseSpecial \(parseSpecial)): \(fuzzDescribe(text.utf8))")

        let (sameIDs, offsets) = tokenizer.encodeWithOffsets(text, parseSpecial: parseSpecial)
        fuzzExpect(sameIDs == ids, "encodeWithOffsets gives other ids than encode: \(fuzzDescribe(text.utf8))")
        fuzzExpect(offsets.count == ids.count, "\(offsets.count) offsets for \(ids.count) ids")
        let scalars = text.unicodeScalars.count
        var lastStart = 0
        for span in offsets {
            fuzzExpect(!span.isEmpty && span.lowerBound >= lastStart && span.upperBound <= scalars,
                       "offset \(span) out of order or outside 0..<\(scalars): \(fuzzDescribe(text.utf8))")
            lastStart = span.lowerBound
        }
    }
}

private func checkStreaming(_ bytes: [UInt8]) {
    var ids: [Int] = []
    var i = 0
    while i + 1 < bytes.count {
        ids.append(Int(bytes[i]) | Int(bytes[i + 1]) << 8)
        i += 2
    }
    var decoder = StreamingDecoder(tokenizer: tokenizer)
    var streamed = ""
    for id in ids { streamed += decoder.append(id) }
    streamed += decoder.flush()
    let whole = tokenizer.decode(ids)
    fuzzExpect(streamed.utf8.elementsEqual(whole.utf8), "streamed text differs from decode(ids) for ids \(ids.prefix(32))")
}
