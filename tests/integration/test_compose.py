"""docker-compose.yml is checked, not run (no Docker engine here): a linter with the Compose schema, and
the project's own consistency — every service, command, variable, volume and file it names exists."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from tests.conftest import IN_CI, REPO

COMPOSE = REPO / "docker-compose.yml"
DCLINT_DIR = REPO / ".cache" / "dclint"
DCLINT = DCLINT_DIR / "node_modules" / ".bin" / "dclint"


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _dclint() -> Path:
    if DCLINT.exists():
        return DCLINT
    if shutil.which("npm") is None:
        if IN_CI:
            pytest.fail("npm is needed to install the Compose linter (dclint)")
        pytest.skip("npm not installed")
    DCLINT_DIR.mkdir(parents=True, exist_ok=True)
    subprocess.run(["npm", "install", "--prefix", str(DCLINT_DIR), "--no-audit", "--no-fund", "--silent",
                    "dclint@3.1.0"], check=True, timeout=300, capture_output=True)
    return DCLINT


def test_the_compose_linter_finds_no_error() -> None:
    result = subprocess.run([str(_dclint()), str(COMPOSE)], cwd=REPO, capture_output=True, text=True, timeout=120,
                            env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_whole_system_is_there() -> None:
    services = compose()["services"]
    assert {"app", "console", "worker", "rasa", "postgres", "redis"} <= set(services)
    assert services["rasa"]["image"] == "rasa/rasa:3.6.21-full"
    assert (REPO / services["app"]["build"] if isinstance(services["app"]["build"], str)
            else REPO / services["app"]["build"]["context"]).joinpath("Dockerfile").exists()
    for name, svc in services.items():
        for dep in svc.get("depends_on", {}) or {}:
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_every_fundguard_command_and_setting_exists() -> None:
    from click.testing import CliRunner

    from bot.cli import main

    fields = {f"FUNDGUARD_{name.upper()}" for name in Settings.model_fields}
    for name, svc in compose()["services"].items():
        command = svc.get("command") or []
        if command and command[0] == "fundguard":
            args = [a for a in command[1:] if not a.startswith("-")][:2]
            result = CliRunner().invoke(main, [*args[:1], "--help"])
            assert result.exit_code == 0, f"{name}: `fundguard {args[0]}` does not exist"
        env = svc.get("environment") or {}
        for var in env:
            if var.startswith("FUNDGUARD_"):
                assert var in fields, f"{name} sets {var}, which no setting reads"


def test_every_variable_is_documented_and_every_volume_declared() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    example = (REPO / ".env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.M))
    for var in set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text)):
        assert var in documented, f"{var} is used by docker-compose.yml but not in .env.example"
    from bot.campaigns.config import CampaignConfig

    fields = {f"FUNDGUARD_{name.upper()}" for name in Settings.model_fields}
    fields |= {f"FUNDGUARD_CAMPAIGN_{name.upper()}" for name in CampaignConfig.model_fields}
    for var in documented:
        if var.startswith("FUNDGUARD_"):
            assert var in fields, f".env.example documents {var}, which no setting reads"
    data = compose()
    declared = set(data.get("volumes") or {})
    for name, svc in data["services"].items():
        for volume in svc.get("volumes") or []:
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("./var/"):  # made on the host by a Makefile target (e.g. `make rasa`)
                target = source.split("/")[2]
                assert target in (REPO / "Makefile").read_text(encoding="utf-8"), f"nothing makes {source}"
            elif source.startswith((".", "/")):
                assert (REPO / source).exists() or source.startswith("/"), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"


def test_the_dockerfile_copies_what_exists() -> None:
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            for src in line.split()[1:-1]:
                assert (REPO / src).exists(), f"Dockerfile copies missing {src}"
