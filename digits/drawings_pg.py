"""The room's drawings store on a PostgreSQL server: the shared store for app processes on several machines (a
lecture hall, docs/workshop.md), where SQLite, the embedded default, needs every process on one machine.

    DIGITS_DRAWINGS=postgresql://user:password@host:5432/digits  streamlit run app.py

The store's code (digits.drawings, drawing_files, room_answers, room_view) is written once, in SQLite's SQL, and
run here through a connection with sqlite3's few methods that it uses (`execute`, `executemany`, `executescript`,
`in_transaction`, `close`, a cursor's `fetchone`/`fetchall`/`rowcount`/`lastrowid`). `translate` turns each
statement into PostgreSQL's: the same tables (BYTEA for BLOB, DOUBLE PRECISION for REAL, ids from a sequence, so
never given again), the schema's rules without SQLite's typeof() (PostgreSQL's columns hold their type), `%s`
for `?`, an upsert for INSERT OR REPLACE, and a table lock for BEGIN IMMEDIATE (two writers cannot both pass the
limits' checks). psycopg is imported only when such a store is used."""

from __future__ import annotations

import re

from .drawing_formats import SOUND

SOUND_PG = """(created >= 0 AND created < 1e11 AND label BETWEEN -1 AND 9 AND length(pixels) = 784
    AND (predicted IS NULL OR predicted BETWEEN 0 AND 9))"""  # the types are the columns'; NOT NULL is the schema's
URL = re.compile(r"postgres(ql)?://")
# A table or index made IF NOT EXISTS: its name (without SQLite's "main.").
CREATE = re.compile(r"\s*CREATE (?:TABLE|INDEX) IF NOT EXISTS (?:main\.)?(\w+)")
_EXACT = [  # SQLite's text → PostgreSQL's, in this order
    (SOUND, SOUND_PG),
    ("typeof(r.digit) = 'integer' AND ", ""),
    ("typeof(png) = 'blob'", "png IS NOT NULL"),
    ("r.digit IS NOT label", "r.digit IS DISTINCT FROM label"),
    ("INSERT OR REPLACE INTO readings VALUES (?, ?, ?, ?, ?)",
     "INSERT INTO readings VALUES (?, ?, ?, ?, ?) ON CONFLICT (checkpoint, drawing) DO UPDATE SET "
     "drawn = EXCLUDED.drawn, digit = EXCLUDED.digit, held_out = EXCLUDED.held_out"),
    ("main.readings", "readings"),
    ("WITHOUT ROWID", ""), ("INTEGER PRIMARY KEY,", "BIGSERIAL PRIMARY KEY,"),
]
_TYPES = [(re.compile(r"\bBLOB\b"), "BYTEA"), (re.compile(r"\bREAL\b"), "DOUBLE PRECISION")]
_QUOTED_OR_MARK = re.compile(r"'(?:[^']|'')*'|\?")  # a string literal (left as it is), or a parameter mark


def translate(sql: str) -> str:
    for sqlite, pg in _EXACT:
        sql = sql.replace(sqlite, pg)
    for word, pg in _TYPES:
        sql = word.sub(pg, sql)
    return _QUOTED_OR_MARK.sub(lambda m: "%s" if m[0] == "?" else m[0], sql)


class _Result:
    """What a statement gave: rows (if any), how many rows it changed, the id it inserted."""

    def __init__(self, rows: list | None = None, rowcount: int = -1, lastrowid: int | None = None):
        self._rows, self.rowcount, self.lastrowid = rows or [], rowcount, lastrowid

    def fetchone(self):
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list:
        return list(self._rows)

    def __iter__(self):
        return iter(self._rows)


class Connection:
    """A PostgreSQL connection in autocommit mode with sqlite3's methods that the store uses."""

    def __init__(self, url: str):
        import psycopg  # only for a PostgreSQL store

        self.errors = psycopg.Error
        self._pq = psycopg.pq.TransactionStatus
        self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        self._db.execute("SET lock_timeout = '10s'")  # as SQLite's busy timeout: wait for a writer, then say so

    @property
    def in_transaction(self) -> bool:
        return self._db.info.transaction_status != self._pq.IDLE

    def execute(self, sql: str, params=()) -> _Result:
        if sql.lstrip().upper().startswith("PRAGMA") or sql.strip() == "DROP TABLE IF EXISTS main.answers":
            return _Result()  # SQLite's file settings; a table only an SQLite store of an older version had
        if sql.strip() == "BEGIN DEFERRED":  # digits.drawings.snapshot: every read sees one state
            self._db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            return _Result()
        if sql.strip() == "BEGIN IMMEDIATE":
            self._db.execute("BEGIN")
            try:
                self._db.execute("LOCK TABLE drawings IN SHARE ROW EXCLUSIVE MODE")  # one writer at a time
            except self.errors:
                self._db.execute("ROLLBACK")  # not left in an aborted transaction
                raise
            return _Result()
        if (made := CREATE.match(sql)) and self._exists(made[1]):
            return _Result()  # made already: CREATE … IF NOT EXISTS would still lock the table and need its owner
        pg = translate(sql)
        inserting = re.match(r"\s*INSERT INTO drawings\b", pg) is not None
        cur = self._db.execute(pg + (" RETURNING id" if inserting else ""), tuple(params) or None)
        rows = cur.fetchall() if cur.description is not None else None
        return _Result(rows, cur.rowcount, rows[0][0] if inserting and rows else None)

    def executemany(self, sql: str, rows) -> None:
        with self._db.cursor() as cur:
            cur.executemany(translate(sql), [tuple(r) for r in rows])

    def executescript(self, script: str) -> None:
        for statement in (s.strip() for s in script.split(";")):
            if statement:
                self.execute(statement)

    def _exists(self, name: str) -> bool:
        return self._db.execute("SELECT to_regclass(%s)", (name,)).fetchone()[0] is not None

    def close(self) -> None:
        self._db.close()

    def version(self):
        """What moves whenever anything is committed: where the server inserts its next write-ahead log record."""
        return self._db.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]
