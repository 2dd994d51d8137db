"""Reads the Rasa-format NLU data (nlu/rasa/data/**.yml) and the held-out set (nlu/heldout/*.yml)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

import yaml

_ENTITY = re.compile(r"\[([^\]]+)\]\([^)]+\)|\[([^\]]+)\]\{[^}]+\}")


def _strip_entities(line: str) -> str:
    return _ENTITY.sub(lambda m: m.group(1) or m.group(2), line)


def read_nlu_files(paths: Iterable[Path]) -> list[tuple[str, str]]:
    """(text, intent) pairs from Rasa YAML files, entity markup removed."""
    pairs: list[tuple[str, str]] = []
    for path in sorted(paths):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in doc.get("nlu", []) or []:
            intent = block.get("intent")
            if not intent:
                continue
            for line in str(block.get("examples", "")).splitlines():
                line = line.strip()
                if line.startswith("- "):
                    text = _strip_entities(line[2:].strip())
                    if text:
                        pairs.append((text, intent))
    return pairs


def training_files(data_dir: Path) -> list[Path]:
    return sorted(p for p in data_dir.rglob("*.yml") if "nlu" in p.relative_to(data_dir).parts[:1])


def load_training(data_dir: Path) -> list[tuple[str, str]]:
    return read_nlu_files(training_files(data_dir))


def load_heldout(heldout_dir: Path) -> list[tuple[str, str]]:
    return read_nlu_files(heldout_dir.glob("*.yml"))


def data_hash(pairs: list[tuple[str, str]], salt: str = "") -> str:
    h = hashlib.sha256(salt.encode())
    for text, intent in pairs:
        h.update(f"{intent}\t{text}\n".encode())
    return h.hexdigest()[:16]
