# FundGuard — `make run` and `make test` bootstrap .venv themselves.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
export FUNDGUARD_DATA_DIR ?= var

.PHONY: install run test lint chat browser clean

$(BIN)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e '.[dev]'
	touch $@

install: $(BIN)/.installed  ## create .venv with the app and its dev tools

run: install  ## migrate and serve on the embedded default (SQLite under ./var, in-process NLU)
	$(BIN)/fundguard db upgrade
	$(BIN)/fundguard serve --host $(HOST) --port $(PORT)

chat: install  ## talk to the bot in the terminal
	$(BIN)/fundguard db upgrade
	$(BIN)/fundguard chat

browser:  ## Debian's Chromium and CJK fonts for the browser tests (installed when missing and we are root)
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="chromium"; \
	fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing:$$missing (browser tests will be skipped or show boxes for Chinese outside CI)"; fi; fi

# The suite runs in parallel (pytest-xdist), one worker per CPU up to 4; a test module stays in one worker (its
# servers and fixtures are shared), the slowest modules first. PYTEST_WORKERS=0: one process, collection order.
PYTEST_WORKERS ?= auto

test: lint browser  ## lint (ruff, mypy), then the whole suite
	$(BIN)/python -m pytest -q -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder

lint: install  ## ruff and mypy (settings in pyproject.toml); both must report zero errors
	$(BIN)/ruff check bot nlu webhook tests
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache

# --- Rasa (issue 5): its own venv with pyenv's Python 3.10 (Rasa 3.6 needs ≤ 3.10); never the app's .venv ---
RASA_VENV ?= $(or $(FUNDGUARD_RASA_VENV),.venv-rasa)

.PHONY: rasa rasa-venv rasa-serve

$(RASA_VENV)/.installed:
	@py="$$(ls -d "$$(pyenv root 2>/dev/null || echo "$$HOME/.pyenv")"/versions/3.10.* 2>/dev/null | sort -V | tail -n 1)"; \
	if [ -n "$$py" ]; then py="$$py/bin/python"; else py="$$(command -v python3.10 || true)"; fi; \
	if [ -z "$$py" ]; then echo "Rasa 3.6 needs Python 3.10: pyenv install 3.10" >&2; exit 1; fi; \
	echo "creating $(RASA_VENV) with $$py"; \
	"$$py" -m venv --clear $(RASA_VENV)
	$(RASA_VENV)/bin/pip install --quiet --disable-pip-version-check --upgrade "pip<24.1"
	$(RASA_VENV)/bin/pip install --quiet --disable-pip-version-check "rasa[jieba]==3.6.21"
	touch $@

rasa-venv: $(RASA_VENV)/.installed  ## only Rasa's venv

rasa: install rasa-venv  ## Rasa's venv, `rasa data validate`, a model trained on all of nlu/rasa/data into var/rasa/models
	FUNDGUARD_RASA_VENV=$(abspath $(RASA_VENV)) $(BIN)/fundguard nlu train --backend rasa

rasa-serve: install  ## serve the newest Rasa model on 127.0.0.1:5005 (token: FUNDGUARD_RASA_TOKEN)
	FUNDGUARD_RASA_VENV=$(abspath $(RASA_VENV)) $(BIN)/fundguard rasa serve
