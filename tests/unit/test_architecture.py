"""DESIGN.md's layout as tests: no import cycles, the layers' dependency rules, modules and functions small."""

from __future__ import annotations

import ast
import re

import pytest

from tests.architecture import cycles, graph, modules

CORE = ("bot.dialogue", "bot.tips", "bot.campaigns", "bot.knowledge", "bot.riskcheck", "bot.store", "bot.staff",
        "bot.messages", "bot.offices", "bot.media")
WEB = ("webhook", "fastapi", "starlette", "uvicorn")
SDKS = {"wechatpy": "bot.channels.wechat", "telegram": "bot.channels.telegram"}
MODULE_LINES = 250
FUNCTION_LINES = 60
# given their parts by the composition root (bot/bootstrap), never reaching for it
WIRED = ("bot.channels", "bot.campaigns", "bot.staff", "bot.tips", "bot.dialogue")
# the concrete adapters, constructed by bot/bootstrap only
ADAPTERS = ("WeChatClient", "WeChatGateway", "WeChatDialogue", "WeChatProtocol", "TelegramSender", "TelegramWebhook",
            "TelegramParts", "Engine", "TurnRunner", "RasaHTTP", "FallbackNLU", "RapidOcrReader", "PictureReader",
            "LinkReader", "TipFlow", "TipService", "StaffKit", "StaffDirectory", "Authenticator")


def _within(name: str, prefixes: tuple[str, ...] | str) -> bool:
    prefixes = (prefixes,) if isinstance(prefixes, str) else prefixes
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _outside_imports(path) -> set[str]:  # type: ignore[no-untyped-def]
    """Top-level names of every import in a file, TYPE_CHECKING blocks included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module)
    return names


def test_the_import_graph_is_read_from_every_package() -> None:
    edges = graph()
    assert {"bot.dialogue.engine", "webhook.app", "nlu.embedded"} <= set(edges)
    assert "bot.riskcheck.lexicon" in edges["bot.riskcheck.check"]


def test_cycles_are_found_when_there_is_one() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    assert cycles(graph()) == []


def test_the_core_imports_no_web_framework_and_no_chat_sdk() -> None:
    bad = [(name, target) for name, path in modules().items() if _within(name, CORE)
           for target in _outside_imports(path) if _within(target, (*WEB, *SDKS))]
    assert bad == []


def test_chat_sdks_stay_in_their_channel() -> None:
    bad = [(name, target) for name, path in modules().items() for target in _outside_imports(path)
           for sdk, home in SDKS.items() if _within(target, sdk) and not _within(name, home)]
    assert bad == []


def test_channels_import_nothing_of_each_other() -> None:
    channels = ("bot.channels.wechat", "bot.channels.telegram")
    bad = [(name, target) for name, path in modules().items() for mine in channels if _within(name, mine)
           for target in _outside_imports(path) for other in channels if other != mine and _within(target, other)]
    assert bad == []


def test_the_core_never_imports_the_web_app() -> None:
    """bot/ never imports webhook/, except the command line, an entry point like the web app itself."""
    bad = [(name, target) for name, path in modules().items() if _within(name, "bot") and not _within(name, "bot.cli")
           for target in _outside_imports(path) if _within(target, "webhook")]
    assert bad == []


@pytest.mark.parametrize("name", sorted(modules()))
def test_modules_and_functions_stay_small(name: str) -> None:
    source = modules()[name].read_text(encoding="utf-8")
    assert len(source.splitlines()) <= MODULE_LINES
    long = [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and (node.end_lineno or 0) - node.lineno + 1 > FUNCTION_LINES]
    assert long == []


def test_wired_parts_never_import_the_composition_root() -> None:
    bad = [(name, target) for name, path in modules().items() if _within(name, WIRED)
           for target in _outside_imports(path) if _within(target, "bot.bootstrap")]
    assert bad == []


def _constructed(path) -> set[str]:  # type: ignore[no-untyped-def]
    """Names called as constructors in a file (`Name(...)`, `module.Name(...)`, `cls(...)` aside)."""
    called: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            called.add(func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "")
    return called


def test_only_the_bootstrap_constructs_the_concrete_adapters() -> None:
    bad = [(name, adapter) for name, path in modules().items() if not _within(name, "bot.bootstrap")
           for adapter in sorted(_constructed(path) & set(ADAPTERS))]
    assert bad == []


CONSOLE = modules()["webhook.console"].parent
SESSION_CALL = re.compile(r"\bsession\s*\.\s*(execute|scalars?|get|add|add_all|delete|flush|commit|rollback|query)"
                          r"\s*\(|(?<![.\w])(select|update|delete|insert)\s*\(")


def test_the_console_makes_no_session_or_sql_calls() -> None:
    """The console's routes verify, parse, call a use case of bot/staff and render: no database code."""
    bad = [(path.name, n, line.strip()) for path in sorted(CONSOLE.glob("*.py"))
           for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if SESSION_CALL.search(line)]
    assert bad == []
    assert SESSION_CALL.search("ctx.session.get(Tip, 1)") and SESSION_CALL.search("q = select(AuditEntry)")
    imports = {target for path in CONSOLE.glob("*.py") for target in _outside_imports(path)}
    assert not any(_within(target, "sqlalchemy") for target in imports)
