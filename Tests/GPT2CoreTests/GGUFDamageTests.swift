// Bad .gguf files (issue #13 point 7), hand-made with GGUFBytes from a valid tiny model: truncated,
// wrong magic, unsupported versions, counts / lengths that overflow or exceed the file, tensor bytes
// past the end, misaligned or overflowing offsets, unknown ggml types, another architecture, shapes
// that disagree with the metadata — each a typed CheckpointError naming the file (and the tensor),
// never a crash, hang or allocation the file's size does not justify.
import Foundation
import Testing
@testable import GPT2Core
import GPT2TestSupport

/// `bytes` written as model.gguf in a fresh directory.
private func ggufFile(_ bytes: [UInt8]) throws -> (dir: String, path: String) {
    let dir = makeTempDirectory("gguf-bad")
    try writeFile(bytes, to: dir + "/model.gguf")
    return (dir, dir + "/model.gguf")
}

/// The error loading `bytes` (as a file path) throws, nil if it loads; the file is removed.
private func loadError(_ bytes: [UInt8]) throws -> (error: CheckpointError?, path: String) {
    let (dir, path) = try ggufFile(bytes)
    defer { removeDirectory(dir) }
    do { _ = try CheckpointLoader.load(directory: path); return (nil, path) } catch { return (error as? CheckpointError, path) }
}

/// The reason of a `.badGGUF` error for `bytes`, checking that it names the file.
private func badGGUFReason(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
    let (error, path) = try loadError(bytes)
    guard case let .badGGUF(file, reason)? = error else {
        Issue.record("expected badGGUF, got \(String(describing: error))", sourceLocation: sourceLocation)
        return ""
    }
    #expect(file == path, sourceLocation: sourceLocation)
    return reason
}

/// `bytes` with the little-endian u64 at `offset` replaced.
private func patch64(_ bytes: [UInt8], at offset: Int, _ value: UInt64) -> [UInt8] {
    var b = bytes
    withUnsafeBytes(of: value.littleEndian) { for i in 0..<8 { b[offset + i] = $0[i] } }
    return b
}

@Suite struct GGUFDamageTests {
    let tiny = GGUFBytes.tinyModel()

    @Test func theHandMadeModelLoads() throws {
        let (dir, path) = try ggufFile(tiny.bytes()); defer { removeDirectory(dir) }
        let (c, w) = try CheckpointLoader.load(directory: path)
        #expect(w.format == .gguf && w.weightType == .float32 && c.tieWordEmbeddings)
        let sizes: [Int] = [c.vocabSize, c.nEmbd, c.nInner, c.nLayer, c.nHead, c.nPositions]
        #expect(sizes == [8, 4, 8, 1, 1, 4])
        #expect(w.layers[0].attnQKVWeight.shape == [4, 12] && w.wte.shape == [8, 4])
    }

    @Test func truncatedFilesAreTypedErrors() throws {
        let all = tiny.bytes()
        let (empty, emptyPath) = try loadError([])
        #expect(empty == .emptyFile(path: emptyPath))
        for cut in [2, 6, 12, 20, 30, 100, all.count / 2, all.count - 1] {
            let reason = try badGGUFReason(Array(all.prefix(cut)))
            #expect(!reason.isEmpty, "cut at \(cut)")
        }
        #expect(try badGGUFReason(Array(all.prefix(20))).hasPrefix("tensor_count 16 exceeds what the remaining 4 bytes can hold"))
        #expect(try badGGUFReason(Array(all.prefix(6))).hasPrefix("the version needs 4 bytes at offset 4, but the file ends after 2"))
        #expect(try badGGUFReason(Array(all.prefix(all.count - 1))).contains("tensor 'output_norm.bias' bytes"))
    }

    @Test func wrongMagicIsRefused() throws {
        var g = tiny; g.magic = Array("GGML".utf8)
        #expect(try badGGUFReason(g.bytes()) == "wrong magic: the file does not start with \"GGUF\"")
        #expect(try badGGUFReason(Array("safetensors".utf8)) == "wrong magic: the file does not start with \"GGUF\"")
    }

    @Test func unsupportedVersionsAreRefused() throws {
        for version: UInt32 in [0, 1, 4, 0x0300_0000] {
            var g = tiny; g.version = version
            let reason = try badGGUFReason(g.bytes())
            #expect(reason.hasPrefix("unsupported version \(version)"), "\(reason)")
        }
        var big = tiny; big.version = 0x0300_0000
        #expect(try badGGUFReason(big.bytes()).contains("big-endian"))
    }

