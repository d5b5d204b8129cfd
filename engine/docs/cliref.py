"""The CLI page: every verb and option, from the argparse parser it is given. No I/O."""

from __future__ import annotations

import argparse

from .markdown import GENERATED, code, esc, fence, table


OPTION_HELP = {
    "policies": "policy folder (default: the bundled policies)",
}
"""What an option means when the parser gives it no help text."""


def cli_page(parser: argparse.ArgumentParser) -> str:
    """Every verb and option of the `exportctl` parser, as markdown. No I/O."""
    out = [GENERATED]
    out.append(f"## {code(parser.prog)}\n")
    if parser.description:
        out.append(esc(parser.description) + "\n")
    out.append(fence(_usage(parser), "text"))
    out.append(_options_table(parser))
    for name, sub, help_text in _subcommands(parser):
        out.extend(_command(sub, help_text))
    return "\n".join(out)


def _subcommands(parser):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, sub, helps.get(name)


def _command(sub, help_text) -> list[str]:
    out = [f"## {code(sub.prog)} {{#{sub.prog.replace(' ', '-')}}}\n"]
    if help_text:
        out.append(esc(help_text[0].upper() + help_text[1:]) + ".\n")
    out.append(fence(_usage(sub), "text"))
    out.append(_options_table(sub))
    for name, s, h in _subcommands(sub):
        out.extend(_command(s, h))
    return out


def _usage(parser) -> str:
    fmt = argparse.HelpFormatter(prog=parser.prog, width=88)
    fmt.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return fmt.format_help().strip()


def _options_table(parser) -> str:
    rows = []
    for a in parser._actions:
        if isinstance(a, argparse._SubParsersAction) or a.help == argparse.SUPPRESS:
            continue
        if a.option_strings:
            names = ", ".join(code(o) for o in a.option_strings)
        else:
            names = code(a.metavar or a.dest)
        if a.nargs == 0:
            value = "flag"
        elif a.choices:
            value = " \\| ".join(code(c) for c in a.choices)
        else:
            value = code(a.metavar or a.dest.upper())
            if a.nargs in ("+", "*"):
                value += " (one or more)" if a.nargs == "+" else " (any number)"
            elif a.nargs == "?":
                value += " (optional)"
        fallback = OPTION_HELP.get(a.dest, "")
        if a.dest == "format" and a.choices:
            words = {"text": "text for people", "json": "json for tools (stable, sorted keys)",
                     "markdown": "markdown for a pull-request comment"}
            fallback = "output: " + "; ".join(words.get(c, str(c)) for c in a.choices)
        meaning = esc(a.help or fallback)
        if meaning:
            meaning = meaning[0].upper() + meaning[1:] + ("" if meaning.endswith(".") else ".")
        if isinstance(a, argparse._AppendAction):
            meaning += " May be given several times."
        if a.default not in (None, False, argparse.SUPPRESS, []) and a.nargs != 0:
            meaning += f" Default: {code(a.default)}."
        rows.append([names, value, meaning.strip()])
    if not rows:
        return ""
    return table(["Option", "Value", "Meaning"], rows)
