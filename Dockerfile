FROM python:3.11-slim
WORKDIR /srv/fundguard
# OpenCV (under rapidocr-onnxruntime, which reads pictures sent to the bot) loads libGL and GLib
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
# Dependencies exactly as locked (versions and hashes): requirements.lock is made from pyproject.toml with
# pip-compile (see the README's security section); the app itself is installed without resolving anything.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot bot
COPY nlu nlu
COPY webhook webhook
COPY content content
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --user-group --home-dir /srv/fundguard --shell /usr/sbin/nologin fundguard \
    && mkdir -p /data && chown fundguard:fundguard /data
ENV FUNDGUARD_CONTENT_DIR=/srv/fundguard/content FUNDGUARD_NLU_DATA_DIR=/srv/fundguard/nlu/rasa/data
# Not root: the process can write only its data folder (/data, the compose volume).
USER fundguard
EXPOSE 8000
CMD ["fundguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