    @Test func tensorCountThatOverflowsOrExceedsTheFile() throws {
        for count: UInt64 in [.max, 1 << 63, 1 << 40] {
            var g = tiny; g.tensorCount = count
            #expect(try badGGUFReason(g.bytes()).hasPrefix("tensor_count \(count) exceeds the limit 65536"))
        }
        var g = tiny; g.tensorCount = 60_000  // under the cap, but 60,000 × 24 bytes is more than the file
        #expect(try badGGUFReason(g.bytes()).hasPrefix("tensor_count 60000 exceeds what the remaining"))
    }

    @Test func keyCountThatOverflowsOrExceedsTheFile() throws {
        for count: UInt64 in [.max, 1 << 30] {
            var g = tiny; g.keyCount = count
            #expect(try badGGUFReason(g.bytes()).hasPrefix("kv_count \(count) exceeds"))
        }
    }

    @Test func stringLengthsThatOverflowOrExceedTheFile() throws {
        // The first key's length (offset 24) and a string value's.
        for length: UInt64 in [.max, 1 << 62, 100_000] {
            let reason = try badGGUFReason(patch64(tiny.bytes(), at: 24, length))
            #expect(reason.hasPrefix("key 0: string length \(length) exceeds"), "\(reason)")
        }
        var g = tiny
        g.metadata[0].value = .raw(type: 8, bytes: GGUFBytes.le(UInt64.max) + Array("gpt2".utf8))
        #expect(try badGGUFReason(g.bytes()).hasPrefix("'general.architecture': string length 18446744073709551615 exceeds"))
    }

    @Test func arrayLengthsThatOverflowOrExceedTheFile() throws {
        for count: UInt64 in [.max, 1 << 61, 1 << 20] {
            var g = tiny
            g.metadata.append(("tokenizer.ggml.token_type", .raw(type: 9, bytes: GGUFBytes.le(UInt32(5)) + GGUFBytes.le(count))))
            #expect(try badGGUFReason(g.bytes()).hasPrefix("the element count of 'tokenizer.ggml.token_type' \(count) exceeds"))
        }
        var strings = tiny  // strings: each element's length is checked as well
        strings.metadata.append(("tokenizer.ggml.tokens", .raw(type: 9, bytes: GGUFBytes.le(UInt32(8)) + GGUFBytes.le(UInt64(2))
                                                               + GGUFBytes.string("a") + GGUFBytes.le(UInt64(1) << 40))))
        #expect(try badGGUFReason(strings.bytes()).hasPrefix("element 1 of 'tokenizer.ggml.tokens': string length 1099511627776 exceeds"))
        var nested = tiny
        nested.metadata.append(("x", .raw(type: 9, bytes: GGUFBytes.le(UInt32(9)) + GGUFBytes.le(UInt64(1)))))
        #expect(try badGGUFReason(nested.bytes()) == "'x' is an array of arrays, which no GPT-2 key is")
    }

    @Test func tensorBytesPastTheEndOfTheFile() throws {
        var g = tiny; g.tensors[0].offset = 1 << 40
        #expect(try badGGUFReason(g.bytes()).hasPrefix("tensor 'token_embd.weight' bytes [1099511627776, +128) lie past the end"))
        var huge = tiny; huge.tensors[0].dims = [1 << 20, 1 << 20]  // 4 TiB of F32 in a small file
        #expect(try badGGUFReason(huge.bytes()).hasPrefix("tensor 'token_embd.weight' bytes [0, +4398046511104) lie past the end"))
    }

    @Test func offsetsThatOverflowOrAreMisaligned() throws {
        var over = tiny; over.tensors[2].offset = UInt64.max - 31
        #expect(try badGGUFReason(over.bytes()) == "tensor 'blk.0.attn_norm.weight' offset 18446744073709551584 overflows")
        var mis = tiny; mis.tensors[1].offset = 4
        #expect(try badGGUFReason(mis.bytes()) == "tensor 'position_embd.weight' offset 4 is not a multiple of the alignment 32")
        var alignment = tiny; alignment.metadata.append(("general.alignment", .u32(48)))
        #expect(try badGGUFReason(alignment.bytes()) == "general.alignment 48 is not a power of two ≤ 65536")
    }

