FROM python:3.11-slim
WORKDIR /srv/fundguard
# OpenCV (under rapidocr-onnxruntime, which reads pictures sent to the bot) loads libGL and GLib
RUN apt-get update && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY bot bot
COPY nlu nlu
COPY webhook webhook
COPY content content
RUN pip install --no-cache-dir .
ENV FUNDGUARD_CONTENT_DIR=/srv/fundguard/content FUNDGUARD_NLU_DATA_DIR=/srv/fundguard/nlu/rasa/data
EXPOSE 8000
CMD ["fundguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
