/**
 * `completion bash|zsh`: prints a shell script that completes cairnctl's commands and flags by
 * asking cairnctl itself (`cairnctl --get-yargs-completions …`, answered by yargs).
 *
 * Must never: print anything but the script on stdout.
 */
import { positionals, usage, type Args, type Register } from '../command.js';
import { badArgs } from '../exit.js';

const bash = `# bash completion for cairnctl                              -*- shell-script -*-
# Load with: source <(cairnctl completion bash)
_cairnctl_completions()
{
    local cur_word args type_list
    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    args=("\${COMP_WORDS[@]}")
    mapfile -t type_list < <(cairnctl --get-yargs-completions "\${args[@]}" 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$( printf '%q ' "\${type_list[@]}" )" -- "\${cur_word}")
    return 0
}
complete -o bashdefault -o default -F _cairnctl_completions cairnctl
`;

const zsh = `#compdef cairnctl
# zsh completion for cairnctl
# Load with: source <(cairnctl completion zsh)
_cairnctl_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(COMP_CWORD="$((CURRENT-1))" COMP_LINE="$BUFFER" COMP_POINT="$CURSOR" cairnctl --get-yargs-completions "\${words[@]}" 2>/dev/null))
  IFS=$si
  _describe 'values' reply
}
compdef _cairnctl_completions cairnctl
`;

export const registerCompletion: Register = (y, select) => y.command('completion', 'Generates completion scripts',
  usage('completion [bash|zsh]').bind(null),
  (a) => select(a as Args, async (ctx) => {
    const args = positionals(a as Args, 1);
    const shell = args[0] ?? 'bash';
    if (args.length > 1 || (shell !== 'bash' && shell !== 'zsh')) throw badArgs('Only one argument is allowed: bash or zsh');
    ctx.io.out(shell === 'bash' ? bash : zsh);
  }));
