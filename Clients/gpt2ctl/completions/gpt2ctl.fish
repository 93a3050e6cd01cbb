function __gpt2ctl_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gpt2ctl_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __gpt2ctl_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __gpt2ctl_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __gpt2ctl_parse_tokens -S
    set -l unparsed_tokens (__gpt2ctl_tokens -pc)
    switch $unparsed_tokens[1]
    case 'gpt2ctl'
        __gpt2ctl_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'generate'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'tokens=' 'max-new-tokens=' 'do-sample' 'temperature=' 'top-k=' 'top-p=' 'repetition-penalty=' 'seed=' 'stop=+' 'session=' 'logprobs' 'min-new-tokens=' 'no-repeat-ngram-size=' 'bad-words=+' 'suppress-tokens=' 'logit-bias=+' 'min-p=' 'typical-p=' 'presence-penalty=' 'frequency-penalty=' 'n/num-return-sequences=' 'num-beams=' 'length-penalty=' 'early-stopping=' 'top-logprobs=' 'logprobs-mode=' 'include-stop-str-in-output' 'ignore-eos' 'no-stream' 'v/verbose' 'version' 'h/help'
        case 'score'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'tokens=' 'session=' 'top-logprobs=' 'version' 'h/help'
        case 'tokenize'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'ids' 'version' 'h/help'
        case 'detokenize'
            __gpt2ctl_parse_subcommand -r 1 'socket=' 'timeout=' 'json' 'model=' 'skip-special-tokens' 'version' 'h/help'
        case 'classify'
            __gpt2ctl_parse_subcommand -r 1 'socket=' 'timeout=' 'json' 'model=' 'top-k=' 'function-to-apply=' 'version' 'h/help'
        case 'tag'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'aggregation-strategy=' 'ignore-label=+' 'keep-all' 'max-length=' 'stride=' 'version' 'h/help'
        case 'qa'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'question=' 'top-k=' 'doc-stride=' 'max-answer-len=' 'max-seq-len=' 'max-question-len=' 'handle-impossible-answer' 'no-align-to-words' 'version' 'h/help'
        case 'choose'
            __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'model=' 'choice=+' 'mc-token-index=' 'version' 'h/help'
        case 'embed'
            __gpt2ctl_parse_subcommand -r 1 'socket=' 'timeout=' 'json' 'model=' 'pooling=' 'normalize' 'show=' 'version' 'h/help'
        case 'models'
            __gpt2ctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'list'
                __gpt2ctl_parse_subcommand 0 'socket=' 'timeout=' 'json' 'version' 'h/help'
            case 'load'
                __gpt2ctl_parse_subcommand 2 'socket=' 'timeout=' 'json' 'weight-type=' 'keep-alive=' 'version' 'h/help'
            case 'unload'
                __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'drain-timeout=' 'version' 'h/help'
            end
        case 'health'
            __gpt2ctl_parse_subcommand 0 'socket=' 'timeout=' 'json' 'version' 'h/help'
        case 'stats'
            __gpt2ctl_parse_subcommand 0 'socket=' 'timeout=' 'json' 'version' 'h/help'
        case 'session'
            __gpt2ctl_parse_subcommand 0 'version' 'h/help'
            switch $unparsed_tokens[1]
            case 'open'
                __gpt2ctl_parse_subcommand 0 'socket=' 'timeout=' 'json' 'model=' 'name=' 'idle-timeout=' 'version' 'h/help'
            case 'fork'
                __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'name=' 'version' 'h/help'
            case 'close'
                __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'version' 'h/help'
            case 'list'
                __gpt2ctl_parse_subcommand 0 'socket=' 'timeout=' 'json' 'version' 'h/help'
            case 'info'
                __gpt2ctl_parse_subcommand 1 'socket=' 'timeout=' 'json' 'version' 'h/help'
            end
        case 'help'
            __gpt2ctl_parse_subcommand -r 1 'version'
        end
    end
end

