// The exact wire bytes of every case in WireGoldenCases, recorded from the hand-written encoders and
// decoders that the field tables replaced (issue #10): request and response lines must stay byte for
// byte the same (key order, number forms, omitted defaults), and so must every error a request gets.
// Client-side decoding of malformed results names the failing element since then ("results[0][0]",
// three entries of `resultErrors`), where it used to name the list.
import Testing
import GPT2JSON
@testable import GPT2Wire

@Suite struct WireGoldenTests {
    func requestLine<R: WireRequest>(_ r: R) -> String { String(decoding: RequestLine.encode(r, id: 1).dropLast(), as: UTF8.self) }
    func resultLine<R: WireResponse>(_ r: R) -> String { String(decoding: ResponseLine.result(id: 1, r).dropLast(), as: UTF8.self) }
    func decodeResult<R: WireRequest>(_ t: R.Type, _ body: JSONObject) throws(WireError) { _ = try R.Response(from: body) }

    /// The error line a body of `op` gets (from the request decoder, or with `result` the client's result decoder).
    func errorLine(_ op: String, _ body: String, result: Bool) -> String {
        guard case .object(let o)? = try? JSON.parse(body), let t = WireOps.requestType(for: op) else { return "bad test case" }
        do {
            if result { try decodeResult(t, o) } else { _ = try t.init(from: o) }
            return "no error"
        } catch { return String(decoding: ResponseLine.error(id: 1, error).dropLast(), as: UTF8.self) }
    }

