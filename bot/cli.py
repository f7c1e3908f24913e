"""allybot command line: shell | serve | check | manifest | db | demo | stats |
allies import|export."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from bot import logs
from bot.app import build
from bot.config import Settings, load_settings
from handlers.content import Content, load_content
from handlers.yamlfile import Problem, ProblemsFound


def _settings(demo: bool = False) -> Settings:
    settings = load_settings()
    if demo:
        # Always a fresh SQLite file of its own, never DATABASE_URL: the demo starts the same
        # every time and can never write demo people into a real organisation's database.
        demo_db = settings.data_dir / "demo.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{demo_db}{suffix}").unlink(missing_ok=True)
        settings = Settings(**{**settings.__dict__, "database_url": f"sqlite:///{demo_db}"})
    return settings


def _logging(settings: Settings, quiet: bool = False) -> None:
    level = settings.log_level if os.environ.get("LOG_LEVEL") or not quiet else "WARNING"
    logs.configure(level, settings.log_level_sdk)


def cmd_shell(args: argparse.Namespace) -> int:
    from bot.platforms.shell.console import Shell

    settings = _settings(demo=args.demo)
    _logging(settings, quiet=True)
    bot = build(settings)
    if args.demo:
        bot.seed_demo()
    shell = Shell(bot, persona=args.persona.lower())
    if sys.stdin.isatty():
        asyncio.run(shell.run_async(sys.stdin))
    else:
        shell.run(sys.stdin)
    bot.db.dispose()
    return 0


def cmd_serve(_args: argparse.Namespace) -> int:
    from bot.app import NEW_KEY
    from bot.serve import serve

    settings = load_settings()
    _logging(settings)
    if not settings.secret_key and not settings.database_url.startswith("sqlite"):
        # Every replica must open what the others sealed, so a per-machine key will not do.
        raise ProblemsFound(
            [
                Problem(
                    "environment",
                    None,
                    "ALLYBOT_SECRET_KEY is required with a shared database",
                    f"set the same key on every replica; make one with: {NEW_KEY}",
                )
            ]
        )
    bot = build(settings)
    asyncio.run(serve(bot))
    bot.db.dispose()
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    problems = []
    try:
        settings = load_settings()
    except ProblemsFound as exc:
        problems.extend(exc.problems)
        settings = None
    try:
        content = load_content()
    except ProblemsFound as exc:
        problems.extend(exc.problems)
        content = None
    if settings is not None:
        problems.extend(_key_problems(settings))
    problems.extend(_model_problems())
    teams = settings is not None and content is not None and bool(settings.teams_app_id)
    if teams:
        assert settings is not None and content is not None
        problems.extend(_teams_package_problems(settings, content))
    if problems:
        print(f"{len(problems)} problem(s) found:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    assert settings is not None and content is not None
    print(
        f"ok: {settings.config_path.name} ({settings.app.organisation.name}) and content/ "
        f"({len(content.texts)} messages, {len(content.resources.regions)} resource regions, "
        f"{len(content.awareness)} awareness entries)"
    )
    if teams:
        print(f"ok: Teams app package for app id {settings.teams_app_id}")
    return _check_online(settings) if args.online else 0


CORPUS_DIR = Path(__file__).resolve().parent.parent / "bench" / "corpus"


def _model_problems(corpus: Path = CORPUS_DIR) -> list[Problem]:
    """The shipped models load, and (in a source tree, where the corpus is) each was trained on
    the corpus beside it: weights that claim another corpus are refused."""
    from handlers import intents
    from handlers.safety import model

    problems = []
    for name, package, file, part_files in (
        (
            "crisis",
            "handlers.safety",
            model.MODEL_FILE,
            lambda d: [p for part in ("train", "dev") for p in sorted((d / part).glob("*.jsonl"))],
        ),
        ("intents", "handlers", intents.MODEL_FILE, lambda d: [d / "train.jsonl", d / "dev.jsonl"]),
    ):
        where = f"{package.replace('.', '/')}/{file}"
        try:
            meta = model.Linear(model.read(package, file)).meta
        except Exception as exc:
            problems.append(
                Problem(
                    where,
                    None,
                    f"the {name} model cannot be read ({exc})",
                    "train it again: python -m bench.train_" + name,
                )
            )
            continue
        folder = corpus / name
        if not folder.is_dir():
            continue  # an installed package ships the model without its corpus
        files = part_files(folder)
        if meta.get("corpus") != model.corpus_digest([p.read_bytes() for p in files]):
            problems.append(
                Problem(
                    where,
                    None,
                    f"the {name} model was not trained on the corpus in bench/corpus/{name}",
                    f"train it again: python -m bench.train_{name}",
                )
            )
    return problems


TEAMS_PACKAGE = "Teams app package"
TEAMS_PACKAGE_FIX = (
    "it is built from app.yaml, content/teams.yaml and the commands in content/messages.yaml: "
    "correct the value named there"
)
TEAMS_APP_ID_FIX = (
    "use the bot's Microsoft App ID, a GUID such as 123e4567-e89b-12d3-a456-426614174000, "
    "shown on its Azure Bot resource under Configuration"
)


def _teams_package_problems(settings: Settings, content: Content) -> list[Problem]:
    """`check` with MICROSOFT_APP_ID set: build the Teams app package in memory and find what
    Teams would refuse when an admin uploads it."""
    from bot.platforms.teams import manifest

    app_id = settings.teams_app_id or ""
    if not manifest.is_guid(app_id):
        problem = f"MICROSOFT_APP_ID={app_id!r} is not a GUID"
        return [Problem("environment", None, problem, TEAMS_APP_ID_FIX)]
    try:
        blob = manifest.package(settings.app, content, app_id, None)
    except ProblemsFound as exc:  # content/teams.yaml, with its lines
        return exc.problems
    except ValueError as exc:
        return [Problem(TEAMS_PACKAGE, None, str(exc), TEAMS_PACKAGE_FIX)]
    return [
        Problem(TEAMS_PACKAGE, None, problem, TEAMS_PACKAGE_FIX)
        for problem in manifest.validate_package(blob)
    ]


def _check_online(settings: Settings) -> int:
    """`check --online`: ask Slack whether the coordinators' channel is private, as `serve`
    does at start."""
    channel = settings.app.coordinators.channel
    if not settings.slack_bot_token:
        print("online check skipped: SLACK_BOT_TOKEN is not set")
        return 0
    if not channel:
        print("online: no coordinators.channel in app.yaml, so there is no channel to check")
        return 0
    from bot.platforms.slack.adapter import make_client
    from bot.platforms.slack.channels import check_private

    client = make_client(settings.slack_bot_token, settings.slack_api_url)
    result = asyncio.run(check_private(client, channel))
    if result.private:
        print(f"online: #{channel} is a private Slack channel the bot is in")
        return 0
    problem = Problem(
        settings.config_path.name,
        None,
        f"coordinators.channel: {result.problem} (Slack). The bot would post only the weekly "
        "digest's numbers there and send alerts and application notices to each coordinator "
        "by DM",
        result.fix,
    )
    print(f"1 problem found:\n  {problem}", file=sys.stderr)
    return 1


def cmd_manifest(args: argparse.Namespace) -> int:
    if args.platform == "teams":
        return _manifest_teams(args)
    if args.app_id or args.output:
        print("--app-id and --output are for `allybot manifest teams`", file=sys.stderr)
        return 1
    from bot.platforms.slack import manifest

    if args.url and not args.url.startswith("https://"):
        print("--url must be the bot's public https:// address", file=sys.stderr)
        return 1
    print(manifest.render(load_settings().app, load_content(), args.url), end="")
    return 0


def _manifest_teams(args: argparse.Namespace) -> int:
    """`manifest teams`: write the Teams app package (a zip) that a Teams admin uploads."""
    from bot.platforms.teams import manifest

    settings = load_settings()
    domain = None
    if args.url:
        try:
            domain = manifest.domain_from_url(args.url)
        except ValueError as exc:
            print(f"--url: {exc}; give the bot's public https:// address", file=sys.stderr)
            return 1
    app_id = args.app_id or settings.teams_app_id
    if not app_id:
        print(
            f"no Microsoft App ID: pass --app-id GUID or set MICROSOFT_APP_ID\n  fix: "
            f"{TEAMS_APP_ID_FIX}",
            file=sys.stderr,
        )
        return 1
    if not manifest.is_guid(app_id):
        given = "--app-id " if args.app_id else "MICROSOFT_APP_ID="
        print(f"{given}{app_id!r} is not a GUID\n  fix: {TEAMS_APP_ID_FIX}", file=sys.stderr)
        return 1
    try:
        blob = manifest.package(settings.app, load_content(), app_id, domain)
    except ValueError as exc:
        print(f"cannot build the Teams app package: {exc}", file=sys.stderr)
        return 1
    problems = manifest.validate_package(blob)
    if problems:  # never write a package Teams would refuse
        print(f"{len(problems)} problem(s) in the Teams app package:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}\n    fix: {TEAMS_PACKAGE_FIX}", file=sys.stderr)
        return 1
    output = Path(args.output or "allybot-teams.zip")
    try:
        output.write_bytes(blob)
    except OSError as exc:
        print(f"{output}: cannot write it ({exc.__class__.__name__})", file=sys.stderr)
        return 1
    name = settings.app.organisation.name
    print(f"wrote {output} (Teams app package for {name}, app id {app_id})")
    return 0


def _key_problems(settings: Settings) -> list[Problem]:
    """The key against the database, if there is one that has been used with a key."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url

    from bot.app import WRONG_KEY, key_fits, sealer
    from storage.db import Database, normalise_url

    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").exists():
        return []  # nothing stored yet: any key fits
    try:
        db = Database(settings.database_url)
        try:
            with db.engine.connect() as conn:
                used = inspect(conn).has_table("keycheck")
            return [] if not used or key_fits(db, sealer(settings)) else [WRONG_KEY]
        finally:
            db.dispose()
    except ProblemsFound as exc:
        return exc.problems
    except Exception as exc:  # the database is elsewhere and not reachable: not check's concern
        print(f"note: the database was not checked ({type(exc).__name__})", file=sys.stderr)
        return []


