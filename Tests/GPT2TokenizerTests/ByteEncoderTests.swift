import Testing
@testable import GPT2Tokenizer

@Suite struct ByteEncoderTests {
    @Test func mapIsABijectionOver256Bytes() {
        let scalars = ByteEncoder.scalarForByte
        #expect(scalars.count == 256)
        #expect(Set(scalars).count == 256)
        for b in 0..<256 {
            #expect(ByteEncoder.byte(for: scalars[b]) == UInt8(b))
        }
    }

    @Test func knownCodePoints() {
        #expect(ByteEncoder.scalarForByte[0x20] == "\u{0120}")  // Ġ
        #expect(ByteEncoder.scalarForByte[0x0A] == "\u{010A}")  // Ċ
        #expect(ByteEncoder.scalarForByte[0x00] == "\u{0100}")
        #expect(ByteEncoder.scalarForByte[0x21] == "!")
        #expect(ByteEncoder.scalarForByte[0xAD] == "\u{0143}")  // the last remapped byte
        #expect(ByteEncoder.scalarForByte[0xAE] == "\u{00AE}")
        // Printable bytes keep their code point; the other 68 are U+0100… in ascending byte order.
        var next: UInt32 = 0x100
        for b in 0..<256 {
            let printable = (0x21...0x7E).contains(b) || (0xA1...0xAC).contains(b) || (0xAE...0xFF).contains(b)
            if printable {
                #expect(ByteEncoder.scalarForByte[b].value == UInt32(b))
            } else {
                #expect(ByteEncoder.scalarForByte[b].value == next); next += 1
            }
        }
        #expect(next == 0x144)
    }

    @Test func tokenStringRoundTrip() {
        #expect(ByteEncoder.tokenString(ofBytes: Array(" name".utf8)) == "Ġname")
        #expect(ByteEncoder.bytes(ofTokenString: "Ġname") == Array(" name".utf8))
        #expect(ByteEncoder.bytes(ofTokenString: "€") == nil)  // U+20AC is not one of the 256
        let all = (0..<256).map { UInt8($0) }
        #expect(ByteEncoder.bytes(ofTokenString: ByteEncoder.tokenString(ofBytes: all)) == all)
    }
}
