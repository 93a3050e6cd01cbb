#!/bin/bash

__gpt2ctl_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__gpt2ctl_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__gpt2ctl_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__gpt2ctl_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_gpt2ctl() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __gpt2ctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    generate|score|tokenize|detokenize|classify|tag|qa|choose|embed|models|health|stats|session|help)
        # Offer subcommand argument completions
        "_gpt2ctl_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'generate score tokenize detokenize classify tag qa choose embed models health stats session help' -- "${cur}"))
        ;;
    esac
}

_gpt2ctl_generate() {
    repeating_flags=()
    non_repeating_flags=(--json --do-sample --logprobs --include-stop-str-in-output --ignore-eos --no-stream -v --verbose --version -h --help)
    repeating_options=(--stop --bad-words --logit-bias)
    non_repeating_options=(--socket --timeout --model --tokens --max-new-tokens --temperature --top-k --top-p --repetition-penalty --seed --session --min-new-tokens --no-repeat-ngram-size --suppress-tokens --min-p --typical-p --presence-penalty --frequency-penalty -n --num-return-sequences --num-beams --length-penalty --early-stopping --top-logprobs --logprobs-mode)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--tokens')
        return
        ;;
    '--max-new-tokens')
        return
        ;;
    '--temperature')
        return
        ;;
    '--top-k')
        return
        ;;
    '--top-p')
        return
        ;;
    '--repetition-penalty')
        return
        ;;
    '--seed')
        return
        ;;
    '--stop')
        return
        ;;
    '--session')
        return
        ;;
    '--min-new-tokens')
        return
        ;;
    '--no-repeat-ngram-size')
        return
        ;;
    '--bad-words')
        return
        ;;
    '--suppress-tokens')
        return
        ;;
    '--logit-bias')
        return
        ;;
    '--min-p')
        return
        ;;
    '--typical-p')
        return
        ;;
    '--presence-penalty')
        return
        ;;
    '--frequency-penalty')
        return
        ;;
    '-n'|'--num-return-sequences')
        return
        ;;
    '--num-beams')
        return
        ;;
    '--length-penalty')
        return
        ;;
    '--early-stopping')
        return
        ;;
    '--top-logprobs')
        return
        ;;
    '--logprobs-mode')
        return
        ;;
    esac
}

_gpt2ctl_score() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model --tokens --session --top-logprobs)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--tokens')
        return
        ;;
    '--session')
        return
        ;;
    '--top-logprobs')
        return
        ;;
    esac
}

_gpt2ctl_tokenize() {
    repeating_flags=()
    non_repeating_flags=(--json --ids --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    esac
}

_gpt2ctl_detokenize() {
    repeating_flags=()
    non_repeating_flags=(--json --skip-special-tokens --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model)
    __gpt2ctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    esac
}

_gpt2ctl_classify() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model --top-k --function-to-apply)
    __gpt2ctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--top-k')
        return
        ;;
    '--function-to-apply')
        __gpt2ctl_add_completions -W 'softmax'$'\n''sigmoid'$'\n''none'
        return
        ;;
    esac
}

_gpt2ctl_tag() {
    repeating_flags=()
    non_repeating_flags=(--json --keep-all --version -h --help)
    repeating_options=(--ignore-label)
    non_repeating_options=(--socket --timeout --model --aggregation-strategy --max-length --stride)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--aggregation-strategy')
        __gpt2ctl_add_completions -W 'none'$'\n''simple'$'\n''first'$'\n''average'$'\n''max'
        return
        ;;
    '--ignore-label')
        return
        ;;
    '--max-length')
        return
        ;;
    '--stride')
        return
        ;;
    esac
}

_gpt2ctl_qa() {
    repeating_flags=()
    non_repeating_flags=(--json --handle-impossible-answer --no-align-to-words --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model --question --top-k --doc-stride --max-answer-len --max-seq-len --max-question-len)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--question')
        return
        ;;
    '--top-k')
        return
        ;;
    '--doc-stride')
        return
        ;;
    '--max-answer-len')
        return
        ;;
    '--max-seq-len')
        return
        ;;
    '--max-question-len')
        return
        ;;
    esac
}

_gpt2ctl_choose() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=(--choice)
    non_repeating_options=(--socket --timeout --model --mc-token-index)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--choice')
        return
        ;;
    '--mc-token-index')
        return
        ;;
    esac
}

_gpt2ctl_embed() {
    repeating_flags=()
    non_repeating_flags=(--json --normalize --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model --pooling --show)
    __gpt2ctl_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--pooling')
        __gpt2ctl_add_completions -W 'last'$'\n''mean'
        return
        ;;
    '--show')
        return
        ;;
    esac
}

_gpt2ctl_models() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __gpt2ctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    list|load|unload)
        # Offer subcommand argument completions
        "_gpt2ctl_models_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'list load unload' -- "${cur}"))
        ;;
    esac
}

_gpt2ctl_models_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_models_load() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --weight-type --keep-alive)
    __gpt2ctl_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--weight-type')
        return
        ;;
    '--keep-alive')
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    2)
        __gpt2ctl_add_completions -d
        return
        ;;
    esac
}

_gpt2ctl_models_unload() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --drain-timeout)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--drain-timeout')
        return
        ;;
    esac
}

_gpt2ctl_health() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_stats() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_session() {
    repeating_flags=()
    non_repeating_flags=(--version -h --help)
    repeating_options=()
    non_repeating_options=()
    __gpt2ctl_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    open|fork|close|list|info)
        # Offer subcommand argument completions
        "_gpt2ctl_session_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'open fork close list info' -- "${cur}"))
        ;;
    esac
}

_gpt2ctl_session_open() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --model --name --idle-timeout)
    __gpt2ctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--model')
        return
        ;;
    '--name')
        return
        ;;
    '--idle-timeout')
        return
        ;;
    esac
}

_gpt2ctl_session_fork() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout --name)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    '--name')
        return
        ;;
    esac
}

_gpt2ctl_session_close() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_session_list() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_session_info() {
    repeating_flags=()
    non_repeating_flags=(--json --version -h --help)
    repeating_options=()
    non_repeating_options=(--socket --timeout)
    __gpt2ctl_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--socket')
        __gpt2ctl_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_gpt2ctl_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __gpt2ctl_offer_flags_options -1
}

complete -o filenames -F _gpt2ctl gpt2ctl
