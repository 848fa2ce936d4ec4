"""Run the Alembic migrations shipped inside the package (no alembic.ini needed in the working directory)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from linter.store.db import make_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(database_url: str) -> Config:
    config = Config(str(Path(__file__).parent / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser treats % as interpolation; URLs may contain %-escaped passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)
    if database_url.startswith("sqlite"):
        # One connection of ours puts the file in WAL now (db._use_wal), before a pool opens several at once.
        engine = make_engine(database_url)
        try:
            with engine.connect():
                pass
        finally:
            engine.dispose()


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)
