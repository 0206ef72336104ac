"""Rebuild the word lists that fieldkit's unregistered-name detector ships.

Run by a maintainer, never at install or run time (fieldkit never downloads anything):

    pip download --no-deps names==0.3.0 faker          # the two sources on PyPI
    apt-get download wbritish                          # SCOWL British English word list
    python bench/data/make_name_lists.py NAMES_SDIST_DIR FAKER_WHEEL_DIR WBRITISH_WORDS_FILE

Sources (see fieldkit/privacy/data/README.md for the licences):

* first names: the 1990 US Census first-name lists (public domain, as shipped in the
  ``names`` package), the ONS first names in Faker's ``en_GB`` provider and the NISRA first
  names in Faker's ``en_IE`` provider (Open Government Licence data, Faker is MIT);
* surnames: the 1990 US Census surname list, entries with a frequency of at least 0.001 %;
* English words: SCOWL (wbritish), lower-case entries as everyday words and capitalised
  entries as proper nouns (places, days, nationalities, brands and also names).
"""

from __future__ import annotations

import ast
import gzip
import re
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "fieldkit" / "privacy" / "data"


def faker_names(wheel_dir: Path, locale: str) -> set:
    source = (wheel_dir / "faker" / "providers" / "person" / locale / "__init__.py").read_text()
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            if node.targets[0].id in ("first_names_male", "first_names_female"):
                found.update(n.casefold() for n in ast.literal_eval(node.value))
    return found


def census(path: Path, min_freq: float = 0.0) -> list:
    out = []
    for line in path.read_text().splitlines():
        name, freq = line.split()[:2]
        if float(freq) >= min_freq:
            out.append(name.casefold())
    return out


def write(name: str, header: str, words, gz: bool = False) -> None:
    body = header.rstrip() + "\n" + "\n".join(sorted(set(words))) + "\n"
    path = OUT / name
    if gz:
        with gzip.GzipFile(path, "wb", mtime=0) as fh:  # mtime 0: the same bytes on every rebuild
            fh.write(body.encode("utf-8"))
    else:
        path.write_text(body, encoding="utf-8")
    print(f"{path.name}: {len(set(words))} entries")


def main(names_dir: str, faker_dir: str, words_file: str) -> None:
    names_dir, faker_dir = Path(names_dir), Path(faker_dir)
    simple = re.compile(r"[a-z][a-z'\-]+\Z")
    first = set(census(names_dir / "names" / "dist.male.first"))
    first |= set(census(names_dir / "names" / "dist.female.first"))
    first |= faker_names(faker_dir, "en_GB") | faker_names(faker_dir, "en_IE")
    first = {n for n in first if simple.match(n)}
    write("first_names.txt",
          "# First names, lower case, one a line (fieldkit's unregistered-name detector).\n"
          "# Built by bench/data/make_name_lists.py from the 1990 US Census first-name lists (public domain),\n"
          "# ONS first names (Faker en_GB) and NISRA first names (Faker en_IE); see README.md.", first)
    surnames = {n for n in census(names_dir / "names" / "dist.all.last", 0.001) if simple.match(n)}
    write("surnames.txt",
          "# Surnames, lower case, one a line (fieldkit's unregistered-name detector).\n"
          "# Built by bench/data/make_name_lists.py from the 1990 US Census surname list (public domain),\n"
          "# entries with a frequency of at least 0.001 per cent; see README.md.", surnames)
    entries = [w.strip() for w in Path(words_file).read_text(encoding="utf-8").splitlines()]
    lower = [w for w in entries if re.fullmatch(r"[a-z]+", w)]
    proper = [w.casefold() for w in entries if re.fullmatch(r"[A-Z][a-z]+", w)]
    notice = ("# SCOWL word list (wbritish), Copyright 2000-2011 by Kevin Atkinson. Permission to use, copy,\n"
              "# modify, distribute and sell these word lists, the associated scripts, the output created from\n"
              "# the scripts, and its documentation for any purpose is hereby granted without fee, provided that\n"
              "# the above copyright notice appears in all copies and that both that copyright notice and this\n"
              "# permission notice appear in supporting documentation. Kevin Atkinson makes no representations\n"
              "# about the suitability of this array for any purpose. It is provided \"as is\" without express or\n"
              "# implied warranty. (See README.md for the full notice and the other contributors.)")
    write("english_words.txt.gz", notice + "\n# lower-case entries: everyday English words", lower, gz=True)
    write("proper_nouns.txt.gz", notice + "\n# capitalised entries, lower-cased: proper nouns", proper, gz=True)


if __name__ == "__main__":
    main(*sys.argv[1:4])
