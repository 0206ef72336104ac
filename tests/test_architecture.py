"""The layers of docs/architecture.md hold: imports go downwards only, and SQL against
fieldkit's tables is written only in ``fieldkit/store/``."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "fieldkit"

#: low to high; a module may import its own layer and those before it (same rank: not each other)
LAYERS = [
    ("core",),
    ("store",),
    ("hooks",),
    ("project",),
    ("coding",),
    ("privacy",),
    ("fieldwork",),
    ("exchange",),
    ("lifecycle",),
    ("demo", "serve"),
    ("cli",),
    ("plugins", "testing"),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
#: the package itself (``import fieldkit``) is the public face of ``project``
TOP_LEVEL = {"__init__": "project", "project": "project", "__main__": "cli", "demo": "demo", "testing": "testing"}
#: lower layers that name a higher one, and why that is allowed
EXCEPTIONS = {
    # the plugin manager registers the built-in plugins listed in fieldkit.plugins
    ("hooks", "plugins"): "the built-ins are registered like external plugins, by the manager",
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    assert parts[0] == "fieldkit", module
    if len(parts) == 1:
        return "project"
    return TOP_LEVEL.get(parts[1], parts[1])


def modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        found[name] = path
    return found


MODULES = modules()


def imported(module: str, source: str, is_package: bool = False) -> list:
    """Every fieldkit module ``module`` imports, at the top or inside functions: (line, name)."""
    package = module if is_package else module.rsplit(".", 1)[0]
    tree = ast.parse(source)
    # ``if TYPE_CHECKING:`` imports name types for annotations only; nothing is imported at run time
    typing_only = {id(inner) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and getattr(node.test, "id", getattr(node.test, "attr", None)) == "TYPE_CHECKING"
                   for stmt in node.body for inner in ast.walk(stmt)}
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                out.append((node.lineno, candidate if candidate in MODULES else base))
    return [(line, name) for line, name in out if name == "fieldkit" or name.startswith("fieldkit.")]


def test_every_module_has_a_layer():
    for module in MODULES:
        assert layer_of(module) in RANK, f"{module} belongs to no layer of docs/architecture.md"


def upward_imports(module: str, source: str, is_package: bool = False) -> list:
    own = layer_of(module)
    found = []
    for line, name in imported(module, source, is_package):
        other = layer_of(name)
        if other != own and (own, other) not in EXCEPTIONS and RANK[other] >= RANK[own]:
            found.append(f"{module}:{line}: {own} imports {name} ({other})")
    return found


def test_lower_layers_never_import_higher_ones():
    found = []
    for module, path in MODULES.items():
        found += upward_imports(module, path.read_text(encoding="utf-8"), path.name == "__init__.py")
    assert found == []


def test_the_import_check_sees_imports_inside_functions():
    source = (PACKAGE / "store" / "store.py").read_text(encoding="utf-8")
    assert upward_imports("fieldkit.store.store", source) == []
    planted = source + "\n\ndef _planted():\n    from fieldkit.cli import cli\n"
    assert upward_imports("fieldkit.store.store", planted) == [
        f"fieldkit.store.store:{planted.count(chr(10))}: store imports fieldkit.cli (cli)"]
    relative = "from ..coding import codings\n"
    assert upward_imports("fieldkit.store.store", relative) == [
        "fieldkit.store.store:1: store imports fieldkit.coding.codings (coding)"]


# --- SQL lives in the store ----------------------------------------------------------------------

#: the key store is a separate encrypted SQLite file with its own schema, so it writes its own SQL
SQL_ALLOWED = {"fieldkit/privacy/keystore.py"}


def fieldkit_tables() -> set:
    from fieldkit.store import schema

    names = set(schema.TABLES.values()) | {"revisions", "audit", "settings", schema.SEARCH_DEFERRED,
                                            "_sqlite_migrations"}
    ddl = " ".join(schema.INITIAL + schema.ANONYMISATION + schema.SEARCH_BATCHES + schema.LIFECYCLE)
    names |= set(re.findall(r'CREATE (?:VIRTUAL )?TABLE "(\w+)"', ddl))
    return names


def sql_in(source: str, tables: set) -> list:
    """(line, text) of the string literals that read or write one of ``tables`` with SQL."""
    table = "|".join(sorted(map(re.escape, tables), key=len, reverse=True))
    statement = re.compile(
        rf"\b(?:select\b.*\bfrom|insert\s+into|update|delete\s+from|create\s+(?:unique\s+)?(?:table|index|trigger)"
        rf"|drop\s+(?:table|index|trigger)|alter\s+table|join)\s+\[?\"?(?:{table})\b",
        re.IGNORECASE | re.DOTALL)
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
        elif isinstance(node, ast.JoinedStr):  # an f-string: its table may be a placeholder
            text = "".join(v.value if isinstance(v, ast.Constant) else "{x}" for v in node.values)
            text = text.replace("[{x}]", "[observations]")
        else:
            continue
        if statement.search(text):
            found.append((node.lineno, text[:60]))
    return found


def test_sql_against_fieldkit_tables_is_only_in_the_store():
    tables = fieldkit_tables()
    found = []
    for path in MODULES.values():
        rel = str(path.relative_to(ROOT))
        if rel.startswith("fieldkit/store/") or rel in SQL_ALLOWED:
            continue
        found += [f"{rel}:{line}: {text!r}" for line, text in sql_in(path.read_text(encoding="utf-8"), tables)]
    assert found == []


@pytest.mark.parametrize("literal", [
    "select id from codes where name = ?",
    "insert into audit (at) values (?)",
    'UPDATE "observations" SET body = ?',
    "delete from [anonymisation_log] where record_id = ?",
    "select 1 from x join memos m on m.id = x.id",
    "f'select * from [{table}] where id = ?'",
])
def test_the_sql_check_sees_sql(literal):
    source = f"QUERY = {literal}\n" if literal.startswith("f'") else f"QUERY = {literal!r}\n"
    assert sql_in(source, fieldkit_tables())


def test_the_sql_check_leaves_prose_and_other_tables_alone():
    source = "A = 'select the codes to export'\nB = 'select value from meta where key = ?'\n"
    assert sql_in(source, fieldkit_tables()) == []


def test_no_module_outside_the_store_uses_the_connection_of_a_project():
    """``project.conn``/``project.db`` are for a script's own reads; fieldkit goes through ``project.store``."""
    pattern = re.compile(r"\bproject\.(?:conn|db)\b|\bproject\._(?:audit|select|filters|prepare|query)\b")
    found = []
    for path in MODULES.values():
        rel = str(path.relative_to(ROOT))
        if rel.startswith("fieldkit/store/") or rel == "fieldkit/project.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{rel}:{number}: {line.strip()}")
    assert found == []


