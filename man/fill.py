#!/usr/bin/env python3
"""fill.py - put mreg's own tables into a man page source

    fill.py MREG INPUT OUTPUT

Copies INPUT (scdoc) to OUTPUT with these lines replaced from the program
itself, so that the page and the program cannot disagree:
  @COMMANDS@     the commands and their summaries ('MREG __complete --spec')
  @EXIT_STATUS@  the exit codes ('MREG __complete --exit-codes', the table
                 'mreg --help' prints)
  @SEE_ALSO@     every command's page
"""
import json
import subprocess
import sys


def run(mreg, *args):
    return subprocess.run([mreg, "__complete", *args], check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def main():
    mreg, src, dst = sys.argv[1:4]
    with open(src, encoding="utf-8") as f:
        text = f.read()
    if "@COMMANDS@" in text or "@SEE_ALSO@" in text:
        cmds = sorted((c for c in json.loads(run(mreg, "--spec"))["commands"]
                       if not c["hidden"]), key=lambda c: c["name"])
        listing = "\n".join(
            "*%s*\n\t%s%s (see *mreg-%s*(1)).\n" % (
                c["name"], c["summary"][:1].upper(), c["summary"][1:],
                c["name"]) for c in cmds)
        see = ", ".join(["*mreg-%s*(1)" % c["name"] for c in cmds] +
                        ["*mreg-model*(5)", "*mreg-json*(7)", "*psql*(1)"])
        text = text.replace("@COMMANDS@\n", listing)
        text = text.replace("@SEE_ALSO@\n", see + "\n")
    if "@EXIT_STATUS@\n" in text:
        text = text.replace("@EXIT_STATUS@\n", run(mreg, "--exit-codes"))
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
