"""Every service has the one skeleton, and the pure parts stay pure.

A newcomer who has read one service knows where everything is in the others; a new service
(``notify``, ``portal``) starts on the same files. See docs/development.md, "Where things are".
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if p.is_dir() and (p / "app.py").exists())

# What every service has, and what else may stand at its top level.
REQUIRED = {
    "__init__.py",
    "app.py",
    "settings.py",
    "schemas",
    "api",
    "api/__init__.py",
    "api/deps.py",
    "service",
    "service/__init__.py",
    "service/store.py",
    "domain",
    "domain/__init__.py",
    "handlers.py",
    "jobs.py",
    "migrations",
}
ALLOWED_TOP = {"__init__.py", "app.py", "settings.py", "models.py", "models", "schemas", "schemas.py", "api", "service"}
ALLOWED_TOP |= {"domain", "handlers.py", "jobs.py", "migrations", "templates", "static", "__pycache__"}
HEAVY = ("fastapi", "starlette", "sqlalchemy", "sqlmodel", "asyncpg", "aiokafka")
MAX_LINES = 400


def test_there_are_services() -> None:
    assert {"consent", "dsar", "retention", "breach", "subprocessor"} <= set(SERVICES)


@pytest.mark.parametrize("service", SERVICES)
def test_service_has_the_skeleton(service: str) -> None:
    base = ROOT / "services" / service
    missing = sorted(p for p in REQUIRED if not (base / p).exists())
    assert not missing, f"services/{service} lacks {missing}"
    assert (base / "schemas.py").exists() != (base / "schemas").is_dir(), "schemas is one module or one package"
    assert (base / "models.py").exists() != (base / "models").is_dir(), "models is one module or one package"
    extra = sorted(p.name for p in base.iterdir() if p.name not in ALLOWED_TOP)
    assert not extra, f"services/{service} has {extra} outside the skeleton (docs/development.md)"


@pytest.mark.parametrize("service", SERVICES)
def test_app_exposes_spec_and_factory(service: str) -> None:
    tree = ast.parse((ROOT / "services" / service / "app.py").read_text())
    names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
    names |= {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}
    assert "SPEC" in names
    assert "create_app" in functions


@pytest.mark.parametrize("service", SERVICES)
def test_handlers_and_jobs_are_registries(service: str) -> None:
    handlers = ast.parse((ROOT / "services" / service / "handlers.py").read_text())
    jobs = ast.parse((ROOT / "services" / service / "jobs.py").read_text())

    def assigned(tree: ast.Module) -> set[str]:
        out = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
        return out | {n.target.id for n in tree.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}

    assert "SUBSCRIPTIONS" in assigned(handlers)
    assert "JOBS" in assigned(jobs)


def _python_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*.py") if "migrations" not in p.parts and "__pycache__" not in p.parts]


def test_no_module_is_too_long() -> None:
    """A module past 400 lines wants to become a package (domain rule tables excepted)."""
    long = []
    for top in ("shared", "services", "sdk"):
        for path in _python_files(ROOT / top):
            if "domain" in path.parts:
                continue
            lines = len(path.read_text().splitlines())
            if lines > MAX_LINES:
                long.append(f"{path.relative_to(ROOT)}: {lines}")
    assert not long, long


def test_no_service_imports_another() -> None:
    offenders = []
    for service in SERVICES:
        for path in _python_files(ROOT / "services" / service):
            for node in ast.walk(ast.parse(path.read_text())):
                names = []
                if isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                elif isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                for name in names:
                    parts = name.split(".")
                    if parts[0] == "services" and len(parts) > 1 and parts[1] != service:
                        offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def test_sdk_loads_no_web_or_database_stack() -> None:
    """A store team that installs the SDK gets neither FastAPI nor SQLAlchemy."""
    loaded = _loaded_after_import(["sdk"])
    assert not loaded & {"fastapi", "starlette", "sqlalchemy", "sqlmodel"}, loaded & set(HEAVY)


def test_domain_and_rules_are_pure() -> None:
    """Domain code and ``shared.rules`` import no web, database or broker library."""
    modules = ["shared.rules"] + [p.stem for p in (ROOT / "shared" / "rules").glob("*.py")]
    modules = ["shared.rules." + m for m in modules[1:] if m != "__init__"]
    for service in SERVICES:
        for path in (ROOT / "services" / service / "domain").rglob("*.py"):
            modules.append(".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"))
    loaded = _loaded_after_import(modules)
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
