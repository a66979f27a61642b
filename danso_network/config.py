"""Configuration. Every key can be overridden by an environment variable ``DANSO_<KEY>``
(``app.config.from_prefixed_env("DANSO")``; values are parsed as JSON where possible, so
``DANSO_SESSION_COOKIE_SECURE=false`` gives ``False``).

The few names of the public contract (DESIGN.md §6) are mapped onto Flask's own keys in
:func:`finalise`: ``DANSO_DATABASE_URL``, ``DANSO_MAP_TILES`` and ``DANSO_HTTPS``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong: the message says which and how to set it (one line)."""


class Config:
    SECRET_KEY: str | None = None
    DATABASE_URL: str | None = None  # default: SQLite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    SQLALCHEMY_TRACK_MODIFICATIONS = False

    # Sessions and cookies: HttpOnly, SameSite, Secure (turn Secure off only for plain-HTTP local use).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_TIME_LIMIT = None  # a form left open all morning must still submit
    MAX_CONTENT_LENGTH = 50 * 1024 * 1024
    # Dossier attachments: stored outside the web root (None: <instance>/uploads), each file ≤ 5 MB.
    UPLOAD_DIR: str | None = None
    MAX_UPLOAD_BYTES = 5 * 1024 * 1024

    # Login throttling (Flask-Limiter). Use Redis in production: DANSO_RATELIMIT_STORAGE_URI=redis://...
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_RATE_LIMIT = "5 per minute;30 per hour"  # wrong passwords per client address (auth/throttle.py)
    LOGIN_ACCOUNT_RATE_LIMIT = "10 per 15 minutes"  # wrong passwords per account, from any address

    BABEL_DEFAULT_LOCALE = "vi"
    # "Today" and the times shown are Vietnam's, whatever the server's zone (common/clock.py).
    TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}

    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BOOTSWATCH_THEME = None

    MAP_TILES = "osm"  # or "none" for offline intranets, or a tile URL "https://host/{z}/{x}/{y}.png"
    # Served over HTTPS (behind a TLS proxy too): send HSTS and mark every cookie Secure (security.py).
    HTTPS = False
    # Reverse proxies in front of the app (nginx: 1). The client's address (login throttle, audit
    # log) and scheme are then read from the X-Forwarded-For/-Proto headers the nearest ones added;
    # 0 ignores those headers, which any client can write (security.py ``trust_proxies``).
    TRUSTED_PROXIES = 0
    PAGE_SIZE = 50
    # Supervision figures of an area spanning several provinces are kept this many seconds
    # (common/cache.py; 0: always computed live). Areas within one province are always live.
    WIDE_SCOPE_CACHE_SECONDS = 300
    DATA_DIR = str(DATA_DIR)

    # A PDF of more than 1,000 rows (exports/pdf.py, PART_ROWS) is printed in parts of at most that
    # many rows, laid out by this many processes at once (1: one after the other by the caller's
    # process). None: one per CPU this process may use.
    PDF_PROCESSES: int | None = None

    # Background jobs (jobs/; issue #11 item 5): an export or report of more than EXPORT_INLINE_ROWS
    # rows runs in the background; its page shows progress, then offers the file.
    EXPORT_INLINE_ROWS = 5000
    # Imports (issue #12): a confirmed file of more rows than this is imported by a background job.
    IMPORT_INLINE_ROWS = 5000
    # The largest spreadsheet an import reads (imports.reading); the web server refuses uploads over
    # MAX_CONTENT_LENGTH before that.
    IMPORT_MAX_BYTES = 20 * 1024 * 1024
    # Redis, e.g. redis://127.0.0.1:6379/0: jobs then go to an RQ queue run by `danso worker`, on any
    # machine sharing the database and JOB_DIR; they outlive the web worker that queued them. Unset:
    # a few threads of each web process run them (`make run` needs no other server).
    REDIS_URL: str | None = None
    # "thread", "rq" or "inline" (at once, in the caller's thread: tests only). None: "rq" when
    # REDIS_URL is set, else "thread".
    JOB_ENGINE: str | None = None
    JOB_QUEUE = "danso"  # the RQ queue's name
    JOB_THREADS = 2  # thread engine: jobs run at once by one web process (2 CPUs: keep it small)
    # Where job files are kept (None: <instance>/jobs); one folder per database, shared by every
    # web process and worker.
    JOB_DIR: str | None = None
    JOB_KEEP_HOURS = 24  # a file is deleted this long after its job finished
    # A job stops after this long (RQ); one silent this long (no progress) is taken for dead.
    JOB_TIMEOUT_SECONDS = 3600
    JOB_MAX_ACTIVE = 5  # jobs one user may have waiting or running at once
    JOB_MODULES: list[str] = []  # extra modules registering job kinds, imported by workers on demand


class TestConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret-key"  # nosec B105 # TestConfig only: the test suite's own key
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    SERVER_NAME = None
    WIDE_SCOPE_CACHE_SECONDS = 0  # tests see every change at once; tests/test_wide_scope_cache.py turns it on
    # Jobs run at once on the test's one connection (threads cannot see its rolled-back
    # transaction); tests/jobs/ runs the thread and RQ engines on databases of their own.
    JOB_ENGINE = "inline"


