"""Everything `fundguard content check` reports about content/, for office staff editing it.

Every YAML file of content/ is read by the loader the app uses; a file that does not parse or breaks
its schema is a problem naming the file. Other problems (the command exits 1): an answer that breaks
content/style.yaml (a 你, a first screen or a sentence too long, a citation outside the allowed list),
a campaign piece that says 你 or cites outside the list, a tip category word that catches an ordinary
sentence, and, in production, an offices directory that is still sample data. Warnings (exit 0): the
sample directory in development.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from bot.campaigns.content import Library, read_calendar, read_piece
from bot.channels.wechat.menu import Menu
from bot.dialogue.hints import TopicHints
from bot.knowledge import KnowledgeBase, Style, TopicAnswer, load_topic_ids
from bot.offices import OfficeDirectory
from bot.riskcheck.lexicon import Lexicon, spec_flag_ids
from bot.settings import offices_are_sample
from bot.tips.extract import Categories

T = TypeVar("T")
MESSAGE_LINES = 6  # a schema error can be long: its first lines say what and where


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


class Reader:
    """Loads one file after another; a file that fails becomes a problem naming it, and None."""

    def __init__(self, content_dir: Path, report: Report) -> None:
        self.root = content_dir
        self.report = report

    def __call__(self, name: str, load: Callable[[Path], T]) -> T | None:
        try:
            return load(self.root / name)
        except Exception as exc:  # noqa: BLE001 — whatever a loader raises, staff see the file and why
            lines = [line for line in str(exc).splitlines() if line.strip()][:MESSAGE_LINES]
            self.report.problems.append(f"{name}: does not load: {' '.join(lines) or type(exc).__name__}")
            return None

    def each(self, folder: str, load: Callable[[Path], T]) -> dict[str, T] | None:
        """Every *.yaml of a folder by its stem; None when any of them fails."""
        found: dict[str, T] = {}
        for path in sorted((self.root / folder).glob("*.yaml")):
            value = self(f"{folder}/{path.name}", load)
            if value is not None:
                found[path.stem] = value
        return found if len(found) == len(list((self.root / folder).glob("*.yaml"))) else None


@dataclass
class Loaded:
    offices: OfficeDirectory | None
    categories: Categories | None
    kb: KnowledgeBase | None = None
    library: Library | None = None


def _load_all(read: Reader) -> Loaded:
    """Every file on its own, then the sets that are checked together (topics, campaigns)."""
    root = read.root
    offices = read("offices.yaml", OfficeDirectory.load)
    values = offices.placeholder_values() if offices else {}
    topic_ids = read("spec/topics.yaml", load_topic_ids)
    read("spec/red_flags.yaml", lambda p: spec_flag_ids.__wrapped__(p.parent))  # uncached: this very file
    read("red_flags.yaml", lambda p: Lexicon.load(p, root / "spec"))
    read("wechat_menu.yaml", Menu.load)
    loaded = Loaded(offices, read("tip_categories.yaml", Categories.load))
    style = read("style.yaml", lambda p: Style.load(p.parent))
    topics = read.each("topics", TopicAnswer.read)
    pieces = read.each("campaigns/pieces", read_piece)
    calendar = read("campaigns/calendar.yaml", read_calendar)
    if topic_ids is not None:
        read("topic_hints.yaml", lambda p: TopicHints.load(p, topic_ids))
        if topics is not None and style is not None:
            loaded.kb = read("topics", lambda _: KnowledgeBase.load(root, topic_ids, values))
    if pieces is not None and calendar is not None:
        loaded.library = read("campaigns", lambda _: Library.load(root, values))
    return loaded


def check(content_dir: Path, environment: str = "development") -> Report:
    """Load and check every file of content/; each file that does not load is a problem naming it."""
    report = Report()
    read = Reader(content_dir, report)
    loaded = _load_all(read)
    kb, library = loaded.kb, loaded.library
    if kb is not None:
        report.topics = len(kb.topics)
        report.problems += kb.style_problems()
        if library is not None:
            report.problems += piece_problems(library, kb.style)
            report.problems += library.problems(set(kb.button_map()) | {t.title for t in kb.topics.values()})
    if loaded.categories is not None:
        report.problems += [f"tip_categories.yaml: an ordinary sentence is filed as a sector: {line}"
                            for line in loaded.categories.ordinary_misfiled()]
    if loaded.offices is not None and offices_are_sample(content_dir):
        note = ("offices.yaml is sample data (sample: true): put in the real phones, e-mails and addresses "
                "and set sample: false; production refuses to start until then")
        (report.problems if environment == "production" else report.warnings).append(note)
    return report
