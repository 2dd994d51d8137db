"""Point 8: dependencies come from lock files (versions and hashes) in the Dockerfile and in `make test`, the
image does not run as root, and a dependency audit runs offline against a pinned advisory snapshot (or says
clearly that it was skipped)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
AUDIT = REPO / "security" / "audit.py"
sys.path.insert(0, str(REPO / "security"))
import audit  # noqa: E402


def _requirement_names(specs: list[str]) -> set[str]:
    return {audit.canonical(re.split(r"[\[<>=!~; ]", s, maxsplit=1)[0]) for s in specs}


def test_every_dependency_is_pinned_with_hashes_in_the_locks():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = _requirement_names(project["dependencies"])
    dev = runtime | _requirement_names(project["optional-dependencies"]["dev"])
    for lock, wanted in (("requirements.lock", runtime), ("requirements-dev.lock", dev)):
        text = (REPO / lock).read_text(encoding="utf-8")
        pinned = audit.pins((REPO / lock,))
        assert wanted <= set(pinned), (lock, wanted - set(pinned))
        blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if audit._PIN.match(b)]
        assert blocks and all("--hash=sha256:" in b for b in blocks), lock
    assert audit.pins((REPO / "requirements.lock",)).items() <= audit.pins((REPO / "requirements-dev.lock",)).items()


def test_the_dockerfile_installs_the_lock_and_runs_as_a_user():
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    runs = " ".join(line for line in lines if line.startswith(("RUN", "&&")))
    assert "--require-hashes -r requirements.lock" in runs and "--no-deps ." in runs
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert lines.index(next(line for line in lines if line.startswith("USER "))) > max(
        i for i, line in enumerate(lines) if line.startswith("RUN"))
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    assert "--require-hashes -r requirements-dev.lock" in makefile and "--no-deps -e" in makefile


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(AUDIT), *args], capture_output=True, text=True, timeout=60)


def test_the_audit_flags_a_pinned_version_with_an_advisory_offline(tmp_path):
    pinned = audit.pins()
    name, version = "jinja2", pinned["jinja2"]
    # A synthetic snapshot (made up for this test): one advisory on the pinned jinja2, a withdrawn one on click.
    snapshot = {"taken": "2000-01-01", "packages": {
        name: {version: [{"id": "TEST-0001", "fixed_in": ["999.0"], "summary": "synthetic"}]},
        "click": {pinned["click"]: [{"id": "TEST-0002", "withdrawn": "2000-01-02"}]}}}
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(snapshot), encoding="utf-8")
    bad = _run("--snapshot", str(path))
    assert bad.returncode == 1 and f"VULNERABLE {name}=={version}: TEST-0001" in bad.stdout
    assert "TEST-0002" not in bad.stdout and "not in the snapshot" in bad.stdout
    snapshot["packages"][name] = {"0.0.1": snapshot["packages"][name][version]}  # another version only
    path.write_text(json.dumps(snapshot), encoding="utf-8")
    assert _run("--snapshot", str(path)).returncode == 0
    missing = _run("--snapshot", str(tmp_path / "none.json"))
    assert missing.returncode == 0 and "SKIPPED" in missing.stdout and "--refresh" in missing.stdout


def test_the_locks_against_the_committed_snapshot():
    if not (REPO / "security" / "advisories.json").exists():
        pytest.skip("dependency audit skipped: no advisory snapshot committed (python security/audit.py --refresh)")
    result = _run()
    assert result.returncode == 0, result.stdout
