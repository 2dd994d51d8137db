"""Everything `fundguard content check` reports about content/, for office staff editing it.

Problems (the command exits 1): an answer that breaks content/style.yaml (a 你, a first screen or a
sentence too long, a citation outside the allowed list), a campaign piece that says 你 or cites
outside the list, a tip category word that catches an ordinary sentence, and, in production, an
offices directory that is still sample data. Warnings (exit 0): the sample directory in development.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.campaigns.content import Library
from bot.knowledge import KnowledgeBase, Style, load_topic_ids
from bot.offices import OfficeDirectory
from bot.settings import offices_are_sample
from bot.tips.extract import Categories


@dataclass
class Report:
    topics: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def piece_problems(library: Library, style: Style) -> list[str]:
    out = []
    for pid, piece in library.pieces.items():
        for word in style.forbidden:
            if word in piece.title or word in piece.text or word in (piece.wechat.text or ""):
                out.append(f"campaign piece {pid}: says {word!r} (say 您)")
        for part in (p.strip() for p in piece.basis.split("；") if p.strip()):
            if style.citations and not part.startswith(tuple(style.citations)):
                out.append(f"campaign piece {pid}: citation not in the allowed list of style.yaml: {part}")
    return out


def check(content_dir: Path, environment: str = "development") -> Report:
    """Load and check every file of content/; a file that does not load at all raises ValueError."""
    offices = OfficeDirectory.load(content_dir / "offices.yaml")
    values = offices.placeholder_values()
    kb = KnowledgeBase.load(content_dir, load_topic_ids(content_dir / "spec" / "topics.yaml"), values)
    report = Report(topics=len(kb.topics), problems=kb.style_problems())
    library = Library.load(content_dir, values)
    report.problems += piece_problems(library, kb.style)
    report.problems += library.problems(set(kb.button_map()) | {t.title for t in kb.topics.values()})
    categories = Categories.load(content_dir / "tip_categories.yaml")
    report.problems += [f"tip_categories.yaml: an ordinary sentence is filed as a sector: {line}"
                        for line in categories.ordinary_misfiled()]
    if offices_are_sample(content_dir):
        note = ("offices.yaml is sample data (sample: true): put in the real phones, e-mails and addresses "
                "and set sample: false; production refuses to start until then")
        (report.problems if environment == "production" else report.warnings).append(note)
    return report
