// ModelInfo.format (issue #13 point 8): the container a model was read from, optional on the wire.
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct ModelFormatFieldTests {
    @Test func formatRoundTripsAndIsOptional() throws {
        let pt = ModelInfo(name: "old", architecture: "GPT2LMHeadModel", tasks: ["generate"], nLayer: 2, nEmbd: 32,
                           nHead: 4, nPositions: 128, vocabSize: 1000, dtype: "float32", format: "pytorch")
        let back = try resultRoundTrip(ModelsResponse(models: [pt]))
        #expect(back.models.first?.format == "pytorch")
        let line = String(decoding: ResponseLine.result(id: 1, ModelsResponse(models: [pt])), as: UTF8.self)
        #expect(line.contains("\"format\":\"pytorch\""))
        // A daemon that does not say: absent, decoded as nil.
        var none = pt; none.format = nil
        let plain = String(decoding: ResponseLine.result(id: 1, ModelsResponse(models: [none])), as: UTF8.self)
        #expect(!plain.contains("format"))
        #expect(try resultRoundTrip(ModelsResponse(models: [none])).models.first?.format == nil)
    }
}
