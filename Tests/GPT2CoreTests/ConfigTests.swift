// ConfigTests — config.json parsing: the Hub configs of the five OpenAI-shaped checkpoints
// (field layout as published), labels, token ids, defaults, aliases and invalid values.

import Foundation
import Testing
import GPT2Core
import GPT2TestSupport

private func parse(_ json: String) throws -> GPT2Config {
    try GPT2Config.parse(Data(json.utf8), file: "config.json")
}

/// The CheckpointError thrown for `json`, if any.
private func parseError(_ json: String) -> CheckpointError? {
    do { _ = try parse(json); return nil } catch { return error as? CheckpointError }
}

private func invalidField(_ json: String) -> String? {
    if case let .configInvalid(file, field, _)? = parseError(json), file == "config.json" { return field }
    return nil
}

/// Hub config.json bodies (the fields as published for each model).
private func hubConfig(nEmbd: Int, nLayer: Int, nHead: Int, extra: String = "") -> String {
    """
    {
      "activation_function": "gelu_new",
      "architectures": [
        "GPT2LMHeadModel"
      ],
      "attn_pdrop": 0.1,
      "bos_token_id": 50256,
      "embd_pdrop": 0.1,
      "eos_token_id": 50256,\(extra)
      "initializer_range": 0.02,
      "layer_norm_epsilon": 1e-05,
      "model_type": "gpt2",
      "n_ctx": 1024,
      "n_embd": \(nEmbd),
      "n_head": \(nHead),
      "n_layer": \(nLayer),
      "n_positions": 1024,
      "resid_pdrop": 0.1,
      "summary_activation": null,
      "summary_first_dropout": 0.1,
      "summary_proj_to_labels": true,
      "summary_type": "cls_index",
      "summary_use_proj": true,
      "task_specific_params": {
        "text-generation": {
          "do_sample": true,
          "max_length": 50
        }
      },
      "vocab_size": 50257
    }
    """
}

@Suite struct ConfigParseTests {
    @Test func hubConfigsEqualPresets() throws {
        var expected = GPT2Config.gpt2; expected.architectures = ["GPT2LMHeadModel"]
        #expect(try parse(hubConfig(nEmbd: 768, nLayer: 12, nHead: 12)) == expected)

        expected = .gpt2Medium; expected.architectures = ["GPT2LMHeadModel"]
        let medium = try parse(hubConfig(nEmbd: 1024, nLayer: 24, nHead: 16, extra: "\n  \"n_special\": 0,\n  \"predict_special_tokens\": true,"))
        #expect(medium == expected)
        #expect(medium.headDim == 64 && medium.nInner == 4096)

        expected = .gpt2Large; expected.architectures = ["GPT2LMHeadModel"]
        #expect(try parse(hubConfig(nEmbd: 1280, nLayer: 36, nHead: 20)) == expected)

        expected = .gpt2XL; expected.architectures = ["GPT2LMHeadModel"]
        let xl = try parse(hubConfig(nEmbd: 1600, nLayer: 48, nHead: 25, extra: "\n  \"output_past\": true,"))
        #expect(xl == expected)
        #expect(xl.headDim == 64)

        // distilgpt2 publishes a one-label map ("_num_labels": 1).
        expected = .distilgpt2; expected.architectures = ["GPT2LMHeadModel"]
        expected.id2label = [0: "LABEL_0"]; expected.label2id = ["LABEL_0": 0]
        let distil = try parse(hubConfig(nEmbd: 768, nLayer: 6, nHead: 12,
            extra: "\n  \"_num_labels\": 1,\n  \"id2label\": {\n    \"0\": \"LABEL_0\"\n  },\n  \"label2id\": {\n    \"LABEL_0\": 0\n  },"))
        #expect(distil == expected)
    }

    @Test func emptyObjectGivesTransformersDefaults() throws {
        let c = try parse("{}")
        #expect(c == GPT2Config())
        #expect(c.nInner == 3072 && c.activation == .geluNew && c.layerNormEpsilon == 1e-5)
        #expect(c.bosTokenId == 50256 && c.eosTokenId == 50256 && c.padTokenId == nil)
        #expect(c.numLabels == 2 && c.id2label == [0: "LABEL_0", 1: "LABEL_1"])
    }