def finalise(app) -> None:
    """Map contract names onto Flask keys and refuse an unsafe production configuration."""
    cfg = app.config
    url = cfg.get("DATABASE_URL") or cfg.get("SQLALCHEMY_DATABASE_URI")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "danso.db")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    if not cfg.get("UPLOAD_DIR"):
        cfg["UPLOAD_DIR"] = os.path.join(app.instance_path, "uploads")
    _finalise_jobs(app)
    cfg["BABEL_DEFAULT_TIMEZONE"] = cfg.get("TIMEZONE") or "Asia/Ho_Chi_Minh"
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(cfg["BABEL_DEFAULT_TIMEZONE"])
    except (ValueError, KeyError) as error:
        raise ConfigurationError(f"DANSO_TIMEZONE “{cfg['BABEL_DEFAULT_TIMEZONE']}” không phải múi giờ hợp lệ "
                                 "(ví dụ Asia/Ho_Chi_Minh).") from error
    cfg["TIMEZONE"] = cfg["BABEL_DEFAULT_TIMEZONE"]
    cfg["MAP_TILES_ORIGIN"] = map_tiles_origin(cfg.get("MAP_TILES"))
    proxies = cfg.get("TRUSTED_PROXIES") or 0
    if isinstance(proxies, bool) or not isinstance(proxies, int) or proxies < 0:
        raise ConfigurationError(f"DANSO_TRUSTED_PROXIES “{proxies}” không hợp lệ: dùng số proxy đứng trước "
                                 "ứng dụng (0 nếu không có, 1 với một nginx).")
    cfg["TRUSTED_PROXIES"] = proxies
    processes = cfg.get("PDF_PROCESSES")
    if processes is not None and (isinstance(processes, bool) or not isinstance(processes, int)
                                  or not 1 <= processes <= MAX_PDF_PROCESSES):
        raise ConfigurationError(f"DANSO_PDF_PROCESSES “{processes}” không hợp lệ: dùng số tiến trình in PDF "
                                 f"cùng lúc, từ 1 đến {MAX_PDF_PROCESSES} (bỏ trống: mỗi CPU một tiến trình).")
    if cfg.get("HTTPS"):
        cfg["SESSION_COOKIE_SECURE"] = cfg["REMEMBER_COOKIE_SECURE"] = True
        cfg["PREFERRED_URL_SCHEME"] = "https"
    if not cfg.get("SECRET_KEY") and cfg.get("CLI"):
        cfg["SECRET_KEY"] = _secret_key_file(app.instance_path)
    if not cfg.get("SECRET_KEY"):
        if app.debug or app.testing:
            # Bandit B105 below (hardcoded password): debug or test runs only; a served app (neither) needs DANSO_SECRET_KEY.
            cfg["SECRET_KEY"] = "dev-only-not-secret"  # nosec B105
        elif cfg.get("CLI"):
            # A command that serves no request signs no cookie: a throwaway key will do
            # (``danso run`` refuses it, see cli.py).
            cfg["SECRET_KEY"] = secrets.token_hex(32)
            cfg["SECRET_KEY_EPHEMERAL"] = True
        else:
            raise ConfigurationError(
                "DANSO_SECRET_KEY chưa được đặt. Đặt biến môi trường DANSO_SECRET_KEY "
                "(một chuỗi ngẫu nhiên dài) trước khi chạy ứng dụng."
            )


JOB_ENGINES = ("thread", "rq", "inline")
MAX_PDF_PROCESSES = 64


def _finalise_jobs(app) -> None:
    """Job settings: the engine is one of :data:`JOB_ENGINES` and ``rq`` has a Redis URL; the
    files' folder defaults to ``<instance>/jobs`` (under TESTING, a fresh temporary folder: test
    databases of parallel workers number their jobs alike)."""
    cfg = app.config
    engine = str(cfg.get("JOB_ENGINE") or "").strip().lower()
    if engine and engine not in JOB_ENGINES:
        raise ConfigurationError(f"DANSO_JOB_ENGINE “{engine}” không hợp lệ: dùng thread, rq hoặc inline.")
    if engine == "rq" and not cfg.get("REDIS_URL"):
        raise ConfigurationError("DANSO_JOB_ENGINE=rq cần DANSO_REDIS_URL (ví dụ redis://127.0.0.1:6379/0).")
    cfg["JOB_ENGINE"] = engine or None
    if not cfg.get("JOB_DIR"):
        if cfg.get("TESTING"):
            import atexit
            import shutil
            import tempfile

            cfg["JOB_DIR"] = tempfile.mkdtemp(prefix="danso-jobs-")
            atexit.register(shutil.rmtree, cfg["JOB_DIR"], True)
        else:
            cfg["JOB_DIR"] = os.path.join(app.instance_path, "jobs")
    modules = cfg.get("JOB_MODULES") or []
    cfg["JOB_MODULES"] = [modules] if isinstance(modules, str) else list(modules)


def map_tiles_origin(setting) -> str | None:
    """Where map tiles come from, for the Content-Security-Policy's ``img-src``: ``osm`` is
    OpenStreetMap's tile server (the address folium uses), ``none`` (or empty) means no tiles, and a
    tile URL template gives its own scheme and host."""
    value = str(setting or "none").strip()
    if value.lower() == "none":
        return None
    if value.lower() == "osm":
        return "https://tile.openstreetmap.org"
    parts = urlsplit(value)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    raise ConfigurationError(f"DANSO_MAP_TILES “{value}” không hợp lệ: dùng osm, none hoặc địa chỉ lớp nền "
                             "dạng https://máy-chủ/{z}/{x}/{y}.png.")


def _secret_key_file(instance_path: str) -> str | None:
    """The key ``make run`` keeps in ``instance/secret_key``, if it is there."""
    path = os.path.join(instance_path, "secret_key")
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() or None
    except OSError:
        return None
