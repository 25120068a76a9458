-- yuqing store, version 1 (SQLite). Keep in step with ../postgres/0001_initial.sql.
CREATE TABLE items (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    item_id TEXT NOT NULL,
    observed_ms BIGINT NOT NULL,
    published_ms BIGINT NOT NULL,
    platform TEXT NOT NULL,
    accepted_ms BIGINT NOT NULL,
    body TEXT NOT NULL,
    analysis TEXT,
    event_id TEXT,
    sensitivity DOUBLE PRECISION,
    category TEXT,
    department TEXT,
    region TEXT,
    UNIQUE (source, item_id, observed_ms)
);
CREATE INDEX items_event ON items (event_id, observed_ms);
CREATE INDEX items_observed ON items (observed_ms);

CREATE TABLE events (
    event_id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    first_seen_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    stage TEXT NOT NULL,
    grade TEXT,
    sensitivity DOUBLE PRECISION NOT NULL,
    velocity DOUBLE PRECISION NOT NULL,
    size DOUBLE PRECISION NOT NULL,
    category TEXT,
    department TEXT,
    region TEXT,
    body TEXT NOT NULL
);
CREATE INDEX events_updated ON events (updated_ms);

CREATE TABLE event_history (
    event_id TEXT NOT NULL,
    bucket_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL,
    items BIGINT NOT NULL,
    reposts BIGINT NOT NULL,
    comments BIGINT NOT NULL,
    likes BIGINT NOT NULL,
    velocity DOUBLE PRECISION NOT NULL,
    stage TEXT NOT NULL,
    PRIMARY KEY (event_id, bucket_ms)
);

CREATE TABLE alerts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    grade TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    department TEXT,
    region TEXT,
    body TEXT NOT NULL
);
CREATE INDEX alerts_event ON alerts (event_id, at_ms);
CREATE INDEX alerts_at ON alerts (at_ms);

CREATE TABLE deliveries (
    alert_id TEXT NOT NULL,
    sink TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (alert_id, sink)
);
CREATE INDEX deliveries_status ON deliveries (status, sink);

CREATE TABLE source_state (
    source TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);

CREATE TABLE seen (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    first_ms BIGINT NOT NULL,
    PRIMARY KEY (source, key)
);

CREATE TABLE deadletter (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    stage TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);

CREATE TABLE kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_ms BIGINT NOT NULL
);
