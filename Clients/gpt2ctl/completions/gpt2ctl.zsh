#compdef gpt2ctl

__gpt2ctl_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__gpt2ctl_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __gpt2ctl_complete "${completions[@]:0:-1}"
    fi
}

__gpt2ctl_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_gpt2ctl() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'generate:Continue a prompt with a model, printing the text as it is generated.'
            'score:Score a text: each token'\''s log-probability under the model, and the perplexity.'
            'tokenize:Split a text into the model'\''s token ids.'
            'detokenize:Turn token ids back into text.'
            'classify:Classify texts with a sequence-classification model (text-classification pipeline).'
            'tag:Tag the tokens of a text (named entities; token-classification pipeline).'
            'qa:Answer a question from a context (extractive question-answering pipeline).'
            'choose:Score multiple choices with a double-heads model'\''s multiple-choice head.'
            'embed:Embed texts: pooled final hidden states (any model).'
            'models:List, load or unload the daemon'\''s models.'
            'health:Check that the daemon is up.'
            'stats:Show the daemon'\''s counters.'
            'session:Manage sessions (a KV cache kept between requests).'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        generate|score|tokenize|detokenize|classify|tag|qa|choose|embed|models|health|stats|session|help)
            "_gpt2ctl_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_gpt2ctl_generate() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        ':prompt:'
        '--tokens[Prompt token ids instead of text, e.g. 1,2,3.]:ids:'
        '--max-new-tokens[Most tokens to generate (daemon default 20).]:max-new-tokens:'
        '--do-sample[Sample instead of greedy decoding.]'
        '--temperature[Sampling temperature, > 0 (default 1.0).]:temperature:'
        '--top-k[Keep the k most likely tokens when sampling; 0 disables (default 50).]:top-k:'
        '--top-p[Nucleus sampling mass in (0, 1\] (default 1.0).]:top-p:'
        '--repetition-penalty[> 0; 1.0 disables (default 1.0).]:repetition-penalty:'
        '--seed[Random seed for sampling, 0 ... 2^63-1 (default\: random).]:seed:'
        '*--stop[Stop when this text is generated (repeatable, up to 16).]:text:'
        '--session[Continue this session\: the prompt is appended to its history (see `gpt2ctl session`).]:id:'
        '--logprobs[Also print each token'\''s log-probability.]'
        '--min-new-tokens[Forbid <|endoftext|> before this many new tokens.]:min-new-tokens:'
        '--no-repeat-ngram-size[Never repeat an n-gram of this size (0 = off).]:no-repeat-ngram-size:'
        '*--bad-words[A token sequence that may not be generated, e.g. 11,314 (repeatable).]:ids:'
        '--suppress-tokens[Token ids never generated, e.g. 13,30.]:ids:'
        '*--logit-bias[Add BIAS (-100 ... 100) to token ID'\''s logit (repeatable).]:id=bias:'
        '--min-p[Min-p sampling threshold in \[0, 1\] (0 = off).]:min-p:'
        '--typical-p[Typical-p sampling mass in (0, 1\] (1 = off).]:typical-p:'
        '--presence-penalty[OpenAI-style presence penalty in \[-2, 2\].]:presence-penalty:'
        '--frequency-penalty[OpenAI-style frequency penalty in \[-2, 2\].]:frequency-penalty:'
        '(-n --num-return-sequences)'{-n,--num-return-sequences}'[Return this many sequences (1 ... 16; needs --do-sample or --num-beams).]:num-return-sequences:'
        '--num-beams[Beam search with this many beams (> 1; not streamed).]:num-beams:'
        '--length-penalty[Beam search length penalty (default 1.0).]:length-penalty:'
        '--early-stopping[Beam search stopping rule\: true, false or never.]:rule:'
        '--top-logprobs[Also return the N most likely alternatives per step (0 ... 20).]:top-logprobs:'
        '--logprobs-mode[Log-probabilities before (raw) or after (processed) the logits processors.]:mode:'
        '--include-stop-str-in-output[Keep a matched stop string in the text.]'
        '--ignore-eos[Keep generating after <|endoftext|>.]'
        '--no-stream[Wait for the whole result instead of streaming tokens.]'
        '(-v --verbose)'{-v,--verbose}'[Print the finish reason, token counts and timings to standard error.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_score() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        ':text:'
        '--tokens[Token ids instead of text, e.g. 1,2,3.]:ids:'
        '--session[Score the text as a continuation of this session'\''s history.]:id:'
        '--top-logprobs[Also show the N most likely tokens per position, 0 ... 20.]:top-logprobs:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_tokenize() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model whose tokenizer to use (default\: the daemon'\''s only model).]:model:'
        ':text:'
        '--ids[Print only the ids, comma-separated.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_detokenize() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model whose tokenizer to use (default\: the daemon'\''s only model).]:model:'
        '*:ids:'
        '--skip-special-tokens[Leave out <|endoftext|>.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_classify() {
    local -i ret=1
    local -ar ___function_to_apply=('softmax' 'sigmoid' 'none')
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        '*:text:'
        '--top-k[Show the k best labels; 0 shows every label (default\: the best only).]:top-k:'
        '--function-to-apply[softmax, sigmoid or none (raw logits); default\: the model'\''s.]:function:{__gpt2ctl_complete "${___function_to_apply[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_tag() {
    local -i ret=1
    local -ar ___aggregation_strategy=('none' 'simple' 'first' 'average' 'max')
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        ':text:'
        '--aggregation-strategy[none, simple, first, average or max (default\: none).]:strategy:{__gpt2ctl_complete "${___aggregation_strategy[@]}"}'
        '*--ignore-label[Drop entities with this label (repeatable; default\: O).]:label:'
        '--keep-all[Drop no label (ignore_labels \[\]).]'
        '--max-length[Tokens per window (default\: the model'\''s n_positions).]:max-length:'
        '--stride[Overlap in tokens between windows of a long text (needs --aggregation-strategy other than none).]:stride:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_qa() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        '--question[The question.]:question:'
        ':context:'
        '--top-k[Answers to show, ≥ 1 (default 1).]:top-k:'
        '--doc-stride[Overlap in tokens between context chunks (default\: min(max-seq-len/2, 128)).]:doc-stride:'
        '--max-answer-len[Longest answer in tokens, ≥ 1 (default 15).]:max-answer-len:'
        '--max-seq-len[Tokens per chunk, question included (default\: min(384, n_positions)).]:max-seq-len:'
        '--max-question-len[Accepted and ignored, like the pipeline'\''s (default 64).]:max-question-len:'
        '--handle-impossible-answer[Also offer the empty answer.]'
        '--no-align-to-words[Do not widen answers to whole words.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_choose() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        ':prompt:'
        '*--choice[A choice (repeatable, 2 … 64).]:text:'
        '--mc-token-index[Per choice, the token index (into prompt + choice) to score, e.g. 2,3,1 (default\: each last token).]:indices:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_embed() {
    local -i ret=1
    local -ar ___pooling=('last' 'mean')
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model to use (default\: the daemon'\''s only model).]:model:'
        '*:text:'
        '--pooling[last or mean (default\: last).]:pooling:{__gpt2ctl_complete "${___pooling[@]}"}'
        '--normalize[L2-normalize each embedding.]'
        '--show[How many leading values to print per text (default 8).]:show:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_models() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'list:List the models the daemon serves.'
            'load:Serve one more model without a restart.'
            'unload:Stop serving a model without a restart.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        list|load|unload)
            "_gpt2ctl_models_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_gpt2ctl_models_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_models_load() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        ':name:'
        ':directory:_files -/'
        '--weight-type[Serve the weights as float32, bfloat16, float16, int8, nf4, q4 or checkpoint (default\: the daemon'\''s weight_type).]:type:'
        '--keep-alive[Unload it after this many seconds unused; the next request loads it again (default\: served until unloaded).]:seconds:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_models_unload() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        ':name:'
        '--drain-timeout[Seconds its running requests may still run, 0 to 3600 (default\: the daemon'\''s drain_timeout_s).]:seconds:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_health() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_stats() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_session() {
    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'open:Open a new session on a model and print its id.'
            'fork:Copy a session into a new one and print the new id.'
            'close:Close a session and free its KV cache.'
            'list:List your open sessions.'
            'info:Show one session.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        open|fork|close|list|info)
            "_gpt2ctl_session_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_gpt2ctl_session_open() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--model[The model (default\: the daemon'\''s only model).]:model:'
        '--name[Name it (1 to 128 bytes, unique among your sessions); an existing session of that name is returned.]:name:'
        '--idle-timeout[Close it after this many seconds unused (at most the daemon'\''s session_idle_timeout_s).]:seconds:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_session_fork() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        ':session:'
        '--name[Name the copy (unique among your sessions).]:name:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_session_close() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        ':session:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_session_list() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_session_info() {
    local -i ret=1
    local -ar arg_specs=(
        '--socket[The daemon'\''s Unix socket (default\: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).]:path:_files'
        '--timeout[Give up after this many seconds (default\: wait).]:seconds:'
        '--json[Print the daemon'\''s raw JSON response lines (also an error line) instead of human output.]'
        ':session:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_gpt2ctl_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _gpt2ctl ]]; then
    _gpt2ctl "${@}"
else
    compdef _gpt2ctl gpt2ctl
fi
