// ModelInfo.quantization (issue #13 point 4): how the checkpoint was quantized before it was saved
// ("bitsandbytes"), optional on the wire and absent for a float checkpoint.
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct ModelQuantizationFieldTests {
    @Test func quantizationRoundTripsAndIsOptional() throws {
        let bnb = ModelInfo(name: "q", architecture: "GPT2LMHeadModel", tasks: ["generate"], nLayer: 2, nEmbd: 64,
                            nHead: 4, nPositions: 64, vocabSize: 512, dtype: "float32", weightType: "nf4",
                            format: "safetensors", quantization: "bitsandbytes")
        #expect(try resultRoundTrip(ModelsResponse(models: [bnb])).models.first?.quantization == "bitsandbytes")
        let line = String(decoding: ResponseLine.result(id: 1, ModelsResponse(models: [bnb])), as: UTF8.self)
        #expect(line.contains("\"quantization\":\"bitsandbytes\""))
        var plain = bnb; plain.quantization = nil
        let text = String(decoding: ResponseLine.result(id: 1, ModelsResponse(models: [plain])), as: UTF8.self)
        #expect(!text.contains("quantization"))
        #expect(try resultRoundTrip(ModelsResponse(models: [plain])).models.first?.quantization == nil)
    }
}
