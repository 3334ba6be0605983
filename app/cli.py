"""The `yuqing` command: database, deploy, users, timers, controlled clock, server.

Each command calls operations; none contains business rules.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from app import clock
from app.engine.helpers import parse_duration
from app.operations import api_tokens, deliveries, imports, profiles, studio, timer_firing, users
from app.operations import clock as clock_ops
from app.operations import deploy as deploy_ops
from app.operations import jobs as job_ops
from app.operations.errors import DeployRefused, OperationError


def init_app(app: Flask) -> None:
    """Register the commands and the controlled clock on the app."""
    for command in (init_db, deploy, create_user, create_token, seed_demo, fire_timers, clock_group, serve, worker,
                    beat, jobs_group, contact, channels_group):
        app.cli.add_command(command)
    clock_ops.install(app)


def _create_app() -> Flask:
    from app import create_app  # noqa: PLC0415

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False)
def main() -> None:
    """Online public-opinion emergency response platform (网络舆情应急处置)."""


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or migrate the database to the newest schema, then add roles, units and profiles."""
    upgrade()
    added = users.ensure_roles_and_units()
    profiles_added = profiles.ensure_profiles()
    click.echo(f"database ready ({added} roles/units, {profiles_added} organisation profiles added)")


@click.command("deploy")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--forms", "forms_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--note", default="", help="change note recorded with the new versions")
@with_appcontext
def deploy(path: Path | None, forms_dir: Path | None, note: str) -> None:
    """Validate every file of PATH (default processes/) and forms/, store changed processes."""
    path = path or Path(current_app.config["PROCESSES_DIR"])
    forms_dir = forms_dir or Path(current_app.config["FORMS_DIR"])
    process_files, form_files = deploy_ops.read_directory(path, forms_dir)
    # Files made in other modellers are converted as the studio's upload does; the report is printed.
    process_files, form_files, report = imports.convert_for_deploy(process_files, form_files)
    for line in report:
        click.echo(line)
    try:
        # Files changed in the studio since the last deploy from disk stay as the studio left them.
        result = studio.deploy_from_disk(process_files, form_files, note)
    except DeployRefused as exc:
        click.echo(exc.message, err=True)
        for problem in exc.problems:
            where = problem["file"] + (f" · {problem['element']}" if problem["element"] else "")
            click.echo(f"  {where}: {problem['message']}", err=True)
            click.echo(f"    {problem['hint']}", err=True)
        sys.exit(1)
    for key, version in sorted(result.created.items()):
        click.echo(f"deployed {key} v{version}")
    for key in result.unchanged:
        click.echo(f"unchanged {key}")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True)
@click.option("--roles", required=True, help="comma-separated role codes")
@click.option("--unit", default=None, help="organisation unit code")
@click.password_option()
@with_appcontext
def create_user(username: str, display_name: str, roles: str, unit: str | None, password: str) -> None:
    """Create an account (the password must be changed at first login)."""
    try:
        users.create_user(username, display_name, password, [r.strip() for r in roles.split(",") if r.strip()],
                          unit_code=unit)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"created {username}")


