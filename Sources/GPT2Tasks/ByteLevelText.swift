// ByteLevelText — transformers' convert_tokens_to_string for GPT-2 (tokenizers' ByteLevel decoder):
// each string maps back through the byte map; a string with any scalar outside the map (e.g. an
// already-decoded word " Berlin" — the space is not in the map) contributes its own UTF-8 bytes; the
// concatenation is decoded lossily (invalid UTF-8 → U+FFFD).
//
// The token-classification pipeline applies this twice for first/average/max: once to a word's tokens,
// then again to the decoded words of a group — so a word without a leading space whose characters all
// lie in the map (e.g. "naïve": ï is U+00EF, a map scalar) is re-read as bytes and becomes "na\u{FFFD}ve".
import GPT2Tokenizer

enum ByteLevelText {
    static func decode(_ strings: [String]) -> String {
        var bytes: [UInt8] = []
        for s in strings {
            if let b = ByteEncoder.bytes(ofTokenString: s) { bytes += b } else { bytes += Array(s.utf8) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
