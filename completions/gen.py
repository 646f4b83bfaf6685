#!/usr/bin/env python3
"""gen.py - write mreg's bash, zsh and fish completions from its command table

    gen.py MREG TEMPLATE OUTPUT [TEMPLATE OUTPUT]...

Runs 'MREG __complete --spec' (the command table as JSON: commands, their
options and what their values are, their operands) and writes each
TEMPLATE (mreg.bash.in, _mreg.in, mreg.fish.in) to its OUTPUT, with the
line '@SPEC@' replaced by the tables for that shell.  The
templates hold only the part that asks the registry for values and walks
the command line.  Each command's lines sit between '# >>> NAME' and
'# <<< NAME' markers, the global options' between '# >>> global' and
'# <<< global'.
"""
import json
import os
import subprocess
import sys

# kinds whose values come from the registry ('mreg __complete KIND PREFIX')
DYNAMIC = {"type": "types", "provider": "providers", "model": "models",
           "tag": "tags"}
QUIET = ("text", "none", "number", "duration")


def load_spec(mreg):
    out = subprocess.run([mreg, "__complete", "--spec"], check=True,
                         stdout=subprocess.PIPE).stdout
    spec = json.loads(out)
    cmds = [c for c in spec["commands"] if not c["hidden"]]
    names = sorted(c["name"] for c in cmds)
    cmds.append({"name": "help", "summary": "show help for a command",
                 "hidden": False, "min_args": 0, "max_args": 1,
                 "operands": [{"kind": "list", "values": names}],
                 "options": []})
    for c in cmds:  # an option once, even where tables overlap
        seen, opts = set(), []
        for o in c["options"]:
            if o["long"] not in seen:
                seen.add(o["long"])
                opts.append(o)
        c["options"] = opts
    cmds.sort(key=lambda c: c["name"])
    return spec["global"], cmds


def kind_word(k):
    """One word for a kind: list:a,b,c / type / file / ..."""
    if k["kind"] == "list":
        return "list:" + ",".join(k["values"])
    return k["kind"]


def sq(s):
    """Single-quoted for bash and zsh."""
    return "'" + s.replace("'", "'\\''") + "'"


def fq(s):
    """Single-quoted for fish."""
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


def flags(opts):
    r = []
    for o in opts:
        r.append("--" + o["long"])
        if o["short"]:
            r.append("-" + o["short"])
    return r


# ---- bash -------------------------------------------------------------------

def bash(glob, cmds):
    out = ["# >>> global",
           "_mreg_global_opts=" + sq(" ".join(flags(glob))),
           "declare -gA _mreg_opts=() _mreg_kinds=() _mreg_operands=()"]
    for o in glob:
        if o["arg"]:
            for f in flags([o]):
                out.append("_mreg_kinds[%s]=%s" % (sq(" " + f),
                                                   sq(kind_word(o))))
    out += ["# <<< global",
            "_mreg_commands=" + sq(" ".join(c["name"] for c in cmds))]
    for c in cmds:
        n = c["name"]
        out.append("# >>> " + n)
        out.append("_mreg_opts[%s]=%s" % (n, sq(" ".join(flags(c["options"])))))
        for o in c["options"]:
            if o["arg"]:
                for f in flags([o]):
                    out.append("_mreg_kinds[%s]=%s" % (sq(n + " " + f),
                                                       sq(kind_word(o))))
        words = [kind_word(k) for k in c["operands"]]
        if c["max_args"] < 0:
            words.append("...")
        out.append("_mreg_operands[%s]=%s" % (n, sq(" ".join(words))))
        out.append("# <<< " + n)
    return "\n".join(out)


# ---- zsh --------------------------------------------------------------------

def zsh_action(k):
    kind = k["kind"]
    if kind == "list":
        return "(" + " ".join(k["values"]) + ")"
    if kind in DYNAMIC:
        return "_mreg_values " + DYNAMIC[kind]
    if kind == "file":
        return "_files"
    if kind == "directory":
        return "_files -/"
    return " "


def zsh_text(s):
    return s.replace("[", "(").replace("]", ")").replace(":", " -")


