"""Codebook files: a hierarchical codebook written by hand in YAML or JSON.

The format is described in ``docs/codebook-format.md``. In short::

    name: coproduction
    title: Co-produced probation inspection
    description: ...
    codes:
      - name: discourses
        title: Discourses of co-production
        definition: ...
        include: ...
        exclude: ...
        example: ...
        colour: "#1f77b4"
        keywords:
          - word: tokenism
          - near: [expert, experience]
            within: 5
        children:
          - name: ...

:func:`load_codebook` reads a file (or text), :func:`parse_codebook` checks an
already-parsed mapping, and :func:`dump_codebook` writes a :class:`CodebookData`
back in the same nested shape. Every problem is reported as a :class:`CodebookError`
whose message is one line naming the file and the code.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import re
import unicodedata
from typing import Any, Optional

import attrs

from fieldkit.coding.keywords import DEFAULT_WITHIN, KINDS, KeywordRule
from fieldkit.core.errors import InvalidInput

__all__ = [
    "CodebookData",
    "CodebookError",
    "CodeSpec",
    "PALETTE",
    "default_colour",
    "dump_codebook",
    "load_codebook",
    "parse_codebook",
]

# Twenty distinguishable colours; a code without a colour gets PALETTE[i % 20], where i is
# its position in the flattened (depth-first) list of codes.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5",
    "#c49c94", "#f7b6d2", "#c7c7c7", "#dbdb8d", "#9edae5",
)  # fmt: skip

TOP_KEYS = ("name", "title", "description", "codes")
CODE_KEYS = (
    "name", "title", "definition", "include", "exclude", "example",
    "colour", "keywords", "children",
)  # fmt: skip
TEXT_FIELDS = ("definition", "include", "exclude", "example")
RULE_KEYS = KINDS + ("within", "case_sensitive")

MAX_DEPTH = 32
MAX_CODES = 10_000

_COLOUR_RE = re.compile(r"#[0-9a-fA-F]{6}")


class CodebookError(InvalidInput):
    """A codebook file that cannot be used; ``str()`` is one line naming file and code."""

    def __init__(self, source: str, message: str, code_path: Optional[str] = None):
        self.source = source
        self.code_path = code_path
        self.problem = message
        where = f"{source}: code {code_path!r}: " if code_path else f"{source}: "
        super().__init__(_one_line(where + message))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def default_colour(position: int) -> str:
    """The palette colour for the code at ``position`` in the flattened list."""
    return PALETTE[position % len(PALETTE)]


def _check_colour(instance, attribute, value):
    if not isinstance(value, str) or not _COLOUR_RE.fullmatch(value):
        raise InvalidInput(f"colour must look like #rrggbb, not {value!r}")


def _check_name(instance, attribute, value):
    problem = _name_problem(value)
    if problem:
        raise InvalidInput(problem)


def _name_problem(value: Any) -> Optional[str]:
    if not isinstance(value, str):
        return f"name must be text, not {_describe(value)} (put it in quotes)"
    if not value.strip():
        return "name is empty"
    if "/" in value:
        return f"name {value!r} contains '/', which separates parent and child in a code path"
    if value != value.strip():
        return f"name {value!r} has spaces at its start or end"
    if any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in value):
        return f"name {value!r} contains a line break or control character"
    return None


@attrs.frozen
class CodeSpec:
    """One code of a codebook file, with its place in the tree.

    ``path`` joins the names from the top with ``/`` (``discourses/ladder-rungs``);
    ``parent_path`` is None for a top-level code.
    """

    path: str
    name: str = attrs.field(validator=_check_name)
    parent_path: Optional[str]
    title: str
    definition: str = ""
    include: str = ""
    exclude: str = ""
    example: str = ""
    colour: str = attrs.field(default=PALETTE[0], validator=_check_colour)
    keywords: tuple[KeywordRule, ...] = attrs.field(default=(), converter=tuple)

    @property
    def depth(self) -> int:
        """1 for a top-level code, 2 for its children, and so on."""
        return self.path.count("/") + 1


@attrs.frozen
class CodebookData:
    """A whole codebook: ``codes`` is flattened depth-first, each parent before its children."""

    name: str
    title: str
    description: str = ""
    codes: tuple[CodeSpec, ...] = attrs.field(default=(), converter=tuple)

    def code(self, path: str) -> CodeSpec:
        """The code at ``path``; ``KeyError`` if there is none."""
        for spec in self.codes:
            if spec.path == path:
                return spec
        raise KeyError(path)

    def children(self, path: Optional[str] = None) -> tuple[CodeSpec, ...]:
        """The direct children of ``path``, or the top-level codes when ``path`` is None."""
        return tuple(spec for spec in self.codes if spec.parent_path == path)


# --- reading -------------------------------------------------------------------------


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _default_title(name: str) -> str:
    words = re.sub(r"[-_]+", " ", name).strip()
    return (words[:1].upper() + words[1:]) if words else name


def _unknown_keys(mapping: dict, allowed: tuple[str, ...]) -> Optional[str]:
    for key in mapping:
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1)
            suggestion = f"did you mean {hint[0]!r}?" if hint else "expected " + ", ".join(allowed)
            return f"unknown key {key!r} ({suggestion})"
    return None


def _text(value: Any, what: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text, not {_describe(value)}")
    return value.strip()


def _parse_rule(raw: Any, number: int) -> KeywordRule:
    label = f"keyword rule {number}"
    if not isinstance(raw, dict):
        raise InvalidInput(
            f"{label} must be a mapping such as {{word: tokenism}}, not {_describe(raw)}"
        )
    unknown = _unknown_keys(raw, RULE_KEYS)
    if unknown:
        raise InvalidInput(f"{label}: {unknown}")
    kinds = [k for k in KINDS if k in raw]
    if len(kinds) != 1:
        found = " and ".join(kinds) if kinds else "none"
        raise InvalidInput(f"{label} needs exactly one of {', '.join(KINDS)} (found {found})")
    kind = kinds[0]
    value = raw[kind]
    if kind == "near":
        if not isinstance(value, list):
            raise InvalidInput(f"{label}: near needs a list of words, not {_describe(value)}")
        for word in value:
            if not isinstance(word, str):
                raise InvalidInput(f"{label}: near word must be text, not {_describe(word)}")
    elif not isinstance(value, str):
        raise InvalidInput(f"{label}: {kind} must be text, not {_describe(value)}")
    within = raw.get("within", DEFAULT_WITHIN)
    if "within" in raw and kind != "near":
        raise InvalidInput(f"{label}: within only applies to near rules")
    if isinstance(within, bool) or not isinstance(within, int):
        raise InvalidInput(f"{label}: within must be a whole number, not {_describe(within)}")
    case_sensitive = raw.get("case_sensitive", False)
    if not isinstance(case_sensitive, bool):
        raise InvalidInput(
            f"{label}: case_sensitive must be true or false, not {_describe(case_sensitive)}"
        )
    try:
        return KeywordRule(kind, value, within=within, case_sensitive=case_sensitive)
    except ValueError as exc:
        raise InvalidInput(f"{label}: {exc}") from None


def parse_codebook(data: Any, source: str = "<codebook>") -> CodebookData:
    """Check a parsed YAML/JSON mapping and build a :class:`CodebookData`.

    ``source`` names the file in error messages. Raises :class:`CodebookError`.
    """
    if not isinstance(data, dict):
        raise CodebookError(
            source, f"a codebook must be a mapping with a name and codes, not {_describe(data)}"
        )
    unknown = _unknown_keys(data, TOP_KEYS)
    if unknown:
        raise CodebookError(source, unknown)
    if "name" not in data:
        raise CodebookError(source, "the codebook has no name")
    problem = _name_problem(data["name"])
    if problem:
        raise CodebookError(source, "codebook " + problem)
    name = data["name"]
    try:
        title = _text(data.get("title"), "title") or _default_title(name)
        description = _text(data.get("description"), "description")
    except ValueError as exc:
        raise CodebookError(source, str(exc)) from None
    raw_codes = data.get("codes")
    if raw_codes is None:
        raw_codes = []
    if not isinstance(raw_codes, list):
        raise CodebookError(source, f"codes must be a list, not {_describe(raw_codes)}")

    specs: list[CodeSpec] = []
    _parse_siblings(raw_codes, None, 1, specs, source)
    return CodebookData(name=name, title=title, description=description, codes=tuple(specs))


def _parse_siblings(
    raw_codes: list, parent: Optional[str], depth: int, out: list[CodeSpec], source: str
) -> None:
    where = f"under {parent!r}" if parent else "at the top level"
    if depth > MAX_DEPTH:
        raise CodebookError(source, f"codes nest more than {MAX_DEPTH} levels deep", parent)
    seen: dict[str, str] = {}
    for index, raw in enumerate(raw_codes, start=1):
        if not isinstance(raw, dict):
            raise CodebookError(
                source, f"code {index} {where} must be a mapping, not {_describe(raw)}"
            )
        if "name" not in raw:
            raise CodebookError(source, f"code {index} {where} has no name")
        problem = _name_problem(raw["name"])
        if problem:
            raise CodebookError(source, f"code {index} {where}: {problem}")
        name = raw["name"]
        path = f"{parent}/{name}" if parent else name
        folded = name.casefold()
        if folded in seen:
            if seen[folded] == name:
                problem = f"the name {name!r} is used twice {where}"
            else:
                problem = (
                    f"the name {name!r} clashes with {seen[folded]!r} {where} "
                    "(sibling names are compared ignoring case)"
                )
            raise CodebookError(source, problem, path)
        seen[folded] = name
        if len(out) >= MAX_CODES:
            raise CodebookError(source, f"more than {MAX_CODES} codes")
        out.append(_parse_code(raw, path, parent, len(out), source))
        children = raw.get("children")
        if children is None:
            continue
        if not isinstance(children, list):
            problem = f"children must be a list, not {_describe(children)}"
            raise CodebookError(source, problem, path)
        _parse_siblings(children, path, depth + 1, out, source)


def _parse_code(
    raw: dict, path: str, parent: Optional[str], position: int, source: str
) -> CodeSpec:
    unknown = _unknown_keys(raw, CODE_KEYS)
    if unknown:
        raise CodebookError(source, unknown, path)
    try:
        title = _text(raw.get("title"), "title") or _default_title(raw["name"])
        texts = {field: _text(raw.get(field), field) for field in TEXT_FIELDS}
        colour = _parse_colour(raw, position)
        raw_rules = raw.get("keywords")
        if raw_rules is None:
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise InvalidInput(f"keywords must be a list of rules, not {_describe(raw_rules)}")
        rules = tuple(_parse_rule(r, n) for n, r in enumerate(raw_rules, start=1))
    except ValueError as exc:
        raise CodebookError(source, str(exc), path) from None
    return CodeSpec(
        path=path,
        name=raw["name"],
        parent_path=parent,
        title=title,
        colour=colour,
        keywords=rules,
        **texts,
    )


def _parse_colour(raw: dict, position: int) -> str:
    if "colour" not in raw:
        return default_colour(position)
    value = raw["colour"]
    if value is None:
        raise InvalidInput(
            'colour is empty; in YAML an unquoted # starts a comment, so write colour: "#1f77b4"'
        )
    if not isinstance(value, str) or not _COLOUR_RE.fullmatch(value.strip()):
        raise InvalidInput(
            f'colour must look like "#rrggbb" (six hex digits), not {_describe(value)}'
        )
    return value.strip().lower()


@functools.lru_cache(maxsize=None)
def _yaml_loader():
    import yaml

    class StrictSafeLoader(yaml.SafeLoader):
        """``yaml.SafeLoader`` that refuses a key written twice in one mapping."""

        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                except TypeError:  # unhashable key: let SafeLoader report it
                    break
                if duplicate:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} appears twice in one mapping",
                        key_node.start_mark,
                    )
                seen.add(key)
            return super().construct_mapping(node, deep=deep)

    return StrictSafeLoader


def _no_duplicate_pairs(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput(f"key {key!r} appears twice in one object")
        result[key] = value
    return result


def _read_text(text: str, source: str, fmt: Optional[str]) -> Any:
    if fmt is None:
        fmt = "json" if source.lower().endswith(".json") else "yaml"
    if fmt == "json":
        try:
            return json.loads(text, object_pairs_hook=_no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            where = f"{source}:{exc.lineno}:{exc.colno}"
            raise CodebookError(where, f"invalid JSON: {exc.msg}") from None
        except ValueError as exc:
            raise CodebookError(source, f"invalid JSON: {exc}") from None
        except RecursionError:
            raise CodebookError(source, "invalid JSON: nested too deeply to read") from None
    if fmt != "yaml":
        raise InvalidInput(f"fmt must be 'yaml' or 'json', not {fmt!r}")
    import yaml

    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader: no arbitrary objects
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        problem = exc.problem or exc.context or "syntax error"
        raise CodebookError(where, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise CodebookError(source, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise CodebookError(source, "invalid YAML: nested too deeply to read") from None


def load_codebook(
    path_or_text: "str | os.PathLike[str]",
    *,
    source: Optional[str] = None,
    fmt: Optional[str] = None,
) -> CodebookData:
    """Read a codebook from a YAML or JSON file, or from the text of one.

    A path object is always a file. A string is taken as the text itself when it contains
    a line break or starts with ``{``, and as a file name otherwise. ``fmt`` (``"yaml"`` or
    ``"json"``) overrides the guess made from the file suffix (``.json`` means JSON, anything
    else YAML, which also reads most JSON). ``source`` overrides the name used in errors.
    """
    if isinstance(path_or_text, os.PathLike) or (
        isinstance(path_or_text, str)
        and "\n" not in path_or_text
        and not path_or_text.lstrip().startswith("{")
    ):
        path = os.fspath(path_or_text)
        name = source or str(path)
        try:
            with open(path, encoding="utf-8-sig") as handle:
                text = handle.read()
        except FileNotFoundError:
            raise CodebookError(name, "no such codebook file") from None
        except IsADirectoryError:
            raise CodebookError(name, "is a directory, not a codebook file") from None
        except UnicodeDecodeError as exc:
            problem = f"is not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise CodebookError(name, problem) from None
        except OSError as exc:
            raise CodebookError(name, f"cannot be read: {exc.strerror or exc}") from None
        if fmt is None and str(path).lower().endswith(".json"):
            fmt = "json"
    elif isinstance(path_or_text, str):
        text = path_or_text
        name = source or "<text>"
    else:
        raise TypeError(f"expected a path or codebook text, not {type(path_or_text).__name__}")
    data = _read_text(text, name, fmt or "yaml")
    if data is None:
        raise CodebookError(name, "the codebook is empty")
    return parse_codebook(data, name)


# --- writing -------------------------------------------------------------------------


# Characters YAML readers treat as line breaks (or strip) that plain or block styles
# would not keep: strings holding them are written double-quoted with escapes.
_AWKWARD = frozenset("\r\x85\u2028\u2029\ufeff")


class _Flow(list):
    """A list written on one line in YAML (used for the words of a near rule)."""


@functools.lru_cache(maxsize=None)
def _yaml_dumper():
    import yaml

    class CodebookDumper(yaml.SafeDumper):
        pass

    def represent_str(dumper, value):
        if any(ch in _AWKWARD for ch in value):
            style = '"'  # escaped, so a reader cannot mistake them for line breaks
        elif "\n" in value:
            style = "|"
        else:
            style = None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    def represent_flow(dumper, value):
        return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=True)

    CodebookDumper.add_representer(str, represent_str)
    CodebookDumper.add_representer(_Flow, represent_flow)
    return CodebookDumper


def _rule_dict(rule: KeywordRule) -> dict:
    if rule.kind == "near":
        out: dict[str, Any] = {"near": _Flow(rule.value), "within": rule.within}
    else:
        out = {rule.kind: rule.value}
    if rule.case_sensitive:
        out["case_sensitive"] = True
    return out


def _nested(data: CodebookData) -> dict:
    top: dict[str, Any] = {"name": data.name, "title": data.title}
    if data.description:
        top["description"] = data.description
    roots: list[dict] = []
    nodes: dict[str, dict] = {}
    for spec in data.codes:
        node: dict[str, Any] = {"name": spec.name, "title": spec.title}
        for field in TEXT_FIELDS:
            value = getattr(spec, field)
            if value:
                node[field] = value
        node["colour"] = spec.colour
        if spec.keywords:
            node["keywords"] = [_rule_dict(rule) for rule in spec.keywords]
        nodes[spec.path] = node
        if spec.parent_path is None:
            roots.append(node)
        else:
            try:
                parent = nodes[spec.parent_path]
            except KeyError:
                raise InvalidInput(
                    f"code {spec.path!r} comes before its parent {spec.parent_path!r}"
                ) from None
            parent.setdefault("children", []).append(node)
    top["codes"] = roots
    return top


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def dump_codebook(data: CodebookData, fmt: str = "yaml") -> str:
    """Write ``data`` as codebook-file text (``fmt`` is ``"yaml"`` or ``"json"``).

    Empty text fields are left out; every code's colour is written, so colours do not
    shift when codes are later reordered. ``parse`` of the result gives ``data`` back.
    """
    nested = _nested(data)
    if fmt == "json":
        return json.dumps(_plain(nested), indent=2, ensure_ascii=False) + "\n"
    if fmt != "yaml":
        raise InvalidInput(f"fmt must be 'yaml' or 'json', not {fmt!r}")
    import yaml

    return yaml.dump(
        nested,
        Dumper=_yaml_dumper(),
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=88,
    )
