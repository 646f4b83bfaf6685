#!/usr/bin/env python3
"""fill.py - put mreg's own tables into a man page source

    fill.py MREG INPUT OUTPUT

Copies INPUT (scdoc) to OUTPUT with the line '@EXIT_STATUS@' replaced by
'MREG __complete --exit-codes': the EXIT STATUS section comes from the
program's one table of exit codes, as 'mreg --help' does.
"""
import subprocess
import sys


def main():
    mreg, src, dst = sys.argv[1:4]
    codes = subprocess.run([mreg, "__complete", "--exit-codes"], check=True,
                           stdout=subprocess.PIPE, text=True).stdout
    with open(src, encoding="utf-8") as f:
        text = f.read()
    if "@EXIT_STATUS@\n" in text:
        text = text.replace("@EXIT_STATUS@\n", codes)
    with open(dst, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
