-- ragtune index, system of record. The vector file beside it is derived from chunks.embedding.
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS documents (
    rowid          INTEGER PRIMARY KEY,
    id             TEXT NOT NULL UNIQUE,
    origin         TEXT NOT NULL,            -- the file or SQL source; sync deletes by origin
    source         TEXT NOT NULL,
    format         TEXT NOT NULL,
    record_hash    TEXT NOT NULL,            -- text, metadata and chunking: changed -> re-write
    access_hash    TEXT NOT NULL,            -- changed alone -> access rows only, no re-embedding
    allowed_users  TEXT NOT NULL,            -- JSON lists, for display; search uses document_access
    allowed_groups TEXT NOT NULL,
    access_origin  TEXT NOT NULL,
    metadata       TEXT NOT NULL,
    layout         TEXT NOT NULL,            -- page starts and outline, for citations
    text           TEXT NOT NULL,
    updated_at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_origin ON documents(origin);

-- One row per (principal key, document): 'u:<user>' or 'g:<group>'. Searches join on it.
CREATE TABLE IF NOT EXISTS document_access (
    principal TEXT NOT NULL,
    doc       INTEGER NOT NULL,
    PRIMARY KEY (principal, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS document_access_doc ON document_access(doc);

CREATE TABLE IF NOT EXISTS chunks (
    rowid        INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    doc          INTEGER NOT NULL,
    ordinal      INTEGER NOT NULL,
    text         TEXT NOT NULL,
    heading      TEXT NOT NULL,             -- heading path joined, indexed for BM25 too
    heading_path TEXT NOT NULL,             -- JSON list
    start        INTEGER NOT NULL,
    end          INTEGER NOT NULL,
    page         INTEGER,
    page_end     INTEGER,
    token_count  INTEGER NOT NULL,
    text_hash    TEXT NOT NULL,
    vec_pos      INTEGER NOT NULL UNIQUE,   -- position in the vector index
    embedding    BLOB NOT NULL              -- float32, the source the vector index is rebuilt from
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc);

CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    heading, text, content='chunks', content_rowid='rowid',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS chunks_fts_insert AFTER INSERT ON chunks BEGIN
    INSERT INTO chunks_fts(rowid, heading, text) VALUES (new.rowid, new.heading, new.text);
END;
CREATE TRIGGER IF NOT EXISTS chunks_fts_delete AFTER DELETE ON chunks BEGIN
    INSERT INTO chunks_fts(chunks_fts, rowid, heading, text) VALUES ('delete', old.rowid, old.heading, old.text);
END;

-- One row per source file whose documents were all written from it (ingest/plan.py skips a file
-- whose fingerprint is unchanged). Any change to a document of that origin, by whatever path,
-- forgets the row, so a fingerprint can only ever describe what the index holds.
CREATE TABLE IF NOT EXISTS sources (
    origin      TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    documents   INTEGER NOT NULL,
    chunks      INTEGER NOT NULL,
    updated_at  REAL NOT NULL
);
CREATE TRIGGER IF NOT EXISTS sources_forget_insert AFTER INSERT ON documents BEGIN
    DELETE FROM sources WHERE origin = new.origin;
END;
CREATE TRIGGER IF NOT EXISTS sources_forget_update AFTER UPDATE ON documents BEGIN
    DELETE FROM sources WHERE origin IN (old.origin, new.origin);
END;
CREATE TRIGGER IF NOT EXISTS sources_forget_delete AFTER DELETE ON documents BEGIN
    DELETE FROM sources WHERE origin = old.origin;
END;
