"""What a person types into search, read into a query tree and written out as FTS5 syntax.

The syntax (see ``docs/search.md``): words (all must match), ``OR``, ``NOT`` (or a leading
``-``), ``"quoted phrases"``, ``prefix*``, ``NEAR(a b, 5)`` or ``a NEAR b``, brackets, and
field filters ``code:``, ``speaker:``, ``site:``, ``role:``, ``encounter:``, ``tag:``.
Operators are upper case; a lower-case ``or`` is a word. User text never reaches FTS5's
parser as syntax: every word and phrase is written out as a quoted FTS5 string.
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Union

import attrs

from fieldkit.core.errors import InvalidInput

#: the field filters, and what each limits the search to
FIELDS = {
    "code": "records coded with the code or a code below it",
    "speaker": "transcripts in which the participant speaks",
    "site": "notes of encounters at the site",
    "role": "records about a participant with the role (mentioned, or in the encounter)",
    "encounter": "notes of the encounter",
    "tag": "records with the tag",
}
#: words of NEAR's default window, as FTS5 has it
NEAR_DEFAULT = 10
_FIELD = re.compile(rf"^({'|'.join(FIELDS)}):(.*)$", re.I | re.S)
_OPERATORS = ("OR", "AND", "NOT")
_NEAR = re.compile(r"^NEAR(?:/(\d+))?$")


@attrs.frozen
class Term:
    """A word (``prefix``: any word starting with it) or, with several words, a phrase."""

    text: str
    prefix: bool = False
    phrase: bool = False


@attrs.frozen
class Near:
    terms: tuple
    distance: int = NEAR_DEFAULT


@attrs.frozen
class All:
    items: tuple
    excluded: tuple = ()


@attrs.frozen
class Any:
    items: tuple


Node = Union[Term, Near, All, Any]


@attrs.frozen
class SearchQuery:
    """A parsed search: the text condition and the field filters (field -> values)."""

    expr: Node
    filters: dict = attrs.field(factory=dict)

    def fts(self, expand: Optional[Callable[[str], list]] = None) -> str:
        """The FTS5 ``MATCH`` expression. ``expand(prefix)`` gives whole words to match
        beside the prefix (words the stemmed index cannot reach from it)."""
        return _render(self.expr, expand)


def _error(message: str) -> InvalidInput:
    return InvalidInput(f"search: {message} (see 'fieldkit search --help')")


def _tokens(text: str) -> list:
    """``(kind, value)`` pairs: ``(``, ``)``, ``,``, ``quote``, ``word``, ``field``."""
    out: list = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "(),":
            out.append((ch, ch))
            i += 1
        elif ch == '"':
            end = text.find('"', i + 1)
            if end < 0:
                raise _error("a quote is not closed")
            out.append(("quote", text[i + 1:end]))
            i = end + 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in '(),"':
                j += 1
            word = text[i:j]
            field = _FIELD.match(word)
            if field:
                value = field.group(2)
                if not value and j < n and text[j] == '"':
                    end = text.find('"', j + 1)
                    if end < 0:
                        raise _error("a quote is not closed")
                    value, j = text[j + 1:end], end + 1
                if not value.strip():
                    raise _error(f"{field.group(1).lower()}: needs a value, as in {field.group(1).lower()}:VALUE")
                out.append(("field", (field.group(1).lower(), value.strip())))
            elif word.startswith("-") and len(word) > 1:
                out.append(("word", "NOT"))
                out.append(("word", word[1:]))
            else:
                out.append(("word", word))
            i = j
    return out


class _Parser:
    def __init__(self, tokens: list) -> None:
        self.tokens = tokens
        self.at = 0
        self.filters: dict = {}

    def peek(self) -> Optional[tuple]:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> tuple:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def any_(self, depth: int) -> Optional[Node]:
        items = []
        while True:
            item = self.all_(depth)
            if item is not None:
                items.append(item)
            token = self.peek()
            if token == ("word", "OR"):
                self.take()
                if item is None:
                    raise _error("OR needs words on both sides")
                nxt = self.peek()
                if nxt is None or nxt in ((")", ")"), ("word", "OR")):
                    raise _error("OR needs words on both sides")
                continue
            break
        if not items:
            return None
        return items[0] if len(items) == 1 else Any(tuple(items))

    def all_(self, depth: int) -> Optional[Node]:
        items: list = []
        excluded: list = []
        while True:
            token = self.peek()
            if token is None or token in ((")", ")"), ("word", "OR")):
                break
            if token == ("word", "AND"):
                self.take()
                nxt = self.peek()
                if not items or nxt is None or nxt in ((")", ")"), ("word", "OR"), ("word", "AND")):
                    raise _error("AND needs words on both sides")
                continue
            if token == ("word", "NOT"):
                self.take()
                nxt = self.peek()
                if nxt is None or nxt in ((")", ")"), ("word", "OR"), ("word", "NOT"), ("word", "AND")):
                    raise _error("NOT needs a word or phrase after it")
                if nxt[0] == "field":
                    raise _error("a field filter cannot follow NOT")
                node = self.primary(depth)
                if node is not None:
                    excluded.append(node)
                continue
            if token[0] == "field":
                self.take()
                if depth:
                    raise _error("field filters apply to the whole search; put them outside brackets")
                field, value = token[1]
                if field != "tag" and field in self.filters and self.filters[field] != [value]:
                    raise _error(f"give {field}: once")
                self.filters.setdefault(field, [])
                if value not in self.filters[field]:
                    self.filters[field].append(value)
                continue
            node = self.primary(depth)
            if node is None:
                continue
            near = self.peek()
            if near and near[0] == "word" and _NEAR.match(near[1]) and isinstance(node, Term):
                self.take()
                distance = int(_NEAR.match(near[1]).group(1) or NEAR_DEFAULT)
                other = self.primary(depth) if self.peek() and self.peek()[0] in ("word", "quote") else None
                if not isinstance(other, Term):
                    raise _error("NEAR needs a word or phrase on both sides")
                node = Near((node, other), distance)
            items.append(node)
        if excluded and not items:
            raise _error("NOT needs something to search for before it, as in 'phone NOT mobile'")
        if not items:
            return None
        if len(items) == 1 and not excluded:
            return items[0]
        return All(tuple(items), tuple(excluded))

    def primary(self, depth: int) -> Optional[Node]:
        kind, value = self.take()
        if kind == "(":
            inner = self.any_(depth + 1)
            if self.peek() != (")", ")"):
                raise _error("a bracket is not closed")
            self.take()
            return inner
        if kind == ")":
            raise _error("a closing bracket has no opening one")
        if kind == ",":
            raise _error("a comma belongs inside NEAR(...)")
        if kind == "quote":
            words = value.split()
            return Term(" ".join(words), phrase=len(words) > 1) if _has_word(value) else None
        if _NEAR.match(value) and self.peek() == ("(", "("):
            return self.near()
        if value in _OPERATORS or _NEAR.match(value):
            raise _error(f"{value} needs words on both sides")
        prefix = value.endswith("*")
        word = value.rstrip("*") if prefix else value
        if "*" in word:
            raise _error(f"'*' goes at the end of a word, as in 'token*' (not '{value}')")
        if not _has_word(word):
            if prefix:
                raise _error("'*' must follow the start of a word, as in 'token*'")
            return None
        return Term(word, prefix=prefix)

    def near(self) -> Near:
        self.take()  # (
        terms: list = []
        distance = NEAR_DEFAULT
        while True:
            token = self.peek()
            if token is None:
                raise _error("NEAR( is not closed")
            self.take()
            if token[0] == ")":
                break
            if token[0] == ",":
                number = self.peek()
                if not number or number[0] != "word" or not number[1].isdigit():
                    raise _error("NEAR(words, N) needs a number after the comma")
                distance = int(self.take()[1])
                if self.peek() != (")", ")"):
                    raise _error("NEAR(words, N) ends after the number")
                continue
            if token[0] == "quote":
                if _has_word(token[1]):
                    words = token[1].split()
                    terms.append(Term(" ".join(words), phrase=len(words) > 1))
            elif token[0] == "word" and token[1] not in _OPERATORS and _has_word(token[1].rstrip("*")):
                terms.append(Term(token[1].rstrip("*"), prefix=token[1].endswith("*")))
            else:
                raise _error("NEAR(...) holds only words and phrases")
        if len(terms) < 2:
            raise _error("NEAR(...) needs at least two words or phrases")
        return Near(tuple(terms), distance)


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def parse_query(text: str) -> SearchQuery:
    """Read a search as typed; raise :class:`InvalidInput` (one line) when it cannot be read."""
    # control characters (NUL ends a string inside FTS5) separate words, as spaces do
    text = "".join(ch if ch.isprintable() or ch.isspace() else " " for ch in text or "")
    parser = _Parser(_tokens(text))
    expr = parser.any_(0)
    if parser.peek() is not None:
        raise _error("a closing bracket has no opening one")
    if expr is None:
        raise _error("give at least one word to search for" if not parser.filters
                     else "give at least one word to search for beside the filters")
    return SearchQuery(expr, {k: tuple(v) for k, v in parser.filters.items()})


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _render(node: Node, expand: Optional[Callable[[str], list]], near: bool = False) -> str:
    if isinstance(node, Term):
        if not node.prefix:
            return _quote(node.text)
        stem = _quote(node.text) + "*"
        words = expand(node.text) if expand and not near and node.text.isalnum() else []
        return "(" + " OR ".join([stem, *(_quote(w) for w in words)]) + ")" if words else stem
    if isinstance(node, Near):
        return f"NEAR({' '.join(_render(t, expand, near=True) for t in node.terms)}, {node.distance})"
    if isinstance(node, Any):
        return "(" + " OR ".join(_render(i, expand) for i in node.items) + ")"
    found = " AND ".join(_render(i, expand) for i in node.items)
    if node.excluded:
        found = f"({found}) NOT ({' OR '.join(_render(i, expand) for i in node.excluded)})"
    return f"({found})" if len(node.items) > 1 and not node.excluded else found
