"""`fundguard content check` reads every file of content/: garbage in any of them fails, naming the file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main

CONTENT = Path(__file__).resolve().parents[2] / "content"
FILES = sorted(str(p.relative_to(CONTENT)) for p in CONTENT.rglob("*.yaml"))
GARBAGE = {"not YAML": "garbage: [1, 2\n  - {", "not the schema": "- just\n- a list\n"}


def _run(content: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("FUNDGUARD_CONTENT_DIR", str(content))
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("FUNDGUARD_ENVIRONMENT", raising=False)
    return CliRunner().invoke(main, ["content", "check"])


def test_every_content_file_is_covered():
    assert {"offices.yaml", "red_flags.yaml", "wechat_menu.yaml", "topic_hints.yaml", "spec/red_flags.yaml",
            "campaigns/calendar.yaml", "topics/greet.yaml"} <= set(FILES)
    assert len(FILES) > 60


@pytest.mark.parametrize("kind", sorted(GARBAGE))
def test_garbage_in_any_content_file_fails_naming_it(kind, tmp_path, monkeypatch):
    assert _run(CONTENT, monkeypatch, tmp_path).exit_code == 0
    missed = []
    for i, name in enumerate(FILES):
        content = tmp_path / str(i)
        shutil.copytree(CONTENT, content)
        (content / name).write_text(GARBAGE[kind], encoding="utf-8")
        result = _run(content, monkeypatch, tmp_path)
        if result.exit_code != 1 or f"problem: {name}: does not load" not in result.output \
                or "content ok" in result.output:
            missed.append((name, result.exit_code, result.output[-300:]))
        shutil.rmtree(content)
    assert missed == []
