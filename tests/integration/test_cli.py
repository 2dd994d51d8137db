"""The `fundguard` command: chat in the terminal, content check, NLU evaluation, db upgrade."""

from __future__ import annotations

from click.testing import CliRunner

from bot.cli import main as cli


def _env(monkeypatch, data_dir, db_url):
    monkeypatch.setenv("FUNDGUARD_DATA_DIR", str(data_dir))
    monkeypatch.setenv("FUNDGUARD_DATABASE_URL", db_url)
    monkeypatch.setenv("FUNDGUARD_KDF_STRENGTH", "min")


def test_terminal_chat_uses_the_same_engine(monkeypatch, nlu_data_dir_path, embedded_nlu, sqlite_url):
    _env(monkeypatch, nlu_data_dir_path, sqlite_url)
    result = CliRunner().invoke(cli, ["chat"], input="啥叫非法集资\n我要举报\n取消\n")
    assert result.exit_code == 0, result.output
    assert "topic=definition" in result.output
    assert "expects=region" in result.output and "已取消" in result.output


def test_content_check_and_db_upgrade(monkeypatch, tmp_path):
    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(cli, ["content", "check"])
    assert result.exit_code == 0 and "40 topics" in result.output
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and (tmp_path / "x.db").exists()


def test_nlu_eval_prints_accuracy_and_per_topic_figures(monkeypatch, nlu_data_dir_path, embedded_nlu, tmp_path):
    _env(monkeypatch, nlu_data_dir_path, f"sqlite:///{tmp_path / 'x.db'}")
    result = CliRunner().invoke(cli, ["nlu", "eval"])
    assert result.exit_code == 0, result.output
    assert "top-1 accuracy:" in result.output and "definition" in result.output and "macro F1" in result.output
    accuracy = float(result.output.split("top-1 accuracy:")[1].split()[0])
    assert accuracy >= 0.92


def test_nlu_eval_both_without_rasa_still_prints_the_embedded_half(monkeypatch, nlu_data_dir_path, embedded_nlu,
                                                                   tmp_path):
    from tests.conftest import free_port

    _env(monkeypatch, nlu_data_dir_path, f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("FUNDGUARD_RASA_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    result = CliRunner().invoke(cli, ["nlu", "eval", "--backend", "both"])
    assert result.exit_code == 1  # incomplete, and says so
    assert "top-1 accuracy:" in result.output and "macro F1" in result.output
    assert "Rasa does not answer" in result.output and "only the embedded results" in result.output


def test_the_readme_command_table_names_every_command_group():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("## The `fundguard` command")[1].split("\n## ")[0]
    listed = set(re.findall(r"^fundguard (\w[\w-]*)", table, re.M))
    assert set(cli.commands) <= listed, f"missing from the README: {sorted(set(cli.commands) - listed)}"


def test_serve_refuses_a_trusted_proxy_that_is_no_address(monkeypatch, tmp_path):
    from bot.cli.serve import trusted_proxies

    _env(monkeypatch, tmp_path, f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("FUNDGUARD_TRUSTED_PROXIES", "10.0.0.5, nginx")
    result = CliRunner().invoke(cli, ["serve", "--port", "1"])
    assert result.exit_code == 2 and "'nginx' is not an IP address or network" in result.output
    assert not (tmp_path / "x.db").exists()  # refused before anything started
    assert trusted_proxies(" 127.0.0.1, 172.16.0.0/12 ,,") == ["127.0.0.1", "172.16.0.0/12"]
    assert trusted_proxies("") == []