    @Test func id2labelStringKeysAndProblemType() throws {
        let c = try parse("""
            {"id2label": {"0": "NEGATIVE", "1": "POSITIVE"}, "label2id": {"NEGATIVE": 0, "POSITIVE": 1},
             "problem_type": "single_label_classification", "pad_token_id": 50256,
             "architectures": ["GPT2ForSequenceClassification"]}
            """)
        #expect(c.id2label == [0: "NEGATIVE", 1: "POSITIVE"])
        #expect(c.label2id == ["NEGATIVE": 0, "POSITIVE": 1])
        #expect(c.numLabels == 2 && c.problemType == "single_label_classification" && c.padTokenId == 50256)
        #expect(c.architectures == ["GPT2ForSequenceClassification"])
    }

    @Test func label2idDerivedFromId2label() throws {
        let c = try parse(#"{"id2label": {"2": "c", "0": "a", "1": "b"}}"#)
        #expect(c.id2label == [0: "a", 1: "b", 2: "c"] && c.label2id == ["a": 0, "b": 1, "c": 2])
    }

    @Test func numLabelsWithoutId2label() throws {
        let c = try parse(#"{"num_labels": 3}"#)
        #expect(c.id2label == [0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"])
        #expect(c.label2id == ["LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2])
    }

    @Test func tokenIdsListsAndNulls() throws {
        let c = try parse(#"{"eos_token_id": [50256, 50257], "bos_token_id": null, "pad_token_id": 0}"#)
        #expect(c.eosTokenId == 50256 && c.bosTokenId == nil && c.padTokenId == 0)
    }

    @Test func nInnerNullAndExplicit() throws {
        #expect(try parse(#"{"n_embd": 64, "n_head": 4, "n_inner": null}"#).nInner == 256)
        #expect(try parse(#"{"n_embd": 64, "n_head": 4, "n_inner": 100}"#).nInner == 100)
    }

    @Test func positionsFromNPositionsThenNCtx() throws {
        #expect(try parse(#"{"n_positions": 512, "n_ctx": 2048}"#).nPositions == 512)
        #expect(try parse(#"{"n_ctx": 2048}"#).nPositions == 2048)
        #expect(try parse(#"{"max_position_embeddings": 256}"#).nPositions == 256)
    }

    @Test func attributeMapAliases() throws {
        let c = try parse(#"{"hidden_size": 128, "num_hidden_layers": 3, "num_attention_heads": 4}"#)
        #expect(c.nEmbd == 128 && c.nLayer == 3 && c.nHead == 4 && c.nInner == 512)
    }

    @Test func mathFlagsAndSummaryFields() throws {
        let c = try parse("""
            {"activation_function": "gelu", "layer_norm_epsilon": 1e-6, "scale_attn_weights": false,
             "scale_attn_by_inverse_layer_idx": true, "reorder_and_upcast_attn": true, "tie_word_embeddings": false,
             "summary_type": "last", "summary_use_proj": false, "summary_activation": "tanh", "summary_proj_to_labels": false}
            """)
        #expect(c.activation == .gelu && c.layerNormEpsilon == Float(1e-6))
        #expect(!c.scaleAttnWeights && c.scaleAttnByInverseLayerIdx && c.reorderAndUpcastAttn && !c.tieWordEmbeddings)
        #expect(c.summaryType == "last" && !c.summaryUseProj && c.summaryActivation == "tanh" && !c.summaryProjToLabels)
    }

    @Test func tinyCheckpointConfigRoundTrips() throws {
        var c = TinyCheckpoint.tinyConfig
        c.padTokenId = 3; c.architectures = ["GPT2LMHeadModel"]; c.problemType = "regression"; c.nInner = 20
        #expect(try parse(TinyCheckpoint.configJSON(c)) == c)
    }

    @Test func loadFromFile() throws {
        let dir = makeTempDirectory("cfg"); defer { removeDirectory(dir) }
        try writeFile(hubConfig(nEmbd: 1024, nLayer: 24, nHead: 16), to: dir + "/config.json")
        #expect(try GPT2Config.load(path: dir + "/config.json").nLayer == 24)
        #expect(throws: CheckpointError.fileNotFound(path: dir + "/missing.json")) {
            try GPT2Config.load(path: dir + "/missing.json")
        }
    }
}

@Suite struct ConfigInvalidTests {
    @Test func unknownActivationNamesTheValue() {
        let e = parseError(#"{"activation_function": "swiglu"}"#)
        guard case let .configInvalid(file, field, reason)? = e else { Issue.record("got \(String(describing: e))"); return }
        #expect(file == "config.json" && field == "activation_function")
        #expect(reason.contains("\"swiglu\""))
        #expect(e!.description.hasPrefix("config.json: config field 'activation_function' has unknown value \"swiglu\""))
    }

    @Test func headsMustDivideWidth() {
        #expect(parseError(#"{"n_embd": 100, "n_head": 12}"#)
                == .configInvalid(file: "config.json", field: "n_head", reason: "is 12, which does not divide n_embd 100"))
    }

    @Test func sizesMustBePositive() {
        #expect(invalidField(#"{"n_layer": 0}"#) == "n_layer")
        #expect(invalidField(#"{"vocab_size": -1}"#) == "vocab_size")
        #expect(invalidField(#"{"n_head": 0}"#) == "n_head")
        #expect(invalidField(#"{"n_positions": 0}"#) == "n_positions")
        #expect(invalidField(#"{"n_inner": 0}"#) == "n_inner")
        #expect(invalidField(#"{"n_embd": 0}"#) == "n_embd")
        #expect(invalidField(#"{"num_labels": -2}"#) == "num_labels")
    }

    /// Found by FuzzConfig: 4 × n_embd overflowed (a trap) when n_inner was absent, and a huge num_labels
    /// tried to build billions of label names. Both are now errors naming the field.
    @Test func absurdSizesAreErrorsNotTrapsOrAllocations() throws {
        let fuzz = URL(fileURLWithPath: Fixtures.root + "/Tests/Fixtures/fuzz/regressions/FuzzConfig")
        for (name, field) in [("crash-n_embd-overflow", "n_embd"), ("oom-num_labels", "num_labels")] {
            let data = try Data(contentsOf: fuzz.appendingPathComponent(name))
            #expect(throws: CheckpointError.configInvalid(file: "f", field: field,
                reason: field == "n_embd" ? "is 4611686018427387904, more than 16777216"
                                          : "is 3000000000, more than 65536 labels without an id2label")) {
                try GPT2Config.parse(data, file: "f")
            }
        }
        #expect(invalidField(#"{"vocab_size": 16777217}"#) == "vocab_size")
        #expect(invalidField(#"{"n_inner": 9223372036854775807}"#) == "n_inner")
        #expect(try parse(#"{"n_embd": 16777216, "n_head": 1, "n_inner": 64}"#).nEmbd == 1 << 24)
        #expect(invalidField(#"{"n_embd": 16777216, "n_head": 1}"#) == "n_inner")
        #expect(invalidField(#"{"num_labels": 65537}"#) == "num_labels")
        #expect(try parse(#"{"num_labels": 300}"#).numLabels == 300)
    }

    @Test func wrongTypesNameTheField() {
        #expect(parseError(#"{"n_embd": "768"}"#)
                == .configInvalid(file: "config.json", field: "n_embd", reason: "must be an integer, found string \"768\""))
        #expect(invalidField(#"{"n_layer": 1.5}"#) == "n_layer")
        #expect(invalidField(#"{"scale_attn_weights": 1}"#) == "scale_attn_weights")
        #expect(invalidField(#"{"layer_norm_epsilon": "1e-5"}"#) == "layer_norm_epsilon")
        #expect(invalidField(#"{"architectures": "GPT2LMHeadModel"}"#) == "architectures")
        #expect(invalidField(#"{"eos_token_id": "x"}"#) == "eos_token_id")
        #expect(invalidField(#"{"id2label": {"zero": "A"}}"#) == "id2label")
        #expect(invalidField(#"{"id2label": {"0": 1}}"#) == "id2label")
        #expect(invalidField(#"{"label2id": {"A": "0"}}"#) == "label2id")
        #expect(invalidField(#"{"problem_type": "ranking"}"#) == "problem_type")
    }

    @Test func notJSONOrNotAnObject() {
        #expect(invalidField("{\"n_embd\": 768,") == "(file)")
        #expect(invalidField("[1]") == "(file)")
    }

    @Test func integralFloatsAreAccepted() throws {
        #expect(try parse(#"{"n_embd": 768.0}"#).nEmbd == 768)
    }
}
