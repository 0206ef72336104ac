"""Built-in auto-coder ``keywords``: proposes codings where a code's keyword rules match.

Rules live on each code (``Code.keywords``, written in a codebook file or with
``fieldkit codebook add/edit --keyword``): whole words, phrases, regular expressions and
``near`` (proximity) rules, case-insensitive unless a rule says otherwise; see
``fieldkit.coding.keywords``. Each match becomes one proposal, noted with the rule that found it.
"""

from __future__ import annotations

import functools
import json
from typing import Callable, Iterator, Sequence, TYPE_CHECKING

from fieldkit.hooks.specs import hookimpl

if TYPE_CHECKING:
    from fieldkit.coding.autocode import Proposal
    from fieldkit.core.records import Code, Record
    from fieldkit.hooks.registry import Coder
    from fieldkit.project import Project

NAME = "keywords"


@functools.lru_cache(maxsize=4096)
def _rules(stored: str) -> tuple:
    from fieldkit.coding.codings import rule_from_dict

    return tuple(rule_from_dict(d) for d in json.loads(stored))


def propose(project: Project, record: Record, codes: Sequence[Code]) -> Iterator[Proposal]:
    """Yield a ``Proposal`` for every stretch of the record's text a code's rules match."""
    from fieldkit.coding.autocode import Proposal
    from fieldkit.coding.codings import record_text
    from fieldkit.coding.keywords import match_rules

    text = record_text(record)
    if not text:
        return
    for code in codes:
        if not code.keywords:
            continue
        rules = _rules(json.dumps(list(code.keywords), sort_keys=True))
        for start, end, rule in match_rules(text, rules):
            yield Proposal(code.id, start, end, note=f"{NAME}: {rule.describe()}")


@hookimpl
def register_coders(register: Callable[[Coder], None]) -> None:
    """Register the ``keywords`` auto-coder."""
    from fieldkit.hooks.registry import Coder

    register(Coder(name=NAME, propose=propose,
                   description="codes text where a code's keyword, phrase, regex or proximity rules match"))