function __gpt2ctl_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __gpt2ctl_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __gpt2ctl_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __gpt2ctl_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__gpt2ctl_tokens -p)
    if test -z "$(__gpt2ctl_tokens -t)"
        set -l index (count (__gpt2ctl_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'gpt2ctl' -f
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'generate' -d 'Continue a prompt with a model, printing the text as it is generated.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'score' -d 'Score a text: each token\'s log-probability under the model, and the perplexity.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'tokenize' -d 'Split a text into the model\'s token ids.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'detokenize' -d 'Turn token ids back into text.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'classify' -d 'Classify texts with a sequence-classification model (text-classification pipeline).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'tag' -d 'Tag the tokens of a text (named entities; token-classification pipeline).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'qa' -d 'Answer a question from a context (extractive question-answering pipeline).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'choose' -d 'Score multiple choices with a double-heads model\'s multiple-choice head.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'embed' -d 'Embed texts: pooled final hidden states (any model).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'models' -d 'List, load or unload the daemon\'s models.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'health' -d 'Check that the daemon is up.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'stats' -d 'Show the daemon\'s counters.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'session' -d 'Manage sessions (a KV cache kept between requests).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" tokens' -l 'tokens' -d 'Prompt token ids instead of text, e.g. 1,2,3.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" max-new-tokens' -l 'max-new-tokens' -d 'Most tokens to generate (daemon default 20).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" do-sample' -l 'do-sample' -d 'Sample instead of greedy decoding.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" temperature' -l 'temperature' -d 'Sampling temperature, > 0 (default 1.0).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" top-k' -l 'top-k' -d 'Keep the k most likely tokens when sampling; 0 disables (default 50).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" top-p' -l 'top-p' -d 'Nucleus sampling mass in (0, 1] (default 1.0).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" repetition-penalty' -l 'repetition-penalty' -d '> 0; 1.0 disables (default 1.0).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" seed' -l 'seed' -d 'Random seed for sampling, 0 ... 2^63-1 (default: random).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate"' -l 'stop' -d 'Stop when this text is generated (repeatable, up to 16).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" session' -l 'session' -d 'Continue this session: the prompt is appended to its history (see `gpt2ctl session`).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" logprobs' -l 'logprobs' -d 'Also print each token\'s log-probability.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" min-new-tokens' -l 'min-new-tokens' -d 'Forbid <|endoftext|> before this many new tokens.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" no-repeat-ngram-size' -l 'no-repeat-ngram-size' -d 'Never repeat an n-gram of this size (0 = off).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate"' -l 'bad-words' -d 'A token sequence that may not be generated, e.g. 11,314 (repeatable).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" suppress-tokens' -l 'suppress-tokens' -d 'Token ids never generated, e.g. 13,30.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate"' -l 'logit-bias' -d 'Add BIAS (-100 ... 100) to token ID\'s logit (repeatable).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" min-p' -l 'min-p' -d 'Min-p sampling threshold in [0, 1] (0 = off).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" typical-p' -l 'typical-p' -d 'Typical-p sampling mass in (0, 1] (1 = off).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" presence-penalty' -l 'presence-penalty' -d 'OpenAI-style presence penalty in [-2, 2].' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" frequency-penalty' -l 'frequency-penalty' -d 'OpenAI-style frequency penalty in [-2, 2].' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" n num-return-sequences' -s 'n' -l 'num-return-sequences' -d 'Return this many sequences (1 ... 16; needs --do-sample or --num-beams).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" num-beams' -l 'num-beams' -d 'Beam search with this many beams (> 1; not streamed).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" length-penalty' -l 'length-penalty' -d 'Beam search length penalty (default 1.0).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" early-stopping' -l 'early-stopping' -d 'Beam search stopping rule: true, false or never.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" top-logprobs' -l 'top-logprobs' -d 'Also return the N most likely alternatives per step (0 ... 20).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" logprobs-mode' -l 'logprobs-mode' -d 'Log-probabilities before (raw) or after (processed) the logits processors.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" include-stop-str-in-output' -l 'include-stop-str-in-output' -d 'Keep a matched stop string in the text.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" ignore-eos' -l 'ignore-eos' -d 'Keep generating after <|endoftext|>.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" no-stream' -l 'no-stream' -d 'Wait for the whole result instead of streaming tokens.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" v verbose' -s 'v' -l 'verbose' -d 'Print the finish reason, token counts and timings to standard error.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl generate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" tokens' -l 'tokens' -d 'Token ids instead of text, e.g. 1,2,3.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" session' -l 'session' -d 'Score the text as a continuation of this session\'s history.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" top-logprobs' -l 'top-logprobs' -d 'Also show the N most likely tokens per position, 0 ... 20.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl score" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" model' -l 'model' -d 'The model whose tokenizer to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" ids' -l 'ids' -d 'Print only the ids, comma-separated.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tokenize" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" model' -l 'model' -d 'The model whose tokenizer to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" skip-special-tokens' -l 'skip-special-tokens' -d 'Leave out <|endoftext|>.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl detokenize" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" top-k' -l 'top-k' -d 'Show the k best labels; 0 shows every label (default: the best only).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" function-to-apply' -l 'function-to-apply' -d 'softmax, sigmoid or none (raw logits); default: the model\'s.' -rfka 'softmax sigmoid none'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl classify" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" aggregation-strategy' -l 'aggregation-strategy' -d 'none, simple, first, average or max (default: none).' -rfka 'none simple first average max'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag"' -l 'ignore-label' -d 'Drop entities with this label (repeatable; default: O).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" keep-all' -l 'keep-all' -d 'Drop no label (ignore_labels []).'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" max-length' -l 'max-length' -d 'Tokens per window (default: the model\'s n_positions).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" stride' -l 'stride' -d 'Overlap in tokens between windows of a long text (needs --aggregation-strategy other than none).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl tag" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" question' -l 'question' -d 'The question.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" top-k' -l 'top-k' -d 'Answers to show, ≥ 1 (default 1).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" doc-stride' -l 'doc-stride' -d 'Overlap in tokens between context chunks (default: min(max-seq-len/2, 128)).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" max-answer-len' -l 'max-answer-len' -d 'Longest answer in tokens, ≥ 1 (default 15).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" max-seq-len' -l 'max-seq-len' -d 'Tokens per chunk, question included (default: min(384, n_positions)).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" max-question-len' -l 'max-question-len' -d 'Accepted and ignored, like the pipeline\'s (default 64).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" handle-impossible-answer' -l 'handle-impossible-answer' -d 'Also offer the empty answer.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" no-align-to-words' -l 'no-align-to-words' -d 'Do not widen answers to whole words.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl qa" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose"' -l 'choice' -d 'A choice (repeatable, 2 … 64).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" mc-token-index' -l 'mc-token-index' -d 'Per choice, the token index (into prompt + choice) to score, e.g. 2,3,1 (default: each last token).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl choose" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" model' -l 'model' -d 'The model to use (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" pooling' -l 'pooling' -d 'last or mean (default: last).' -rfka 'last mean'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" normalize' -l 'normalize' -d 'L2-normalize each embedding.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" show' -l 'show' -d 'How many leading values to print per text (default 8).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl embed" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl models" -eq 1' -fa 'list' -d 'List the models the daemon serves.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl models" -eq 1' -fa 'load' -d 'Serve one more model without a restart.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl models" -eq 1' -fa 'unload' -d 'Stop serving a model without a restart.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models list" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models list" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models list" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models list" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl models load" -eq 1' -fa '(__gpt2ctl_complete_directories)'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" weight-type' -l 'weight-type' -d 'Serve the weights as float32, bfloat16, float16, int8, nf4, q4 or checkpoint (default: the daemon\'s weight_type).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" keep-alive' -l 'keep-alive' -d 'Unload it after this many seconds unused; the next request loads it again (default: served until unloaded).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models load" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" drain-timeout' -l 'drain-timeout' -d 'Seconds its running requests may still run, 0 to 3600 (default: the daemon\'s drain_timeout_s).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl models unload" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl health" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl health" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl health" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl health" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl health" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl stats" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl stats" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl stats" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl stats" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl stats" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl session" -eq 1' -fa 'open' -d 'Open a new session on a model and print its id.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl session" -eq 1' -fa 'fork' -d 'Copy a session into a new one and print the new id.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl session" -eq 1' -fa 'close' -d 'Close a session and free its KV cache.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl session" -eq 1' -fa 'list' -d 'List your open sessions.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_positional "gpt2ctl session" -eq 1' -fa 'info' -d 'Show one session.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" model' -l 'model' -d 'The model (default: the daemon\'s only model).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" name' -l 'name' -d 'Name it (1 to 128 bytes, unique among your sessions); an existing session of that name is returned.' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" idle-timeout' -l 'idle-timeout' -d 'Close it after this many seconds unused (at most the daemon\'s session_idle_timeout_s).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session open" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" name' -l 'name' -d 'Name the copy (unique among your sessions).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session fork" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session close" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session close" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session close" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session close" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session close" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session list" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session list" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session list" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session list" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session list" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session info" socket' -l 'socket' -d 'The daemon\'s Unix socket (default: $GPT2D_SOCKET, else /run/gpt2d/gpt2d.sock).' -rF
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session info" timeout' -l 'timeout' -d 'Give up after this many seconds (default: wait).' -rfka ''
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session info" json' -l 'json' -d 'Print the daemon\'s raw JSON response lines (also an error line) instead of human output.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session info" version' -l 'version' -d 'Show the version.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl session info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'gpt2ctl' -n '__gpt2ctl_should_offer_completions_for_flags_or_options "gpt2ctl help" version' -l 'version' -d 'Show the version.'
