FROM python:3.11-slim
WORKDIR /srv/fundguard
COPY pyproject.toml README.md ./
COPY bot bot
COPY nlu nlu
COPY webhook webhook
COPY content content
RUN pip install --no-cache-dir .
ENV FUNDGUARD_CONTENT_DIR=/srv/fundguard/content FUNDGUARD_NLU_DATA_DIR=/srv/fundguard/nlu/rasa/data
EXPOSE 8000
CMD ["fundguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
