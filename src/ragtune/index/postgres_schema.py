"""The PostgreSQL store's tables, created and migrated by ragtune (one index per schema).

``meta`` holds the schema version, the embedder and the dimension; the ``vector(d)`` column is
typed with that dimension when the schema is created. Deleting a document cascades to its chunks
and access rows. ``tsv`` is generated from the heading and text with the English stemmer, so the
full-text index can never fall out of step with the chunks. ``MIGRATIONS[i]`` takes a schema from
version ``i`` to ``i + 1``; opening a store runs the missing steps under a lock.
"""

from __future__ import annotations

from ragtune.index.postgres_filters import JNORM_SQL

SCHEMA_VERSION = 3

# Each entry upgrades a schema from the version before it; index 0 creates version 1.
MIGRATIONS: list[list[str]] = [
    [
        """CREATE TABLE {schema}.documents (
            doc            bigserial PRIMARY KEY,
            id             text NOT NULL UNIQUE,
            origin         text NOT NULL,
            source         text NOT NULL,
            format         text NOT NULL,
            record_hash    text NOT NULL,
            access_hash    text NOT NULL,
            allowed_users  jsonb NOT NULL,
            allowed_groups jsonb NOT NULL,
            access_origin  text NOT NULL,
            metadata       jsonb NOT NULL,
            layout         jsonb NOT NULL,
            text           text NOT NULL,
            n_chunks       integer NOT NULL,
            updated_at     double precision NOT NULL
        )""",
        "CREATE INDEX documents_origin ON {schema}.documents (origin text_pattern_ops)",
        """CREATE TABLE {schema}.document_access (
            principal text NOT NULL,
            doc       bigint NOT NULL REFERENCES {schema}.documents (doc) ON DELETE CASCADE,
            PRIMARY KEY (principal, doc)
        )""",
        "CREATE INDEX document_access_doc ON {schema}.document_access (doc)",
        """CREATE TABLE {schema}.chunks (
            chunk        bigserial PRIMARY KEY,
            id           text NOT NULL UNIQUE,
            doc          bigint NOT NULL REFERENCES {schema}.documents (doc) ON DELETE CASCADE,
            ordinal      integer NOT NULL,
            text         text NOT NULL,
            heading      text NOT NULL,
            heading_path jsonb NOT NULL,
            start_offset integer NOT NULL,
            end_offset   integer NOT NULL,
            page         integer,
            page_end     integer,
            token_count  integer NOT NULL,
            text_hash    text NOT NULL,
            embedding    vector({dimension}) NOT NULL,
            tsv          tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', heading), 'C') || setweight(to_tsvector('english', text), 'A')
            ) STORED
        )""",
        "CREATE INDEX chunks_doc ON {schema}.chunks (doc)",
        "CREATE INDEX chunks_tsv ON {schema}.chunks USING gin (tsv)",
        "CREATE INDEX chunks_hnsw ON {schema}.chunks USING hnsw (embedding vector_ip_ops) "
        "WITH (m = {m}, ef_construction = {ef_construction})",
        "CREATE SEQUENCE {schema}.generation",
        JNORM_SQL,
    ],
    [  # 2: a chunk's length in index terms, for BM25's length normalisation (postgres_keyword.py)
        "ALTER TABLE {schema}.chunks ADD COLUMN n_terms integer GENERATED ALWAYS AS "
        "(length(to_tsvector('english', heading || ' ' || text))) STORED",
    ],
    [  # 3: source-file fingerprints for the ingest planner (ingest/plan.py), forgotten by a
        # trigger whenever any document of that origin changes, by whatever path
        """CREATE TABLE {schema}.sources (
            origin      text PRIMARY KEY,
            fingerprint text NOT NULL,
            documents   integer NOT NULL,
            chunks      integer NOT NULL,
            updated_at  double precision NOT NULL
        )""",
        # The table is named through TG_TABLE_SCHEMA, not {schema}: a rebuild creates its schema
        # under a staging name and renames it (index/rebuild.py), and the body is only text.
        """CREATE FUNCTION {schema}.sources_forget() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                EXECUTE format('DELETE FROM %I.sources WHERE origin = $1', TG_TABLE_SCHEMA) USING OLD.origin;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                EXECUTE format('DELETE FROM %I.sources WHERE origin = $1', TG_TABLE_SCHEMA) USING NEW.origin;
            END IF;
            RETURN NULL;
        END $$""",
        "CREATE TRIGGER sources_forget AFTER INSERT OR UPDATE OR DELETE ON {schema}.documents "
        "FOR EACH ROW EXECUTE FUNCTION {schema}.sources_forget()",
    ],
]