    @Test func dimsThatOverflowOrSplitBlocks() throws {
        var g = tiny; g.tensors[0].dims = [1 << 32, 1 << 32, 1 << 32]
        #expect(try badGGUFReason(g.bytes()).hasPrefix("tensor 'token_embd.weight' dims [4294967296, 4294967296] overflow"))
        var rank = tiny; rank.tensors[0].dims = [1, 1, 1, 1, 4]
        #expect(try badGGUFReason(rank.bytes()) == "tensor 'token_embd.weight' has 5 dims, more than 4")
        var blocks = tiny; blocks.tensors[0].type = 8  // Q8_0 rows of 4 values: not whole 32-value blocks
        #expect(try badGGUFReason(blocks.bytes()) == "tensor 'token_embd.weight' rows of 4 values are not whole Q8_0 blocks of 32")
    }

    @Test func unknownGGMLTypesAreNamed() throws {
        for (type, name) in [(UInt32(3), "Q4_1 (3)"), (12, "Q4_K (12)"), (99, "unknown (99)")] {
            var g = tiny; g.tensors[4].type = type
            let (error, path) = try loadError(g.bytes())
            #expect(error == .unsupportedGGMLType(file: path, tensor: g.tensors[4].name, type: name))
        }
    }

    @Test func anotherArchitectureIsRefused() throws {
        let (error, path) = try loadError(GGUFBytes.tinyModel(architecture: "llama").bytes())
        #expect(error == .wrongArchitecture(file: path, found: "llama"))
        var none = tiny; none.metadata.remove(at: 0)
        #expect(try badGGUFReason(none.bytes()) == "no general.architecture (not a llama.cpp model file)")
    }

    @Test func shapesThatDisagreeWithTheMetadataNameTheTensor() throws {
        var g = tiny
        let qkv = g.tensors.firstIndex { $0.name == "blk.0.attn_qkv.weight" }!
        g.tensors[qkv].dims = [4, 8]; g.tensors[qkv].data = Array(g.tensors[qkv].data.prefix(128))
        let (error, path) = try loadError(g.bytes())
        #expect(error == .wrongShape(file: path, tensor: "blk.0.attn_qkv.weight", expected: [12, 4], found: [8, 4]))
        var head = tiny
        head.metadata[head.keyIndex("gpt2.attention.head_count")!].value = .u32(3)
        let (headError, headPath) = try loadError(head.bytes())
        #expect(headError == .configInvalid(file: headPath, field: "n_head", reason: "is 3, which does not divide n_embd 4"))
    }

    @Test func missingTensorsAndLyingBlockCounts() throws {
        var g = tiny; g.tensors.removeAll { $0.name == "blk.0.ffn_up.bias" }
        let (error, path) = try loadError(g.bytes())
        #expect(error == .missingTensor(tensor: "blk.0.ffn_up.bias", directory: path))
        // 2^24 blocks declared, one present: refused at the first missing one, at once.
        var blocks = tiny
        blocks.metadata[blocks.keyIndex("gpt2.block_count")!].value = .u32(1 << 24)
        let (blockError, blockPath) = try loadError(blocks.bytes())
        #expect(blockError == .missingTensor(tensor: "blk.1.attn_norm.weight", directory: blockPath))
        var typed = tiny  // a key of the wrong kind
        typed.metadata[typed.keyIndex("gpt2.embedding_length")!].value = .string("four")
        #expect(try badGGUFReason(typed.bytes()) == "metadata 'gpt2.embedding_length' is a string \"four\", expected a non-negative integer")
    }

    @Test func repeatedKeysAndTensorsAreRefused() throws {
        var keys = tiny; keys.metadata.append(("gpt2.block_count", .u32(1)))
        #expect(try badGGUFReason(keys.bytes()) == "metadata key 'gpt2.block_count' appears twice")
        var tensors = tiny; tensors.tensors.append(tensors.tensors[0])
        #expect(try badGGUFReason(tensors.bytes()) == "tensor 'token_embd.weight' appears twice")
    }
}

@Suite struct GGUFFuzzSeedTests {
    /// FuzzGGUF's seeds (scripts/make_gguf_fixtures.py) are whole models, so mutations start from files that load.
    @Test func everySeedLoads() throws {
        let dir = Fixtures.root + "/Tests/Fixtures/fuzz/FuzzGGUF"
        let seeds = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".gguf") }.sorted()
        #expect(seeds == ["tiny-f32.gguf", "tiny-quant.gguf"])
        for seed in seeds {
            let (c, w) = try CheckpointLoader.load(directory: dir + "/" + seed)
            #expect(w.format == .gguf && c.nLayer == 1, "\(seed)")
        }
    }
}
