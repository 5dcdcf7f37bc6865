"""The layout shows the architecture (issue #10): the policy decides, adapters carry it out.

Imports run one way (adapters → policy → config); the top of the package holds no module;
every line the service logs takes its id from the vocabulary (routing.calllog.events) or
from the exception it reports, never from a string written at the call.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "routing"
ADAPTERS = ("agi", "ami", "ari", "store", "service", "cli", "calllog", "reports", "sandbox", "calendar")
LOG_METHODS = {"debug", "info", "warning", "error", "exception", "critical"}


def _modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_top_of_the_package_holds_only_its_init_and_main() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]


def test_config_never_imports_the_policy() -> None:
    wrong = {p.name: sorted(m for m in _imports(p) if m.startswith("routing.policy")) for p in _modules("config")}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_policy_imports_no_adapter() -> None:
    prefixes = tuple(f"routing.{adapter}" for adapter in ADAPTERS)
    wrong = {p.name: sorted(m for m in _imports(p) if m.startswith(prefixes)) for p in _modules("policy")}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_ari_leans_only_on_the_call_log_and_the_config() -> None:
    """routing.ari is an adapter under the switchboard (#13): the service uses it, never the
    other way round."""
    allowed = ("routing.ari", "routing.calllog", "routing.config")
    wrong = {
        p.name: sorted(m for m in _imports(p) if m.startswith("routing.") and not m.startswith(allowed))
        for p in _modules("ari")
    }
    assert _modules("ari") and {name: found for name, found in wrong.items() if found} == {}


def test_no_log_line_names_its_event_with_a_bare_string() -> None:
    bare = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOG_METHODS
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                bare.append(f"{path.relative_to(PACKAGE)}:{node.lineno}: {node.args[0].value}")
    assert bare == []