@click.command("create-token")
@click.argument("name")
@click.option("--scopes", required=True, help=f"comma-separated, of: {', '.join(api_tokens.SCOPES)}")
@click.option("--roles", default="", help="comma-separated role codes of the token's service user")
@click.option("--unit", default=None, help="restrict the token to one organisation unit (code)")
@click.option("--expires", default=None, help="expiry as an ISO date-time with offset, e.g. 2027-06-30T00:00+08:00")
@click.option("--rate", default=api_tokens.DEFAULT_RATE, type=int, show_default=True, help="requests per minute")
@with_appcontext
def create_token(name: str, scopes: str, roles: str, unit: str | None, expires: str | None, rate: int) -> None:
    """Issue an API token; it is printed once and only its hash is kept."""
    expires_at = clock.parse_aware(expires) if expires else None
    if expires and expires_at is None:
        raise click.BadParameter("an ISO date-time with its offset, e.g. 2027-06-30T00:00+08:00",
                                 param_hint="--expires")
    try:
        _row, token = api_tokens.issue_token(
            name, None, scopes=[s.strip() for s in scopes.split(",") if s.strip()],
            roles=[r.strip() for r in roles.split(",") if r.strip()], unit_code=unit, expires_at=expires_at,
            rate_per_minute=rate)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(token)


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create demo users for every role and print their passwords (shown only this once)."""
    if not current_app.config["DEMO_PASSWORDS_ALLOWED"]:
        raise click.ClickException("demo users are not created in production")
    accounts = users.seed_demo_users(must_change_password=current_app.config["YQ_ENV"] != "development")
    if not accounts:
        click.echo("demo users already exist (passwords were printed when they were created)")
        return
    click.echo("demo users — write these passwords down, they are not shown again:")
    for account in accounts:
        click.echo(f"  {account.username:<14} {account.password:<20} {account.display_name} "
                   f"[{', '.join(account.roles)}]")


@click.command("fire-timers")
@with_appcontext
def fire_timers() -> None:
    """Fire every timer that is due now."""
    click.echo(f"fired timers of {timer_firing.fire_due_timers()} instances")


@click.group("clock")
def clock_group() -> None:
    """Controlled clock (not in production): set, advance, reset, show."""


@clock_group.command("set")
@click.argument("when")
@with_appcontext
def clock_set(when: str) -> None:
    """Pin the clock, e.g. 2026-11-25T09:00:00+08:00."""
    try:
        moment = datetime.fromisoformat(when)
        click.echo(clock_ops.set_clock(moment).isoformat())
    except (ValueError, OperationError) as exc:
        raise click.ClickException(str(exc)) from exc


@clock_group.command("advance")
@click.argument("duration")
@with_appcontext
def clock_advance(duration: str) -> None:
    """Advance by an ISO duration such as PT30M, PT12H or P1D."""
    try:
        delta: timedelta = parse_duration(duration)
        click.echo(clock_ops.advance_clock(delta).isoformat())
    except (ValueError, OperationError) as exc:
        raise click.ClickException(str(exc)) from exc


@clock_group.command("reset")
@with_appcontext
def clock_reset() -> None:
    """Back to real time."""
    try:
        click.echo(clock_ops.reset_clock().isoformat())
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc


@clock_group.command("show")
@with_appcontext
def clock_show() -> None:
    """Print the app's current time."""
    click.echo(clock.now().isoformat())


@click.command("serve")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--worker/--no-worker", default=True, help="run the embedded worker thread (timers, jobs)")
@with_appcontext
def serve(host: str, port: int, worker: bool) -> None:
    """Serve the app (threaded) with the embedded worker: the one-command shape of `make run`."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if worker:
        from app.jobs import embedded  # noqa: PLC0415

        embedded.start(app)
        click.echo(f"embedded worker started (polls every {app.config['WORKER_POLL_SECONDS']} s)")
    # werkzeug directly: Flask's app.run() does nothing inside its own CLI (FLASK_RUN_FROM_CLI).
    click.echo(f"serving http://{host}:{port}")
    run_simple(host, port, app, threaded=True, use_reloader=False, use_debugger=False)


@click.command("worker", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def worker(celery_args: tuple[str, ...]) -> None:
    """Run a Celery worker on the configured broker (extra arguments go to Celery, e.g. -c 2)."""
    from app.jobs.celery_app import create_celery  # noqa: PLC0415

    celery = create_celery(current_app._get_current_object())  # type: ignore[attr-defined]
    celery.worker_main(["worker", "--loglevel=INFO", *celery_args])


@click.command("beat", context_settings={"ignore_unknown_options": True})
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@with_appcontext
def beat(celery_args: tuple[str, ...]) -> None:
    """Run Celery beat: the periodic sweep that fires timers and re-sends lost jobs."""
    from app.jobs.celery_app import create_celery  # noqa: PLC0415

    celery = create_celery(current_app._get_current_object())  # type: ignore[attr-defined]
    celery.start(["beat", "--loglevel=INFO", "--schedule", str(Path(current_app.config["INSTANCE_PATH"])
                                                                   / "celerybeat-schedule"), *celery_args])


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs: list failures, retry, dismiss, run due jobs once."""