def zsh_opt(o):
    desc = "[" + zsh_text(o["help"]) + "]"
    if o["arg"]:
        val = ":" + o["arg"].lower().replace(":", "") + ":" + zsh_action(o)
        if o["short"]:
            excl = "(-%s --%s)" % (o["short"], o["long"])
            return sq(excl) + "{-%s+,--%s=}%s" % (o["short"], o["long"],
                                                   sq(desc + val))
        return sq("--%s=%s%s" % (o["long"], desc, val))
    if o["long"] in ("help", "version"):
        excl = "(- *)"
    elif o["long"] == "verbose":
        excl = "*"
    elif o["short"]:
        excl = "(-%s --%s)" % (o["short"], o["long"])
    else:
        excl = ""
    if o["short"]:
        return sq(excl) + "{-%s,--%s}%s" % (o["short"], o["long"], sq(desc))
    return sq(excl + "--" + o["long"] + desc)


def zsh(glob, cmds):
    out = ["# >>> global", "_mreg_global_opts=("]
    out += ["\t" + zsh_opt(o) for o in glob]
    out += [")", "# <<< global", "_mreg_commands=("]
    out += ["\t" + sq(c["name"] + ":" + c["summary"]) for c in cmds]
    out += [")", "", "# The _arguments specs of command $1, in reply.",
            "_mreg_command_args() {", "\tcase $1 in"]
    for c in cmds:
        n = c["name"]
        out.append("\t# >>> " + n)
        out.append("\t%s)" % n)
        out.append("\t\treply=(")
        out += ["\t\t\t" + zsh_opt(o) for o in c["options"]]
        for i, k in enumerate(c["operands"]):
            pos = str(i + 1)
            if c["max_args"] < 0 and i == len(c["operands"]) - 1:
                pos = "*"
            out.append("\t\t\t" + sq("%s:%s:%s" % (pos, k["kind"],
                                                    zsh_action(k))))
        out += ["\t\t)", "\t\t;;", "\t# <<< " + n]
    out += ["\t*) reply=() ;;", "\tesac", "}"]
    return "\n".join(out)


# ---- fish -------------------------------------------------------------------

def fish_action(k):
    kind = k["kind"]
    if kind == "list":
        return "-x -a " + fq(" ".join(k["values"]))
    if kind in DYNAMIC:
        return "-x -a " + fq("(__mreg_values %s)" % DYNAMIC[kind])
    if kind == "file":
        return "-r -F"
    if kind == "directory":
        return "-x -a " + fq("(__fish_complete_directories)")
    return "-x"


def fish_opt(o, cond):
    parts = ["complete -c mreg", "-n " + fq(cond)]
    if o["short"]:
        parts.append("-s " + o["short"])
    parts.append("-l " + o["long"])
    if o["arg"]:
        parts.append(fish_action(o))
    parts.append("-d " + fq(o["help"]))
    return " ".join(parts)


def fish(glob, cmds):
    names = " ".join(c["name"] for c in cmds)
    before = "not __fish_seen_subcommand_from " + names
    out = ["set -g __mreg_commands " + names, "# >>> global"]
    out += [fish_opt(o, before) for o in glob]
    out.append("# <<< global")
    for c in cmds:
        out.append("complete -c mreg -n %s -a %s -d %s" % (
            fq(before), c["name"], fq(c["summary"])))
    for c in cmds:
        n = c["name"]
        cond = "__fish_seen_subcommand_from " + n
        out.append("# >>> " + n)
        out += [fish_opt(o, cond) for o in c["options"]]
        if c["operands"] and c["operands"][0]["kind"] not in QUIET:
            out.append("complete -c mreg -n %s %s" % (
                fq(cond),
                fish_action(c["operands"][0])))
        out.append("# <<< " + n)
    return "\n".join(out)


def main():
    mreg, pairs = sys.argv[1], sys.argv[2:]
    glob, cmds = load_spec(mreg)
    gens = {"mreg.bash.in": bash, "_mreg.in": zsh, "mreg.fish.in": fish}
    for t, path in zip(pairs[0::2], pairs[1::2]):
        base = os.path.basename(t)
        with open(t, encoding="utf-8") as f:
            text = f.read()
        assert "@SPEC@\n" in text, t
        text = text.replace("@SPEC@\n", gens[base](glob, cmds) + "\n")
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)


if __name__ == "__main__":
    main()
