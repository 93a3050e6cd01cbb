// The values WireGoldenTests encodes and the bodies it decodes: every request and response type, with
// every optional field set and with none, and a malformed body for each validation rule.
import GPT2JSON
@testable import GPT2Wire

enum WireGoldenCases {
    static let requestCases: [any WireRequest] = [
        HealthRequest(), ModelsRequest(), StatsRequest(), SessionListRequest(),
        TokenizeRequest(model: "gpt2", text: " Hello, 世界 😀\n/\"\\\t"),
        DetokenizeRequest(model: "gpt2", tokens: [15496, 0, 50256], skipSpecialTokens: true),
        DetokenizeRequest(model: "m", tokens: []),
        GenerateRequest(model: "gpt2", input: .text("Once upon"), session: "s1", maxNewTokens: 64, doSample: true,
                        temperature: 0.7, topK: 40, topP: 0.95, repetitionPenalty: 1.3, seed: 42, stop: ["\n\n", "END"],
                        stream: true, logprobs: true),
        GenerateRequest(model: "gpt2", input: .tokens([50256, 464])),
        GenerateRequest.withAdvanced,
        GenerateRequest.withNeverStopping,
        ScoreRequest(model: "gpt2", input: .text("The cat sat."), session: "s", topLogprobs: 5),
        ScoreRequest(model: "gpt2", input: .tokens([1, 2, 3])),
        SessionOpenRequest(model: "gpt2"), SessionCloseRequest(session: "abc"), SessionInfoRequest(session: "abc"),
        CancelRequest(targetID: 17), CancelRequest(targetID: "gen-1"), CancelRequest(targetID: .double(2.5)),
        ClassifyRequest(model: "cls", texts: ["I love it"]),
        ClassifyRequest(model: "cls", texts: ["a", "b 🤗"], topK: 0, function: .sigmoid),
        ClassifyRequest(model: "cls", texts: ["x"], batch: true, topK: 2, function: ClassifyRequest.Function.none),
        TagRequest(model: "tok", text: "Angela Merkel"),
        TagRequest(model: "tok", text: "x y", aggregation: .first, ignoreLabels: [], maxLength: 24, stride: 6),
        QARequest(model: "qa", question: "Where?", context: "In Berlin."),
        QARequest(model: "qa", question: "Who?", context: "Paris is nice.", topK: 3, docStride: 16, maxAnswerLen: 3,
                  maxSeqLen: 48, maxQuestionLen: 10, handleImpossibleAnswer: true, alignToWords: false),
        ChooseRequest(model: "mc", choices: ["a", "b", "c"]),
        ChooseRequest(model: "mc", prompt: "Q: ", choices: ["yes", "no"], mcTokenIndex: [2, 1]),
        EmbedRequest(model: "lm", texts: ["Hello world"]),
        EmbedRequest(model: "lm", texts: ["a", "b"], pooling: .mean, normalize: true),
    ]

