# Production image: the one-shot migrate job, gunicorn web, Celery worker and beat all run from
# it (docker-compose.yml). Dependencies come from the lock file: exact versions, every file's
# hash checked (requirements/base.txt, written by bin/lock). The code runs from /app as is.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORTAL_VAR_DIR=/var/lib/portal
WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/base.txt
# PORTAL_EXTRAS=spark (docker-compose.yml reads it from .env): the Spark Connect client as well,
# for warehouses at sc://host:port (issue 18). The same versions, from their own lock.
ARG PORTAL_EXTRAS=""
COPY requirements/spark.txt requirements/spark.txt
RUN case "$PORTAL_EXTRAS" in \
      "") ;; \
      spark) pip install --no-cache-dir --require-hashes -r requirements/spark.txt ;; \
      *) echo "PORTAL_EXTRAS must be empty or spark, not $PORTAL_EXTRAS" >&2; exit 1 ;; \
    esac
COPY manage.py pyproject.toml ./
COPY config config
COPY accounts accounts
COPY catalog catalog
COPY quality quality
COPY querying querying
COPY templates templates
COPY static static
# Static files are built into the image (whitenoise serves them from PORTAL_VAR_DIR/staticfiles).
# Settings need the two keys even for this: throwaway random ones that exist only in this step.
RUN SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    PII_HASH_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    CELERY_BROKER_URL=memory:// \
    python manage.py collectstatic --noinput --verbosity 0 \
 && useradd --system --home-dir /app --no-create-home portal \
 && chown portal /var/lib/portal
# The code and the static files stay root's: the portal writes only to /var/lib/portal.
USER portal
ENV PORT=8000
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--worker-class", "gthread", "--workers", "3", "--threads", "8", "--timeout", "120", "--keep-alive", "0"]