def cmd_rotate_key(_args: argparse.Namespace) -> int:
    """Re-seal everything under the first key of ALLYBOT_SECRET_KEY=new,old."""
    from bot.app import key_fits
    from storage import keys
    from storage.crypto import SealError

    settings = load_settings()
    bot = build(settings, migrate=False)
    bot.db.upgrade()
    if not key_fits(bot.db, bot.router.sealer):
        print(
            "none of the keys in ALLYBOT_SECRET_KEY opens what this database holds: "
            "list the new key first and the old one after it (new,old)",
            file=sys.stderr,
        )
        return 1
    try:
        with bot.db.session() as session:
            counts = keys.rotate(session, bot.router.sealer)
    except SealError:
        print(
            "a sealed value opens with none of the keys given; nothing was changed. "
            "Add the key it was sealed with after the new one",
            file=sys.stderr,
        )
        return 1
    finally:
        bot.db.dispose()
    done = ", ".join(f"{n} {table}" for table, n in counts.items())
    print(f"re-sealed under the first key: {done}. You may now drop the old key from the list.")
    return 0


def cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    bot = build(settings, migrate=args.action == "upgrade", check_key=False)
    print(f"database at revision {bot.db.current_revision() or '(none)'}")
    bot.db.dispose()
    return 0


def cmd_demo(_args: argparse.Namespace) -> int:
    bot = build(load_settings())
    count = bot.seed_demo()
    print(f"demo organisation seeded: {count} people")
    bot.db.dispose()
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 3650:
        print("--days must be between 1 and 3650", file=sys.stderr)
        return 1
    bot = build(load_settings(), check_key=False)  # ids and names of actions only
    lines = bot.router.audit(args.days)
    bot.db.dispose()
    print("\n".join(lines) if lines else f"nothing in the audit log for the last {args.days} days")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    if not 1 <= args.days <= 366:
        print("--days must be between 1 and 366", file=sys.stderr)
        return 1
    bot = build(load_settings(), check_key=False)  # numbers only: nothing sealed is read
    print(bot.router.stats(args.days).fallback_text())
    bot.db.dispose()
    return 0