    static let responseCases: [any WireResponse] = [
        HealthResponse(uptimeSeconds: 12.5),
        HealthResponse(status: "shutting_down", protocolVersion: 1, uptimeSeconds: 0.1),
        ModelsResponse(models: [
            ModelInfo(name: "gpt2", architecture: "GPT2LMHeadModel", tasks: ["generate", "score"], nLayer: 12, nEmbd: 768,
                      nHead: 12, nPositions: 1024, vocabSize: 50257, dtype: "float32"),
            ModelInfo(name: "sst2", architecture: "GPT2ForSequenceClassification", tasks: ["classify"], nLayer: 2, nEmbd: 64,
                      nHead: 2, nPositions: 128, vocabSize: 50257, dtype: "float16", labels: ["NEGATIVE", "POSITIVE"]),
        ]),
        TokenizeResponse(tokens: [15496, 995], offsets: [TextSpan(start: 0, end: 5), TextSpan(start: 5, end: 11)]),
        DetokenizeResponse(text: "Hello\n\"world\" 😀"),
        GenerateResponse(text: " there", tokens: [612, 50256], finishReason: .eos,
                         usage: .init(promptTokens: 3, completionTokens: 2, cachedTokens: 1),
                         timing: .init(queueMs: 0.5, promptMs: 3.25, completionMs: 10.0, totalMs: 14.0),
                         logprobs: [-0.5, nil, -.infinity]),
        GenerateResponse(text: "", tokens: [], finishReason: .length, usage: .init(promptTokens: 1, completionTokens: 0),
                         timing: .init(queueMs: 0, promptMs: 0, completionMs: 0, totalMs: 1e-7)),
        GenerateResponse(text: "a", tokens: [64], finishReason: .stop, usage: .init(promptTokens: 1, completionTokens: 1),
                         timing: .init(queueMs: 1, promptMs: 2, completionMs: 3, totalMs: 6), logprobs: [-0.1],
                         topLogprobs: [[TokenLogprob(token: 64, logprob: -0.1), TokenLogprob(token: 65, logprob: nil)]],
                         sequences: [GeneratedSequence(text: "a", tokens: [64], finishReason: .stop, logprobs: [-0.1], score: -0.25),
                                     GeneratedSequence(text: "b", tokens: [65], finishReason: .length)]),
        ScoreResponse(tokens: [464, 3797], logprobs: [nil, -7.25], perplexity: 1408.1,
                      topLogprobs: [nil, [TokenLogprob(token: 318, logprob: -2.5), TokenLogprob(token: 3797, logprob: -7.25)]]),
        ScoreResponse(tokens: [464], logprobs: [nil], perplexity: nil),
        ScoreResponse(tokens: [1, 2, 3], logprobs: [nil, -.infinity, .nan], perplexity: .infinity),
        SessionInfo(session: "s-1", model: "gpt2", nTokens: 12, busy: true, createdAt: 1_700_000_000.5, lastUsedAt: 1_700_000_100.25),
        SessionListResponse(sessions: [SessionInfo(session: "s-2", model: "gpt2", createdAt: 1, lastUsedAt: 2)]),
        SessionListResponse(sessions: []),
        SessionCloseResponse(session: "s-1"),
        CancelResponse(targetID: "g1", cancelled: true), CancelResponse(targetID: 3, cancelled: false),
        StatsResponse(uptimeSeconds: 3600, connections: 2, requestsActive: 1, queueDepth: 0, requestsTotal: 100, errorsTotal: 3,
                      promptTokensTotal: 5000, completionTokensTotal: 2000, sessions: 4),
        ClassifyResponse(results: [[ClassifyLabel(label: "negative", score: 0.9387829899787903)],
                                   [ClassifyLabel(label: "a", score: 0.5), ClassifyLabel(label: "b", score: nil)]]),
        TagResponse(entities: [TagEntity(label: "B-LOC", score: 0.5, index: 0, word: "Ang", start: 0, end: 3),
                               TagEntity(label: "LOC", score: nil, index: nil, word: " Berlin", start: 3, end: 10)]),
        QAResponse(answers: [QAAnswer(answer: " Berlin", score: 0.1 + 0.2, start: 33, end: 40), QAAnswer(answer: "", score: nil, start: 0, end: 0)]),
        ChooseResponse(scores: [-0.5, 0.1, nil], best: 1),
        EmbedResponse(embeddings: [[0.1, -1.25, .nan], [0, 2, 3]], dims: 3),
    ]

    static let tokenCases: [TokenEvent] = [
        TokenEvent(index: 0, token: 612, text: " there", logprob: -0.25),
        TokenEvent(index: 3, token: 10, text: ""),
        TokenEvent(index: 1, token: 5, text: "x", logprob: -.infinity, sequence: 2,
                   topLogprobs: [TokenLogprob(token: 5, logprob: -0.5), TokenLogprob(token: 6, logprob: -1.5)]),
    ]

