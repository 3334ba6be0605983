# The application image: web (gunicorn), worker and beat all run it with different commands.
# Front-end assets come from npm at build time; nothing is downloaded when the container runs.

FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    YQ_INSTANCE_PATH=/var/lib/yuqing
WORKDIR /srv/yuqing
RUN useradd --system --create-home --home-dir /var/lib/yuqing yuqing
COPY pyproject.toml README.md ./
COPY app ./app
COPY processes ./processes
COPY forms ./forms
COPY tools ./tools
COPY assets ./assets
COPY babel.cfg gunicorn.conf.py ./
COPY --from=assets /build/node_modules ./node_modules
# Runtime dependencies only (the `server` extra is gunicorn; no test or lint tools). The assets and
# the compiled catalogues go into the tree before it is installed for good, so the installed package
# carries them; the tree's app/ then goes, and gunicorn, the Celery workers and the CLI all import
# that one installed copy. processes/ and forms/ stay here for `yuqing deploy`.
RUN pip install --upgrade pip && pip install '.[server]' \
    && python tools/copy_assets.py && rm -rf node_modules \
    && pybabel compile -d app/translations \
    && pip install --no-deps --force-reinstall . \
    && rm -rf app tools assets build ./*.egg-info
ENV YQ_PROCESSES_DIR=/srv/yuqing/processes YQ_FORMS_DIR=/srv/yuqing/forms
USER yuqing
EXPOSE 8000
CMD ["gunicorn", "--config", "gunicorn.conf.py", "app:create_app()"]