@jobs_group.command("failures")
@with_appcontext
def jobs_failures() -> None:
    """List jobs that gave up (retry or dismiss them)."""
    for job in job_ops.list_jobs("failed"):
        click.echo(f"#{job.id} {job.kind} attempts={job.attempts} last={job.last_failed_at} {job.last_error}")


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_retry(job_id: int) -> None:
    """Queue a failed job again."""
    try:
        job_ops.retry_job(job_id, None)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"job #{job_id} queued again")


@jobs_group.command("dismiss")
@click.argument("job_id", type=int)
@click.option("--reason", required=True)
@with_appcontext
def jobs_dismiss(job_id: int, reason: str) -> None:
    """Give up on a failed job, with a reason."""
    try:
        job_ops.dismiss_job(job_id, None, reason)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"job #{job_id} dismissed")


@jobs_group.command("run")
@with_appcontext
def jobs_run() -> None:
    """Fire due timers and run every due job once, in this process."""
    from app.jobs.registry import run_due, worker_id  # noqa: PLC0415

    fired = timer_firing.fire_due_timers()
    ran = run_due(worker_id("cli"), limit=1000)
    click.echo(f"fired timers of {fired} instances, ran {ran} jobs")


@click.command("contact")
@click.argument("username")
@click.option("--email", default="", help="where e-mail notifications go (empty clears)")
@click.option("--phone", default="", help="where SMS notifications go (empty clears)")
@with_appcontext
def contact(username: str, email: str, phone: str) -> None:
    """Set a person's e-mail address and mobile number for notifications."""
    try:
        users.set_contact(username, email=email or None, phone=phone or None)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"contact of {username} updated")


@click.group("channels")
def channels_group() -> None:
    """Notification destinations: group robots, webhooks, the SMS gateway."""


@channels_group.command("list")
@with_appcontext
def channels_list() -> None:
    """List registered channels."""
    for channel in deliveries.list_channels():
        state = "active" if channel.active else "inactive"
        click.echo(f"#{channel.id} {channel.name} [{channel.kind}] {channel.address} kinds={','.join(channel.kinds)}"
                   f"{' urgent-only' if channel.urgent_only else ''} {state}")


@channels_group.command("add")
@click.argument("name")
@click.argument("kind", type=click.Choice(["webhook", "dingtalk", "wecom", "sms"]))
@click.argument("url")
@click.option("--secret", default=None, help="DingTalk signing secret or bearer token")
@click.option("--kinds", default="*", help="comma-separated notification types, * for all")
@click.option("--urgent-only", is_flag=True)
@click.option("--allow-network", "allow_networks", multiple=True, help="intranet CIDR deliberately allowed")
@click.option("--allow-http", is_flag=True, help="the endpoint is a plain-http intranet address")
@with_appcontext
def channels_add(name: str, kind: str, url: str, **options: object) -> None:
    """Register a destination (checked against the SSRF rules now and at every send)."""
    kinds = str(options["kinds"])
    spec = deliveries.ChannelSpec(name=name, kind=kind, address=url, secret=options["secret"],  # type: ignore[arg-type]
                                  kinds=tuple(k.strip() for k in kinds.split(",") if k.strip()),
                                  urgent_only=bool(options["urgent_only"]),
                                  allow_networks=tuple(options["allow_networks"]),  # type: ignore[arg-type]
                                  allow_http=bool(options["allow_http"]))
    try:
        channel = deliveries.register_channel(spec, None)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"registered channel #{channel.id} {channel.name}")


@channels_group.command("remove")
@click.argument("channel_id", type=int)
@with_appcontext
def channels_remove(channel_id: int) -> None:
    """Deactivate a channel."""
    try:
        deliveries.deactivate_channel(channel_id, None)
    except OperationError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"channel #{channel_id} deactivated")


if __name__ == "__main__":
    main()