def test_the_layers_are_the_documented_ones():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = re.findall(r"^\| ([a-z, ]+) \| `fieldkit/", text, flags=re.MULTILINE)
    assert [tuple(name.strip() for name in row.split(",")) for row in table] == LAYERS


# typing of the Python API ------------------------------------------------------------------

def _untyped(cls_or_module) -> list[str]:
    """Public functions and methods of ``cls_or_module`` with a parameter or return without a type."""
    import inspect

    found = []
    for name, member in vars(cls_or_module).items():
        if name.startswith("_"):
            continue
        function = member.fget if isinstance(member, property) else getattr(member, "func", member)
        if isinstance(function, (staticmethod, classmethod)):
            function = function.__func__
        if not inspect.isfunction(function) or function.__module__ != getattr(cls_or_module, "__module__",
                                                                                cls_or_module.__name__):
            continue
        signature = inspect.signature(function)
        missing = [p for p in signature.parameters.values()
                   if p.name not in ("self", "cls") and p.annotation is inspect.Parameter.empty
                   and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if missing or signature.return_annotation is inspect.Signature.empty:
            found.append(f"{cls_or_module.__name__}.{name}")
    return found


def test_the_documented_python_api_is_typed():
    """Project, Store, the converter and the hook specifications: every public function says
    what it takes and gives (the package ships py.typed)."""
    import fieldkit.core.convert
    import fieldkit.hooks.specs
    import fieldkit.project
    from fieldkit.project import Project
    from fieldkit.store.store import Store

    untyped = []
    for owner in (Project, Store, fieldkit.project, fieldkit.core.convert, fieldkit.hooks.specs):
        untyped += _untyped(owner)
    assert untyped == []


def test_the_typing_check_sees_an_untyped_function():
    import types

    module = types.ModuleType("planted")

    def typed(a: int) -> int:
        return a

    def untyped(a):
        return a

    class Planted:
        def method(self, a: int):
            return a

        def _private(self, a):
            return a

    for member in (typed, untyped, Planted, Planted.method, Planted._private):
        member.__module__ = "planted"
    for member in (typed, untyped, Planted):
        setattr(module, member.__name__, member)
    # a class imported from elsewhere is checked where it is defined, not here
    module.Imported = type("Imported", (), {"method": lambda self, a: a, "__module__": "elsewhere"})
    assert _untyped(module) == ["planted.untyped"]
    assert untyped_in_module(module) == ["planted.untyped", "planted.Planted.method"]


#: packages and modules whose every public function and method is typed (issue 11, point 12);
#: a package covers its subpackages
TYPED = ("fieldkit.coding", "fieldkit.store", "fieldkit.exchange", "fieldkit.lifecycle", "fieldkit.serve",
         "fieldkit.fieldwork", "fieldkit.demo", "fieldkit.testing", "fieldkit.core", "fieldkit.privacy",
         "fieldkit.plugins", "fieldkit.cli", "fieldkit.hooks", "fieldkit.project")
#: modules inside those still being typed (each is being changed on another branch)
NOT_YET_TYPED: tuple = ()


def typed_modules() -> list:
    """The names of the modules in ``TYPED`` (their files, not their imports), less ``NOT_YET_TYPED``."""
    return [name for name in MODULES if name not in NOT_YET_TYPED
            and any(name == typed or name.startswith(typed + ".") for typed in TYPED)]


def untyped_in_module(module) -> list[str]:
    """``_untyped`` over a module's own functions and the methods of the classes it defines."""
    import inspect

    found = _untyped(module)
    for member in vars(module).values():
        if inspect.isclass(member) and member.__module__ == module.__name__:
            found += [f"{module.__name__}.{name}" for name in _untyped(member)]
    return found


def test_the_typed_packages_are_typed_throughout():
    import importlib

    names = typed_modules()
    assert "fieldkit.exchange.refi.reader" in names and "fieldkit.serve.app" in names
    untyped = []
    for name in names:
        untyped += untyped_in_module(importlib.import_module(name))
    assert untyped == []