def cmd_allies_import(args: argparse.Namespace) -> int:
    from handlers.allies import import_roster, parse_roster

    settings = load_settings()
    try:
        text = Path(args.file).read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        print(
            f"{args.file}: cannot read it ({exc.__class__.__name__}); "
            "give the path of a UTF-8 CSV file",
            file=sys.stderr,
        )
        return 1
    rows, errors = parse_roster(text, settings.app.matching.default_capacity)
    if errors:
        print(f"{args.file}: nothing imported; fix these and run it again:", file=sys.stderr)
        for error in errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    bot = build(settings, check_key=False)  # the roster holds nothing sealed
    with bot.db.session() as session:
        count = import_roster(session, rows, bot.clock.now())
    print(f"imported {count} allies from {args.file}")
    bot.db.dispose()
    return 0


def cmd_allies_export(args: argparse.Namespace) -> int:
    from handlers.allies import export_roster

    bot = build(load_settings(), check_key=False)
    with bot.db.session() as session:
        text = export_roster(session)
    bot.db.dispose()
    count = text.count("\n") - 1
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"{args.output}: cannot write it ({exc.__class__.__name__})", file=sys.stderr)
            return 1
        print(f"exported {count} allies to {args.output}")
    else:
        sys.stdout.write(text)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="allybot", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    shell = sub.add_parser("shell", help="the local console (no credentials needed)")
    shell.add_argument("--demo", action="store_true", help="start on the demo organisation")
    shell.add_argument("--as", dest="persona", default="eve", help="persona to start as")
    shell.set_defaults(func=cmd_shell)
    sub.add_parser("serve", help="run on Slack and/or Microsoft Teams").set_defaults(func=cmd_serve)
    check = sub.add_parser("check", help="validate app.yaml and content/")
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Slack that the coordinators' channel is private (SLACK_BOT_TOKEN)",
    )
    check.set_defaults(func=cmd_check)
    man = sub.add_parser(
        "manifest", help="print the Slack app manifest (YAML) or write the Teams app package (zip)"
    )
    man.add_argument("platform", choices=["slack", "teams"])
    man.add_argument(
        "--url",
        help="public https:// address: Slack HTTP mode (default: Socket Mode); "
        "Teams: the app's links and valid domain",
    )
    man.add_argument(
        "--app-id", help="teams: the bot's Microsoft App ID (default: MICROSOFT_APP_ID)"
    )
    man.add_argument("--output", "-o", help="teams: the zip to write (default: allybot-teams.zip)")
    man.set_defaults(func=cmd_manifest)
    sub.add_parser(
        "rotate-key", help="re-seal stored answers under the first key of ALLYBOT_SECRET_KEY"
    ).set_defaults(func=cmd_rotate_key)
    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(func=cmd_db)
    sub.add_parser("demo", help="seed the demo organisation").set_defaults(func=cmd_demo)
    stats = sub.add_parser("stats", help="the coordinators' digest numbers (fewer than 5 hidden)")
    stats.add_argument("--days", type=int, default=7, help="how many days back (default 7)")
    stats.set_defaults(func=cmd_stats)
    audit = sub.add_parser("audit", help="who did what, by internal id (never content)")
    audit.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    audit.set_defaults(func=cmd_audit)
    allies = sub.add_parser("allies", help="manage the ally roster")
    allies_sub = allies.add_subparsers(dest="allies_command", required=True)
    imp = allies_sub.add_parser("import", help="import allies from a CSV file")
    imp.add_argument("file")
    imp.set_defaults(func=cmd_allies_import)
    exp = allies_sub.add_parser("export", help="write the roster as CSV (stdout by default)")
    exp.add_argument("--output", "-o", help="file to write instead of stdout")
    exp.set_defaults(func=cmd_allies_export)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except ProblemsFound as exc:
        print(
            f"allybot cannot start: {len(exc.problems)} problem(s) in its settings or content:",
            file=sys.stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (`allybot shell ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