    /// (op, body) pairs whose decoding fails.
    static let errorCases: [(String, String)] = [
        ("generate", #"{"prompt":"x"}"#), ("generate", #"{"model":"","prompt":"x"}"#), ("generate", #"{"model":7,"prompt":"x"}"#),
        ("generate", #"{"model":"m"}"#), ("generate", #"{"model":"m","prompt":"x","tokens":[1]}"#),
        ("generate", #"{"model":"m","prompt":""}"#), ("generate", #"{"model":"m","prompt":["x"]}"#),
        ("generate", #"{"model":"m","tokens":[]}"#), ("generate", #"{"model":"m","tokens":[1,-2]}"#),
        ("generate", #"{"model":"m","tokens":[1,2.5]}"#), ("generate", #"{"model":"m","tokens":"1 2"}"#),
        ("generate", #"{"model":"m","prompt":"x","max_new_tokens":-1}"#), ("generate", #"{"model":"m","prompt":"x","max_new_tokens":20.0}"#),
        ("generate", #"{"model":"m","prompt":"x","max_new_tokens":99999999}"#), ("generate", #"{"model":"m","prompt":"x","do_sample":1}"#),
        ("generate", #"{"model":"m","prompt":"x","temperature":0}"#), ("generate", #"{"model":"m","prompt":"x","temperature":"hot"}"#),
        ("generate", #"{"model":"m","prompt":"x","top_k":"5"}"#), ("generate", #"{"model":"m","prompt":"x","top_p":1.5}"#),
        ("generate", #"{"model":"m","prompt":"x","repetition_penalty":0}"#), ("generate", #"{"model":"m","prompt":"x","seed":-1}"#),
        ("generate", #"{"model":"m","prompt":"x","seed":1.5}"#), ("generate", #"{"model":"m","prompt":"x","stop":[1]}"#),
        ("generate", #"{"model":"m","prompt":"x","stop":[""]}"#), ("generate", #"{"model":"m","prompt":"x","stop":{}}"#),
        ("generate", #"{"model":"m","prompt":"x","stop":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}"#),
        ("generate", #"{"model":"m","prompt":"x","stream":"yes"}"#), ("generate", #"{"model":"m","prompt":"x","logprobs":0}"#),
        ("generate", #"{"model":"m","prompt":"x","session":""}"#), ("generate", #"{"model":"m","prompt":"x","session":3}"#),
        ("generate", #"{"model":"m","prompt":"x","min_new_tokens":-1}"#), ("generate", #"{"model":"m","prompt":"x","no_repeat_ngram_size":2000}"#),
        ("generate", #"{"model":"m","prompt":"x","bad_words_ids":[[]]}"#), ("generate", #"{"model":"m","prompt":"x","bad_words_ids":[[1,-1]]}"#),
        ("generate", #"{"model":"m","prompt":"x","bad_words_ids":3}"#), ("generate", #"{"model":"m","prompt":"x","suppress_tokens":[-1]}"#),
        ("generate", #"{"model":"m","prompt":"x","min_p":2}"#), ("generate", #"{"model":"m","prompt":"x","typical_p":0}"#),
        ("generate", #"{"model":"m","prompt":"x","presence_penalty":3}"#), ("generate", #"{"model":"m","prompt":"x","frequency_penalty":-3}"#),
        ("generate", #"{"model":"m","prompt":"x","logit_bias":{"a":1}}"#), ("generate", #"{"model":"m","prompt":"x","logit_bias":{"5":101}}"#),
        ("generate", #"{"model":"m","prompt":"x","logit_bias":[1]}"#), ("generate", #"{"model":"m","prompt":"x","num_return_sequences":17}"#),
        ("generate", #"{"model":"m","prompt":"x","num_beams":0}"#), ("generate", #"{"model":"m","prompt":"x","length_penalty":"x"}"#),
        ("generate", #"{"model":"m","prompt":"x","early_stopping":"always"}"#), ("generate", #"{"model":"m","prompt":"x","top_logprobs":21}"#),
        ("generate", #"{"model":"m","prompt":"x","logprobs_mode":"final"}"#), ("generate", #"{"model":"m","prompt":"x","logprobs_mode":1}"#),
        ("generate", #"{"model":"m","prompt":"x","include_stop_str_in_output":1}"#), ("generate", #"{"model":"m","prompt":"x","ignore_eos":"no"}"#),
        ("generate", #"{"model":"m","prompt":"x","num_beams":2,"stream":true}"#), ("generate", #"{"model":"m","prompt":"x","num_beams":2,"do_sample":true}"#),
        ("generate", #"{"model":"m","prompt":"x","num_return_sequences":2}"#), ("generate", #"{"model":"m","prompt":"x","num_beams":2,"num_return_sequences":3}"#),
        ("generate", #"{"model":"m","prompt":"x","num_return_sequences":2,"do_sample":true,"session":"s"}"#),
        ("generate", #"{"model":"m","prompt":"x","num_beams":2,"session":"s"}"#),
        ("tokenize", #"{"text":"x"}"#), ("tokenize", #"{"model":"m"}"#), ("tokenize", #"{"model":"m","text":null}"#), ("tokenize", #"{"model":"m","text":1}"#),
        ("detokenize", #"{"model":"m"}"#), ("detokenize", #"{"model":"m","tokens":[-1]}"#), ("detokenize", #"{"model":"m","tokens":[1],"skip_special_tokens":"no"}"#),
        ("score", #"{"model":"m"}"#), ("score", #"{"model":"m","text":"a","tokens":[1]}"#), ("score", #"{"model":"m","text":"a","top_logprobs":21}"#),
        ("score", #"{"model":"m","text":"a","session":""}"#),
        ("session.open", #"{}"#), ("session.close", #"{}"#), ("session.info", #"{"session":1}"#),
        ("cancel", #"{}"#), ("cancel", #"{"target_id":[1]}"#), ("cancel", #"{"target_id":true}"#),
        ("classify", #"{"text":"a"}"#), ("classify", #"{"model":"m"}"#), ("classify", #"{"model":"m","text":"a","texts":["b"]}"#),
        ("classify", #"{"model":"m","text":""}"#), ("classify", #"{"model":"m","texts":[]}"#), ("classify", #"{"model":"m","texts":"a"}"#),
        ("classify", #"{"model":"m","texts":["a",""]}"#), ("classify", #"{"model":"m","texts":["a",3]}"#),
        ("classify", #"{"model":"m","text":"a","top_k":-1}"#), ("classify", #"{"model":"m","text":"a","top_k":1.0}"#),
        ("classify", #"{"model":"m","text":"a","function_to_apply":"relu"}"#), ("classify", #"{"model":"m","text":"a","function_to_apply":1}"#),
        ("tag", #"{"model":"m"}"#), ("tag", #"{"model":"m","text":""}"#), ("tag", #"{"model":"m","text":"a","aggregation_strategy":"mean"}"#),
        ("tag", #"{"model":"m","text":"a","aggregation_strategy":3}"#),
        ("tag", #"{"model":"m","text":"a","ignore_labels":"O"}"#), ("tag", #"{"model":"m","text":"a","ignore_labels":[1]}"#),
        ("tag", #"{"model":"m","text":"a","stride":2}"#), ("tag", #"{"model":"m","text":"a","aggregation_strategy":"simple","stride":-1}"#),
        ("tag", #"{"model":"m","text":"a","aggregation_strategy":"simple","stride":8,"max_length":8}"#), ("tag", #"{"model":"m","text":"a","max_length":0}"#),
        ("qa", #"{"model":"m","context":"c"}"#), ("qa", #"{"model":"m","question":"q"}"#), ("qa", #"{"model":"m","question":"","context":"c"}"#),
        ("qa", #"{"model":"m","question":"q","context":"c","top_k":0}"#), ("qa", #"{"model":"m","question":"q","context":"c","max_answer_len":0}"#),
        ("qa", #"{"model":"m","question":"q","context":"c","doc_stride":-1}"#), ("qa", #"{"model":"m","question":"q","context":"c","doc_stride":50,"max_seq_len":48}"#),
        ("qa", #"{"model":"m","question":"q","context":"c","max_seq_len":1}"#), ("qa", #"{"model":"m","question":"q","context":"c","max_question_len":0}"#),
        ("qa", #"{"model":"m","question":"q","context":"c","handle_impossible_answer":"yes"}"#), ("qa", #"{"model":"m","question":"q","context":"c","align_to_words":1}"#),
        ("choose", #"{"model":"m"}"#), ("choose", #"{"model":"m","choices":["only"]}"#), ("choose", #"{"model":"m","choices":"ab"}"#),
        ("choose", #"{"model":"m","choices":["a",2]}"#), ("choose", #"{"model":"m","prompt":3,"choices":["a","b"]}"#),
        ("choose", #"{"model":"m","choices":["a","b"],"mc_token_index":[0]}"#), ("choose", #"{"model":"m","choices":["a","b"],"mc_token_index":[0,-1]}"#),
        ("embed", #"{"model":"m"}"#), ("embed", #"{"model":"m","text":"a","pooling":"max"}"#), ("embed", #"{"model":"m","text":"a","normalize":"true"}"#),
        ("embed", #"{"model":"","text":"a"}"#),
    ]

    /// Result bodies (by op) a client fails to decode.
    static let resultErrorCases: [(String, String)] = [
        ("health", #"{"status":"ok","protocol_version":1.5,"uptime_seconds":1}"#), ("health", #"{"status":"ok","protocol_version":1}"#),
        ("models", #"{"models":[1]}"#), ("models", #"{"models":[{"name":"a"}]}"#),
        ("tokenize", #"{"tokens":[1],"offsets":[[0]]}"#), ("tokenize", #"{"tokens":[1]}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"cancelled","usage":{},"timing":{}}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1},"timing":{}}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":"x"}}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":0,"prompt_ms":0,"completion_ms":0,"total_ms":0},"logprobs":["a"]}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":0,"prompt_ms":0,"completion_ms":0,"total_ms":0},"top_logprobs":[1]}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":0,"prompt_ms":0,"completion_ms":0,"total_ms":0},"top_logprobs":[[1]]}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":0,"prompt_ms":0,"completion_ms":0,"total_ms":0},"sequences":[1]}"#),
        ("generate", #"{"text":"","tokens":[],"finish_reason":"eos","usage":{"prompt_tokens":1,"completion_tokens":0},"timing":{"queue_ms":0,"prompt_ms":0,"completion_ms":0,"total_ms":0},"sequences":[{"text":"","tokens":[],"finish_reason":"x"}]}"#),
        ("score", #"{"tokens":[1],"logprobs":[null],"top_logprobs":[3]}"#), ("score", #"{"tokens":[1],"logprobs":[null],"top_logprobs":[[3]]}"#),
        ("score", #"{"tokens":[1],"logprobs":"x"}"#),
        ("session.info", #"{"session":"s","model":"m","n_tokens":1,"busy":true,"created_at":1}"#),
        ("session.list", #"{"sessions":[2]}"#), ("session.close", #"{"session":"s"}"#),
        ("cancel", #"{"cancelled":true}"#), ("stats", #"{"uptime_seconds":1}"#),
        ("classify", #"{"results":[1]}"#), ("classify", #"{"results":[[1]]}"#), ("classify", #"{"results":[[{"score":1}]]}"#),
        ("tag", #"{"entities":[{"entity":"a","word":"w","start":0,"end":1}]}"#), ("tag", #"{"entities":[{"word":"w","start":0,"end":1}]}"#),
        ("qa", #"{"answers":[{"answer":"a","start":0}]}"#), ("choose", #"{"scores":[1,"x"],"best":0}"#), ("choose", #"{"scores":[1],"best":-1}"#),
        ("embed", #"{"embeddings":[1],"dims":1}"#), ("embed", #"{"embeddings":[["x"]],"dims":1}"#), ("embed", #"{"embeddings":[],"dims":-1}"#),
    ]
}

extension GenerateRequest {
    /// Every GenerateAdvanced knob away from its default.
    static var withAdvanced: GenerateRequest {
        var g = GenerateRequest(model: "gpt2", input: .text("Hi"), doSample: true)
        g.advanced.minNewTokens = 2
        g.advanced.noRepeatNGramSize = 3
        g.advanced.badWordsIDs = [[1, 2], [3]]
        g.advanced.suppressTokens = [7, 8]
        g.advanced.minP = 0.05
        g.advanced.typicalP = 0.9
        g.advanced.presencePenalty = 0.5
        g.advanced.frequencyPenalty = -0.5
        g.advanced.logitBias = [50256: -100, 13: 2.5]
        g.advanced.numReturnSequences = 3
        g.advanced.lengthPenalty = 0.8
        g.advanced.earlyStopping = .true
        g.advanced.topLogprobs = 4
        g.advanced.logprobsMode = .processed
        g.advanced.includeStopStrInOutput = true
        g.advanced.ignoreEOS = true
        return g
    }

    /// Beam search with early_stopping "never".
    static var withNeverStopping: GenerateRequest {
        var g = GenerateRequest(model: "gpt2", input: .tokens([1]), maxNewTokens: 5)
        g.advanced.numBeams = 4
        g.advanced.numReturnSequences = 2
        g.advanced.earlyStopping = .never
        return g
    }
}
