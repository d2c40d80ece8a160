"""The shape of the code, read from the source (DEVELOPERS.md, "One contract per use case"):
adapters never touch tables, visibility conditions are written only in accounts/scopes.py,
email is queued only by notifications/emails.py, core imports no domain, and no function is
longer than 60 lines. Each rule is checked per module, so a failure names the file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "governance"
DOMAINS = (
    "accounts",
    "groups",
    "meetings",
    "actions",
    "reports",
    "documents",
    "search",
    "pulses",
    "transparency",
    "notifications",
    "dashboard",
    "register",
    "resolutions",
)
MAX_FUNCTION_LINES = 60
MAX_API_LINES = 300
# Where visibility is decided (policy) and turned into conditions (scopes).
VISIBILITY_HOMES = {"accounts/policy.py", "accounts/scopes.py"}
EMAIL_HOME = "notifications/emails.py"
QUERY_METHODS = {"select", "insert", "update", "delete", "objects", "exists", "count", "raw"}


def _modules() -> list[Path]:
    return sorted(
        path
        for path in PACKAGE.rglob("*.py")
        if "piccolo_migrations" not in path.parts and "__pycache__" not in path.parts
    )


def _name(path: Path) -> str:
    return path.relative_to(PACKAGE).as_posix()


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


MODULES = _modules()
ADAPTERS = [p for p in MODULES if p.name in {"api.py", "controllers.py"}]


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("path", ADAPTERS, ids=_name)
def test_adapters_never_import_tables_or_build_queries(path: Path) -> None:
    tree = _tree(path)
    problems = [
        f"line {line}: imports {module}"
        for line, module in _imported_modules(tree)
        if module.endswith(".tables")
        or ".tables." in module
        or module.startswith("piccolo")
        or module.endswith("write_transaction")
    ]
    assert not problems, f"{_name(path)} reaches the database itself: {problems}"


def _mentions_visibility(node: ast.AST) -> bool:
    if isinstance(node, ast.Attribute) and node.attr == "visibility":
        return True
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == "visibility"
    )


def _visibility_conditions(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            if any(_mentions_visibility(part) for part in [node.left, *node.comparators]):
                lines.append(node.lineno)
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            if method in {"is_in", "not_in"} and _mentions_visibility(node.func.value):
                lines.append(node.lineno)
            if method in {"readable_visibilities", "outsider_visibilities"}:
                lines.append(node.lineno)
    return sorted(set(lines))


@pytest.mark.parametrize(
    "path", [p for p in MODULES if _name(p) not in VISIBILITY_HOMES], ids=_name
)
def test_visibility_conditions_are_written_only_in_scopes(path: Path) -> None:
    lines = _visibility_conditions(_tree(path))
    assert not lines, (
        f"{_name(path)} writes a visibility condition itself (lines {lines}); "
        "use governance/accounts/scopes.py"
    )


def _calls(tree: ast.AST, name: str) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called == name:
                lines.append(node.lineno)
    return lines


@pytest.mark.parametrize("path", [p for p in MODULES if _name(p) != EMAIL_HOME], ids=_name)
def test_email_is_queued_only_by_the_emails_module(path: Path) -> None:
    lines = _calls(_tree(path), "queue_email")
    assert not lines, f"{_name(path)} queues email itself (lines {lines}); add it to {EMAIL_HOME}"


@pytest.mark.parametrize("path", [p for p in MODULES if p.parts[-2] == "core"], ids=_name)
def test_core_imports_no_domain_at_module_level(path: Path) -> None:
    tree = _tree(path)
    problems = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if len(parts) > 1 and parts[0] == "governance" and parts[1] in DOMAINS:
                problems.append(f"line {node.lineno}: {node.module}")
    assert not problems, f"{_name(path)} imports a domain: {problems}"


def _long_functions(tree: ast.AST) -> list[str]:
    return [
        f"{node.name} (line {node.lineno}, {node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno is not None
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]


@pytest.mark.parametrize("path", MODULES, ids=_name)
def test_no_function_is_longer_than_sixty_lines(path: Path) -> None:
    long = _long_functions(_tree(path))
    assert not long, f"{_name(path)}: {long}"


@pytest.mark.parametrize("domain", ["meetings", "reports"])
def test_the_big_apis_stay_small(domain: str) -> None:
    lines = len((PACKAGE / domain / "api.py").read_text(encoding="utf-8").splitlines())
    assert lines < MAX_API_LINES, f"{domain}/api.py has {lines} lines"


def test_the_checks_would_catch_what_they_look_for() -> None:
    """Each detector finds a planted example, so a green run means something."""
    planted = ast.parse(
        "from governance.meetings.tables import Meeting\n"
        "x = AgendaItem.visibility.is_in(['public'])\n"
        "y = row['visibility'] == 'board'\n"
        "z = viewer.readable_visibilities(3)\n"
        "await queue_email('a', 'b', {}, 'k')\n"
        "def f():\n" + "    pass\n" * 61
    )
    assert [m for _, m in _imported_modules(planted) if m.endswith(".tables")]
    assert _visibility_conditions(planted) == [2, 3, 4]
    assert _calls(planted, "queue_email") == [5]
    assert _long_functions(planted)
