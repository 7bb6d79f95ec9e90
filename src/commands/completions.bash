# bash completion for sealctl: `source <(sealctl completions bash)`.
# clap's dynamic script, but quoting as bash needs: bash hands over each word as typed, quotes and
# backslashes included (`my\ p`, `--config 'a b.toml'`), so the words are unquoted before sealctl
# sees them, and each candidate is quoted back (`my\ prod`) before bash puts it on the line.

# A word as the shell will pass it: quotes and backslashes undone, nothing expanded.
_sealctl_unquote() {
    local word=$1 out='' quote='' c i
    for (( i = 0; i < ${#word}; i++ )); do
        c=${word:i:1}
        if [[ $quote == "'" ]]; then
            if [[ $c == "'" ]]; then quote=''; else out+=$c; fi
        elif [[ $quote == '"' ]]; then
            if [[ $c == '"' ]]; then
                quote=''
            elif [[ $c == '\' && ${word:i+1:1} == [\"\\\$\`] ]]; then
                out+=${word:i+1:1}; (( i++ ))
            else
                out+=$c
            fi
        elif [[ $c == "'" || $c == '"' ]]; then
            quote=$c
        elif [[ $c == '\' ]]; then
            out+=${word:i+1:1}; (( i++ ))
        else
            out+=$c
        fi
    done
    printf '%s' "$out"
}

_clap_complete_sealctl() {
    local IFS=$'\013'
    local _CLAP_COMPLETE_INDEX=${COMP_CWORD}
    local _CLAP_COMPLETE_COMP_TYPE=${COMP_TYPE}
    if compopt +o nospace 2> /dev/null; then
        local _CLAP_COMPLETE_SPACE=false
    else
        local _CLAP_COMPLETE_SPACE=true
    fi
    local words=() word
    for word in "${COMP_WORDS[@]}"; do
        words+=("$(_sealctl_unquote "$word")")
    done
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        words[COMP_CWORD]="$(_sealctl_unquote "$2")"
    fi
    COMPREPLY=( $( \
        _CLAP_IFS="$IFS" \
        _CLAP_COMPLETE_INDEX="$_CLAP_COMPLETE_INDEX" \
        _CLAP_COMPLETE_COMP_TYPE="$_CLAP_COMPLETE_COMP_TYPE" \
        _CLAP_COMPLETE_SPACE="$_CLAP_COMPLETE_SPACE" \
        @VAR@="bash" \
        @PROGRAM@ -- "${words[@]}" \
    ) )
    if [[ $? != 0 ]]; then
        unset COMPREPLY
        return
    fi
    local i
    for i in "${!COMPREPLY[@]}"; do
        printf -v 'COMPREPLY[i]' '%q' "${COMPREPLY[i]}"
    done
    if [[ $_CLAP_COMPLETE_SPACE == false ]] && [[ "${COMPREPLY-}" =~ [=/:]$ ]]; then
        compopt -o nospace
    fi
}
if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -o nospace -o bashdefault -o nosort -F _clap_complete_sealctl sealctl
else
    complete -o nospace -o bashdefault -F _clap_complete_sealctl sealctl
fi
