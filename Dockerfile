# policybot: one small process. The database (SQLite by default) lives on the /data volume;
# set POLICYBOT_DATABASE_URL to a PostgreSQL URL to run several replicas instead.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 policybot && mkdir /data && chown policybot /data
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER policybot
WORKDIR /data
VOLUME /data
ENV POLICYBOT_DATABASE_URL=sqlite:////data/policybot.db \
    PYTHONUNBUFFERED=1
# SIGTERM stops claiming new work, finishes or releases what is in flight, then exits.
STOPSIGNAL SIGTERM
CMD ["policybot", "run"]