    func compare(_ got: [String], _ want: [String], _ what: String) {
        #expect(got.count == want.count, "\(what): \(got.count) lines, want \(want.count)")
        for (i, (g, w)) in zip(got, want).enumerated() { #expect(g == w, "\(what) #\(i)") }
    }

    @Test func requestLines() { compare(WireGoldenCases.requestCases.map { requestLine($0) }, Self.requests, "request") }

    @Test func resultLines() { compare(WireGoldenCases.responseCases.map { resultLine($0) }, Self.results, "result") }

    @Test func tokenLines() {
        compare(WireGoldenCases.tokenCases.map { String(decoding: ResponseLine.token(id: 1, $0).dropLast(), as: UTF8.self) },
                Self.tokens, "token")
    }

    @Test func requestErrors() {
        compare(WireGoldenCases.errorCases.map { errorLine($0.0, $0.1, result: false) }, Self.requestErrors, "request error")
    }

    @Test func resultErrors() {
        compare(WireGoldenCases.resultErrorCases.map { errorLine($0.0, $0.1, result: true) }, Self.resultErrors, "result error")
    }

    /// Requests decode back to themselves; a result read back by a client encodes to the same line (a
    /// non-finite number went out as null and comes back as nil or NaN).
    @Test func everyCaseRoundTrips() throws {
        func back<R: WireRequest>(_ r: R) throws -> Bool { try wireRoundTrip(r) == r }
        for r in WireGoldenCases.requestCases { #expect(try back(r), "\(r)") }
        func again<R: WireResponse>(_ r: R) throws -> String { resultLine(try resultRoundTrip(r)) }
        for r in WireGoldenCases.responseCases { #expect(try again(r) == resultLine(r), "\(r)") }
        for t in WireGoldenCases.tokenCases {
            let line = ResponseLine.token(id: 1, t)
            guard case .token(let back) = try IncomingResponse.parse(line.dropLast()).kind else {
                Issue.record("not a token line: \(t)")
                continue
            }
            // A -inf logprob goes out as null and comes back absent.
            var want = t
            if want.logprob?.isFinite == false { want.logprob = nil }
            #expect(back == want, "\(t)")
        }
    }
}

extension WireGoldenTests {
    /// RequestLine.encode(_, id: 1) of each request case.
    static let requests: [String] = [
        #"{"id":1,"op":"health"}"#,
        #"{"id":1,"op":"models"}"#,
        #"{"id":1,"op":"stats"}"#,
        #"{"id":1,"op":"session.list"}"#,
        #"{"id":1,"op":"tokenize","model":"gpt2","text":" Hello, 世界 😀\n/\"\\\t"}"#,
        #"{"id":1,"op":"detokenize","model":"gpt2","tokens":[15496,0,50256],"skip_special_tokens":true}"#,
        #"{"id":1,"op":"detokenize","model":"m","tokens":[],"skip_special_tokens":false}"#,
        #"{"id":1,"op":"generate","model":"gpt2","prompt":"Once upon","session":"s1","max_new_tokens":64,"do_sample":true,"temperature":0.7,"top_k":40,"top_p":0.95,"repetition_penalty":1.3,"seed":42,"stop":["\n\n","END"],"stream":true,"logprobs":true}"#,
        #"{"id":1,"op":"generate","model":"gpt2","tokens":[50256,464],"do_sample":false,"temperature":1.0,"top_k":50,"top_p":1.0,"repetition_penalty":1.0,"stream":false,"logprobs":false}"#,
        #"{"id":1,"op":"generate","model":"gpt2","prompt":"Hi","do_sample":true,"temperature":1.0,"top_k":50,"top_p":1.0,"repetition_penalty":1.0,"stream":false,"logprobs":false,"min_new_tokens":2,"no_repeat_ngram_size":3,"bad_words_ids":[[1,2],[3]],"suppress_tokens":[7,8],"min_p":0.05,"typical_p":0.9,"presence_penalty":0.5,"frequency_penalty":-0.5,"logit_bias":{"13":2.5,"50256":-100.0},"num_return_sequences":3,"length_penalty":0.8,"early_stopping":true,"top_logprobs":4,"logprobs_mode":"processed","include_stop_str_in_output":true,"ignore_eos":true}"#,
        #"{"id":1,"op":"generate","model":"gpt2","tokens":[1],"max_new_tokens":5,"do_sample":false,"temperature":1.0,"top_k":50,"top_p":1.0,"repetition_penalty":1.0,"stream":false,"logprobs":false,"num_return_sequences":2,"num_beams":4,"early_stopping":"never"}"#,
        #"{"id":1,"op":"score","model":"gpt2","text":"The cat sat.","session":"s","top_logprobs":5}"#,
        #"{"id":1,"op":"score","model":"gpt2","tokens":[1,2,3],"top_logprobs":0}"#,
        #"{"id":1,"op":"session.open","model":"gpt2"}"#,
        #"{"id":1,"op":"session.close","session":"abc"}"#,
        #"{"id":1,"op":"session.info","session":"abc"}"#,
        #"{"id":1,"op":"cancel","target_id":17}"#,
        #"{"id":1,"op":"cancel","target_id":"gen-1"}"#,
        #"{"id":1,"op":"cancel","target_id":2.5}"#,
        #"{"id":1,"op":"classify","model":"cls","text":"I love it"}"#,
        #"{"id":1,"op":"classify","model":"cls","texts":["a","b 🤗"],"top_k":0,"function_to_apply":"sigmoid"}"#,
        #"{"id":1,"op":"classify","model":"cls","texts":["x"],"top_k":2,"function_to_apply":"none"}"#,
        #"{"id":1,"op":"tag","model":"tok","text":"Angela Merkel","aggregation_strategy":"none","ignore_labels":["O"]}"#,
        #"{"id":1,"op":"tag","model":"tok","text":"x y","aggregation_strategy":"first","ignore_labels":[],"max_length":24,"stride":6}"#,
        #"{"id":1,"op":"qa","model":"qa","question":"Where?","context":"In Berlin.","top_k":1,"max_answer_len":15,"max_question_len":64,"handle_impossible_answer":false,"align_to_words":true}"#,
        #"{"id":1,"op":"qa","model":"qa","question":"Who?","context":"Paris is nice.","top_k":3,"doc_stride":16,"max_answer_len":3,"max_seq_len":48,"max_question_len":10,"handle_impossible_answer":true,"align_to_words":false}"#,
        #"{"id":1,"op":"choose","model":"mc","choices":["a","b","c"]}"#,
        #"{"id":1,"op":"choose","model":"mc","prompt":"Q: ","choices":["yes","no"],"mc_token_index":[2,1]}"#,
        #"{"id":1,"op":"embed","model":"lm","text":"Hello world","pooling":"last","normalize":false}"#,
        #"{"id":1,"op":"embed","model":"lm","texts":["a","b"],"pooling":"mean","normalize":true}"#,
    ]

    /// ResponseLine.result(id: 1, _) of each response case.
    static let results: [String] = [
        #"{"id":1,"type":"result","status":"ok","protocol_version":1,"uptime_seconds":12.5}"#,
        #"{"id":1,"type":"result","status":"shutting_down","protocol_version":1,"uptime_seconds":0.1}"#,
        #"{"id":1,"type":"result","models":[{"name":"gpt2","architecture":"GPT2LMHeadModel","tasks":["generate","score"],"n_layer":12,"n_embd":768,"n_head":12,"n_positions":1024,"vocab_size":50257,"dtype":"float32","labels":[]},{"name":"sst2","architecture":"GPT2ForSequenceClassification","tasks":["classify"],"n_layer":2,"n_embd":64,"n_head":2,"n_positions":128,"vocab_size":50257,"dtype":"float16","labels":["NEGATIVE","POSITIVE"]}]}"#,
        #"{"id":1,"type":"result","tokens":[15496,995],"offsets":[[0,5],[5,11]]}"#,
        #"{"id":1,"type":"result","text":"Hello\n\"world\" 😀"}"#,
        #"{"id":1,"type":"result","text":" there","tokens":[612,50256],"finish_reason":"eos","usage":{"prompt_tokens":3,"completion_tokens":2,"cached_tokens":1},"timing":{"queue_ms":0.5,"prompt_ms":3.25,"completion_ms":10.0,"total_ms":14.0},"logprobs":[-0.5,null,null]}"#,
        #"{"id":1,"type":"result","text":"","tokens":[],"finish_reason":"length","usage":{"prompt_tokens":1,"completion_tokens":0,"cached_tokens":0},"timing":{"queue_ms":0.0,"prompt_ms":0.0,"completion_ms":0.0,"total_ms":1e-07}}"#,
        #"{"id":1,"type":"result","text":"a","tokens":[64],"finish_reason":"stop","usage":{"prompt_tokens":1,"completion_tokens":1,"cached_tokens":0},"timing":{"queue_ms":1.0,"prompt_ms":2.0,"completion_ms":3.0,"total_ms":6.0},"logprobs":[-0.1],"top_logprobs":[[{"token":64,"logprob":-0.1},{"token":65,"logprob":null}]],"sequences":[{"text":"a","tokens":[64],"finish_reason":"stop","logprobs":[-0.1],"score":-0.25},{"text":"b","tokens":[65],"finish_reason":"length"}]}"#,
        #"{"id":1,"type":"result","tokens":[464,3797],"logprobs":[null,-7.25],"perplexity":1408.1,"top_logprobs":[null,[{"token":318,"logprob":-2.5},{"token":3797,"logprob":-7.25}]]}"#,
        #"{"id":1,"type":"result","tokens":[464],"logprobs":[null],"perplexity":null}"#,
        #"{"id":1,"type":"result","tokens":[1,2,3],"logprobs":[null,null,null],"perplexity":null}"#,
        #"{"id":1,"type":"result","session":"s-1","model":"gpt2","n_tokens":12,"busy":true,"created_at":1700000000.5,"last_used_at":1700000100.25}"#,
        #"{"id":1,"type":"result","sessions":[{"session":"s-2","model":"gpt2","n_tokens":0,"busy":false,"created_at":1.0,"last_used_at":2.0}]}"#,
        #"{"id":1,"type":"result","sessions":[]}"#,
        #"{"id":1,"type":"result","session":"s-1","closed":true}"#,
        #"{"id":1,"type":"result","target_id":"g1","cancelled":true}"#,
        #"{"id":1,"type":"result","target_id":3,"cancelled":false}"#,
        #"{"id":1,"type":"result","uptime_seconds":3600.0,"connections":2,"requests_active":1,"queue_depth":0,"requests_total":100,"errors_total":3,"prompt_tokens_total":5000,"completion_tokens_total":2000,"sessions":4}"#,
        #"{"id":1,"type":"result","results":[[{"label":"negative","score":0.938783}],[{"label":"a","score":0.5},{"label":"b","score":null}]]}"#,
        #"{"id":1,"type":"result","entities":[{"entity":"B-LOC","score":0.5,"index":0,"word":"Ang","start":0,"end":3},{"entity_group":"LOC","score":null,"word":" Berlin","start":3,"end":10}]}"#,
        #"{"id":1,"type":"result","answers":[{"answer":" Berlin","score":0.30000000000000004,"start":33,"end":40},{"answer":"","score":null,"start":0,"end":0}]}"#,
        #"{"id":1,"type":"result","scores":[-0.5,0.1,null],"best":1}"#,
        #"{"id":1,"type":"result","embeddings":[[0.1,-1.25,null],[0.0,2.0,3.0]],"dims":3}"#,
    ]

    /// ResponseLine.token(id: 1, _) of each token case.
    static let tokens: [String] = [
        #"{"id":1,"type":"token","index":0,"token":612,"text":" there","logprob":-0.25}"#,
        #"{"id":1,"type":"token","index":3,"token":10,"text":""}"#,
        #"{"id":1,"type":"token","index":1,"token":5,"text":"x","logprob":null,"sequence":2,"top_logprobs":[{"token":5,"logprob":-0.5},{"token":6,"logprob":-1.5}]}"#,
    ]

    /// The error line for each malformed request body.
    static let requestErrors: [String] = [
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'model'","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'model': expected a non-empty string, got \"\"","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'model': expected a string, got 7","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"one of the fields 'prompt' or 'tokens' is required","field":"prompt"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"fields 'prompt' and 'tokens' are exclusive: give exactly one","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'prompt': expected a non-empty string, got \"\"","field":"prompt"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'prompt': expected a string, got array","field":"prompt"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'tokens': expected a non-empty array of integers in [0, 2147483647], got array","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'tokens': expected a non-empty array of integers in [0, 2147483647], got -2","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'tokens': expected a non-empty array of integers in [0, 2147483647], got 2.5","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'tokens': expected a non-empty array of integers in [0, 2147483647], got \"1 2\"","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_new_tokens': expected an integer in [0, 1048576], got -1","field":"max_new_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_new_tokens': expected an integer in [0, 1048576], got 20.0","field":"max_new_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_new_tokens': expected an integer in [0, 1048576], got 99999999","field":"max_new_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'do_sample': expected a boolean, got 1","field":"do_sample"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'temperature': expected a number > 0, got 0","field":"temperature"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'temperature': expected a number > 0, got \"hot\"","field":"temperature"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_k': expected an integer >= 0, got \"5\"","field":"top_k"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_p': expected a number in (0, 1], got 1.5","field":"top_p"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'repetition_penalty': expected a number > 0, got 0","field":"repetition_penalty"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'seed': expected an integer in 0...9223372036854775807, got -1","field":"seed"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'seed': expected an integer in 0...9223372036854775807, got 1.5","field":"seed"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stop': expected a string or an array of at most 16 strings, got array","field":"stop"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stop': expected non-empty strings, got array","field":"stop"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stop': expected a string or an array of at most 16 strings, got object","field":"stop"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stop': expected a string or an array of at most 16 strings, got array","field":"stop"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stream': expected a boolean, got \"yes\"","field":"stream"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logprobs': expected a boolean, got 0","field":"logprobs"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'session': expected a non-empty string, got \"\"","field":"session"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'session': expected a string, got 3","field":"session"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'min_new_tokens': expected an integer in [0, 1048576], got -1","field":"min_new_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'no_repeat_ngram_size': expected an integer in [0, 1024], got 2000","field":"no_repeat_ngram_size"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'bad_words_ids[0]': expected a non-empty array of token ids, got array","field":"bad_words_ids[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'bad_words_ids[0][1]': expected a token id ≥ 0, got -1","field":"bad_words_ids[0][1]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'bad_words_ids': expected an array, got 3","field":"bad_words_ids"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'suppress_tokens': expected an array of integers in [0, 2147483647], got -1","field":"suppress_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'min_p': expected a number in [0, 1], got 2","field":"min_p"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'typical_p': expected a number in (0, 1], got 0","field":"typical_p"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'presence_penalty': expected a number in [-2, 2], got 3","field":"presence_penalty"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'frequency_penalty': expected a number in [-2, 2], got -3","field":"frequency_penalty"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logit_bias': expected keys that are token ids, got \"a\"","field":"logit_bias"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logit_bias[5]': expected a number in [-100, 100], got 101","field":"logit_bias[5]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logit_bias': expected an object, got array","field":"logit_bias"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'num_return_sequences': expected an integer in [1, 16], got 17","field":"num_return_sequences"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'num_beams': expected an integer in [1, 16], got 0","field":"num_beams"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'length_penalty': expected a finite number, got \"x\"","field":"length_penalty"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'early_stopping': expected true, false or \"never\", got \"always\"","field":"early_stopping"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs': expected an integer in [0, 20], got 21","field":"top_logprobs"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logprobs_mode': expected \"raw\" or \"processed\", got \"final\"","field":"logprobs_mode"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logprobs_mode': expected a string, got 1","field":"logprobs_mode"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'include_stop_str_in_output': expected a boolean, got 1","field":"include_stop_str_in_output"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'ignore_eos': expected a boolean, got \"no\"","field":"ignore_eos"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"stream cannot be combined with num_beams > 1 (beams reorder until the end)","field":"stream"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"beam sampling is not supported: use do_sample false with num_beams > 1","field":"num_beams"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"num_return_sequences > 1 needs do_sample true or num_beams ≥ num_return_sequences (greedy would repeat one answer)","field":"num_return_sequences"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"num_return_sequences must be ≤ num_beams","field":"num_return_sequences"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"a session continues one sequence: num_return_sequences must be 1","field":"num_return_sequences"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"beam search does not continue sessions","field":"num_beams"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'model'","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'text'","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'text'","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'text': expected a string, got 1","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'tokens'","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'tokens': expected an array of integers in [0, 2147483647], got -1","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'skip_special_tokens': expected a boolean, got \"no\"","field":"skip_special_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"one of the fields 'text' or 'tokens' is required","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"fields 'text' and 'tokens' are exclusive: give exactly one","field":"tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs': expected an integer in [0, 20], got 21","field":"top_logprobs"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'session': expected a non-empty string, got \"\"","field":"session"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'model'","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'session'","field":"session"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'session': expected a string, got 1","field":"session"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'target_id'","field":"target_id"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'target_id': expected a string or a number, got array","field":"target_id"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'target_id': expected a string or a number, got true","field":"target_id"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'model'","field":"model"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"one of the fields 'text' or 'texts' is required","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"fields 'text' and 'texts' are exclusive: give exactly one","field":"texts"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'text': expected a non-empty string, got \"\"","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'texts': expected a non-empty array of at most 256 non-empty strings, got array","field":"texts"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'texts': expected a non-empty array of at most 256 non-empty strings, got \"a\"","field":"texts"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'texts[1]': expected a non-empty string, got \"\"","field":"texts[1]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'texts[1]': expected a non-empty string, got 3","field":"texts[1]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_k': expected an integer >= 0, got -1","field":"top_k"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_k': expected an integer >= 0, got 1.0","field":"top_k"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'function_to_apply': expected one of \"softmax\", \"sigmoid\", \"none\", got \"relu\"","field":"function_to_apply"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'function_to_apply': expected a string, got 1","field":"function_to_apply"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'text'","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'text': expected a non-empty string, got \"\"","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'aggregation_strategy': expected one of \"none\", \"simple\", \"first\", \"average\", \"max\", got \"mean\"","field":"aggregation_strategy"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'aggregation_strategy': expected a string, got 3","field":"aggregation_strategy"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'ignore_labels': expected an array of strings, got \"O\"","field":"ignore_labels"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'ignore_labels': expected an array of strings, got 1","field":"ignore_labels"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stride': needs an aggregation_strategy other than \"none\"","field":"stride"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stride': expected an integer >= 0, got -1","field":"stride"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'stride': expected an integer < max_length (8), got 8","field":"stride"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_length': expected an integer >= 1, got 0","field":"max_length"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'question'","field":"question"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'context'","field":"context"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'question': expected a non-empty string, got \"\"","field":"question"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_k': expected an integer >= 1, got 0","field":"top_k"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_answer_len': expected an integer >= 1, got 0","field":"max_answer_len"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'doc_stride': expected an integer >= 0, got -1","field":"doc_stride"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'doc_stride': expected an integer ≤ max_seq_len (48), got 50","field":"doc_stride"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_seq_len': expected an integer >= 2, got 1","field":"max_seq_len"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'max_question_len': expected an integer >= 1, got 0","field":"max_question_len"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'handle_impossible_answer': expected a boolean, got \"yes\"","field":"handle_impossible_answer"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'align_to_words': expected a boolean, got 1","field":"align_to_words"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'choices'","field":"choices"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'choices': expected an array of 2 to 64 strings, got array","field":"choices"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'choices': expected an array, got \"ab\"","field":"choices"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'choices[1]': expected a string, got 2","field":"choices[1]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'prompt': expected a string, got 3","field":"prompt"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'mc_token_index': expected one index per choice (2), got 1","field":"mc_token_index"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'mc_token_index': expected an array of integers in [0, 2147483647], got -1","field":"mc_token_index"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"one of the fields 'text' or 'texts' is required","field":"text"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'pooling': expected one of \"last\", \"mean\", got \"max\"","field":"pooling"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'normalize': expected a boolean, got \"true\"","field":"normalize"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'model': expected a non-empty string, got \"\"","field":"model"}}"#,
    ]

    /// The error a client gets decoding each malformed result body.
    static let resultErrors: [String] = [
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'protocol_version': expected an integer, got 1.5","field":"protocol_version"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'uptime_seconds'","field":"uptime_seconds"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'models[0]': expected an object, got 1","field":"models[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'architecture'","field":"architecture"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'offsets[0]': expected [start, end], got array","field":"offsets[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'offsets'","field":"offsets"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'finish_reason': expected \"length\", \"stop\" or \"eos\", got \"cancelled\"","field":"finish_reason"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'completion_tokens'","field":"completion_tokens"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'queue_ms': expected a number, got \"x\"","field":"queue_ms"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logprobs[0]': expected a number or null, got \"a\"","field":"logprobs[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs[0]': expected an array, got 1","field":"top_logprobs[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs[0][0]': expected an object, got 1","field":"top_logprobs[0][0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'sequences[0]': expected an object, got 1","field":"sequences[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'finish_reason': expected \"length\", \"stop\" or \"eos\", got \"x\"","field":"finish_reason"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs[0]': expected an array or null, got 3","field":"top_logprobs[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'top_logprobs[0][0]': expected an object, got 3","field":"top_logprobs[0][0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'logprobs': expected an array, got \"x\"","field":"logprobs"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'last_used_at'","field":"last_used_at"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'sessions[0]': expected an object, got 2","field":"sessions[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'closed'","field":"closed"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'target_id'","field":"target_id"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'connections'","field":"connections"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'results[0]': expected an array, got 1","field":"results[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'results[0][0]': expected an object, got 1","field":"results[0][0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'label'","field":"label"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'index'","field":"index"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'entity_group'","field":"entity_group"}}"#,
        #"{"id":1,"type":"error","error":{"code":"missing_field","message":"missing required field 'end'","field":"end"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'scores[1]': expected a number or null, got \"x\"","field":"scores[1]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'best': expected an integer >= 0, got -1","field":"best"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'embeddings[0]': expected an array of numbers, got 1","field":"embeddings[0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'embeddings[0][0]': expected a number or null, got \"x\"","field":"embeddings[0][0]"}}"#,
        #"{"id":1,"type":"error","error":{"code":"invalid_field","message":"field 'dims': expected an integer >= 0, got -1","field":"dims"}}"#,
    ]
}
