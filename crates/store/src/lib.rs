//! # yuqing-store
//!
//! yuqing's durable state behind one interface, with two backends chosen by URL:
//!
//! - **SQLite** (`sqlite://PATH`, the default: a file in the data directory) for one process;
//! - **PostgreSQL** (`postgres://…`) shared by several processes or machines.
//!
//! Both run the same queries (sqlx's `Any` driver, `$n` placeholders) over the same versioned
//! migrations (`migrations/sqlite`, `migrations/postgres`), and the same tests run against both.
//!
//! What it holds: every accepted item observation (the embedded pipeline's durable inbox, and the
//! evidence behind every report), its judgment, event snapshots and their spread history, alerts
//! (deduplicated by their deterministic id), per-sink deliveries (the outbox that keeps a restart
//! from sending twice), collector cursors and seen-sets, a dead letter, and small key/values.
//!
//! ```no_run
//! # async fn f() -> Result<(), yuqing_store::StoreError> {
//! let store = yuqing_store::Store::open("sqlite:///var/lib/yuqing/yuqing.db").await?;
//! let pending = store.items_after(0, 100).await?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, FixedOffset, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Row};
use yuqing_core::{Alert, Analysis, Event, Item, JudgedItem};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL names no supported backend.
    #[error("unsupported store URL `{0}` (use sqlite://PATH or postgres://…)")]
    Url(String),
    /// The database failed.
    #[error("store: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrating the schema failed.
    #[error("store migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored record no longer parses (written by a newer or broken version).
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            StoreError::Url(_) => "url",
            StoreError::Db(_) => "db",
            StoreError::Migrate(_) => "migrate",
            StoreError::Corrupt(_) => "corrupt",
        }
    }
}

type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite.
    Sqlite,
    /// Shared PostgreSQL.
    Postgres,
}

/// A stored alert.
#[derive(Debug, Clone)]
pub struct StoredAlert {
    /// Its position in the store's alert log (increasing in insertion order).
    pub seq: i64,
    /// The alert.
    pub alert: Alert,
    /// Wall time it was stored.
    pub created: DateTime<Utc>,
}

/// Delivery state of one alert to one sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Not yet delivered.
    Pending,
    /// Delivered.
    Delivered,
    /// Given up on; in the dead letter.
    Dead,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Dead => "dead",
        }
    }
}

/// A point of an event's spread curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SpreadPoint {
    /// Event time of the snapshot.
    pub at: DateTime<Utc>,
    /// Cumulative items.
    pub items: i64,
    /// Cumulative reposts.
    pub reposts: i64,
    /// Cumulative comments.
    pub comments: i64,
    /// Cumulative likes.
    pub likes: i64,
    /// Velocity at that time.
    pub velocity: f64,
    /// Stage at that time.
    pub stage: String,
}

/// A dead-lettered record.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    /// Its id.
    pub id: i64,
    /// The stage that gave up on it.
    pub stage: String,
    /// Why.
    pub reason: String,
    /// The record as received.
    pub payload: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// The store: a connection pool and the queries.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

fn ms(t: DateTime<FixedOffset>) -> i64 {
    t.timestamp_millis()
}

fn from_ms(v: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(v).unwrap_or_default()
}

fn now_ms() -> i64 {
    // Wall time of bookkeeping (accepted/created columns), never used by time rules.
    Utc::now().timestamp_millis()
}

fn corrupt(e: serde_json::Error) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

impl Store {
    /// Opens (creating where needed) and migrates the store at `url`.
    ///
    /// `sqlite://PATH` (relative or absolute, created if missing), `sqlite::memory:` for a
    /// throw-away store, or `postgres://user@host:port/db`.
    pub async fn open(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, conn_url, max) = if let Some(rest) = url.strip_prefix("sqlite:") {
            let rest = rest.trim_start_matches("//");
            if rest == ":memory:" || rest.is_empty() {
                // One connection: every connection to :memory: is its own database.
                (Backend::Sqlite, "sqlite::memory:".to_string(), 1)
            } else {
                if let Some(parent) = std::path::Path::new(rest).parent() {
                    if !parent.as_os_str().is_empty() {
                        std::fs::create_dir_all(parent).map_err(|e| {
                            StoreError::Url(format!(
                                "{url}: cannot create {}: {e}",
                                parent.display()
                            ))
                        })?;
                    }
                }
                let sep = if rest.contains('?') { '&' } else { '?' };
                (Backend::Sqlite, format!("sqlite://{rest}{sep}mode=rwc"), 4)
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string(), 8)
        } else {
            return Err(StoreError::Url(url.to_string()));
        };
        let sqlite = backend == Backend::Sqlite;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if sqlite {
                        // WAL with synchronous=NORMAL: a commit survives the process being
                        // killed (the crash test checks it); only an OS crash or power loss can
                        // take back the last commits. busy_timeout lets readers and the writer
                        // wait for each other instead of failing.
                        sqlx::query("PRAGMA synchronous=NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout=10000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&conn_url)
            .await?;
        match backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA journal_mode=WAL")
                    .execute(&pool)
                    .await?;
                SQLITE_MIGRATIONS.run(&pool).await?;
            }
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Checks the database answers (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Closes the pool.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---------------------------------------------------------------- items

    /// Appends item observations durably. Returns, per item, its sequence number when it is new,
    /// or `None` when the same `source`+`id`+`observed_at` was already stored (a redelivery).
    pub async fn append_items(&self, items: &[Item]) -> Result<Vec<Option<i64>>> {
        let mut tx = self.pool.begin().await?;
        let mut out = Vec::with_capacity(items.len());
        let accepted = now_ms();
        for item in items {
            let body = String::from_utf8(item.to_json()).unwrap_or_default();
            let seq: Option<i64> = sqlx::query_scalar(
                "INSERT INTO items (source, item_id, observed_ms, published_ms, platform, accepted_ms, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)
                 ON CONFLICT (source, item_id, observed_ms) DO NOTHING
                 RETURNING seq",
            )
            .bind(&item.source)
            .bind(&item.id)
            .bind(ms(item.observed_at))
            .bind(ms(item.published_at))
            .bind(item.platform.as_str())
            .bind(accepted)
            .bind(body)
            .fetch_optional(&mut *tx)
            .await?;
            out.push(seq);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Items with a sequence number above `seq`, in order, at most `limit`.
    pub async fn items_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, Item)>> {
        let rows = sqlx::query("SELECT seq, body FROM items WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(seq)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                let body: String = r.try_get("body")?;
                let item = Item::from_json(body.as_bytes())
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok((r.try_get("seq")?, item))
            })
            .collect()
    }

    /// Judged observations with a sequence number above `seq`, in sequence order (the order they
    /// were stored), at most `limit`; for rebuilding an analyze process's event state.
    pub async fn judged_after(&self, seq: i64, limit: i64) -> Result<Vec<(i64, JudgedItem)>> {
        let rows = sqlx::query(
            "SELECT seq, body, analysis FROM items
             WHERE seq > $1 AND analysis IS NOT NULL ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let seq: i64 = r.try_get("seq")?;
                Ok((seq, judged_from_row(r)?))
            })
            .collect()
    }

    /// The highest item sequence number (0 when empty).
    pub async fn last_item_seq(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM items")
            .fetch_one(&self.pool)
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// The smallest sequence number of items observed at or after `t` (for recovery windows).
    pub async fn first_seq_since(&self, t: DateTime<FixedOffset>) -> Result<i64> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT MIN(seq) FROM items WHERE observed_ms >= $1")
                .bind(ms(t))
                .fetch_one(&self.pool)
                .await?;
        Ok(v.unwrap_or(i64::MAX))
    }

    /// Number of stored item observations.
    pub async fn count_items(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM items")
            .fetch_one(&self.pool)
            .await?)
    }

    /// Number of stored observations that have been judged.
    pub async fn count_judged(&self) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM items WHERE analysis IS NOT NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Stores judgments. The observation is usually stored already (the in-process inbox), so
    /// only the judgment columns are written; observations that are not (Kafka mode, where items
    /// arrive from the bus) are inserted whole.
    pub async fn put_judged(&self, judged: &[JudgedItem]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let accepted = now_ms();
        for j in judged {
            let item = &j.item;
            let a = &j.analysis;
            let analysis = serde_json::to_string(a).map_err(corrupt)?;
            let updated = sqlx::query(
                "UPDATE items SET analysis = $1, event_id = $2, sensitivity = $3, category = $4,
                        department = $5, region = $6
                 WHERE source = $7 AND item_id = $8 AND observed_ms = $9",
            )
            .bind(&analysis)
            .bind(a.event_id.clone())
            .bind(a.sensitivity)
            .bind(a.category.clone())
            .bind(a.department.clone())
            .bind(a.region.clone())
            .bind(&item.source)
            .bind(&item.id)
            .bind(ms(item.observed_at))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if updated > 0 {
                continue;
            }
            let body = String::from_utf8(item.to_json()).unwrap_or_default();
            sqlx::query(
                "INSERT INTO items (source, item_id, observed_ms, published_ms, platform, accepted_ms, body,
                                    analysis, event_id, sensitivity, category, department, region)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (source, item_id, observed_ms) DO UPDATE SET
                    analysis = excluded.analysis, event_id = excluded.event_id,
                    sensitivity = excluded.sensitivity, category = excluded.category,
                    department = excluded.department, region = excluded.region",
            )
            .bind(&item.source)
            .bind(&item.id)
            .bind(ms(item.observed_at))
            .bind(ms(item.published_at))
            .bind(item.platform.as_str())
            .bind(accepted)
            .bind(body)
            .bind(analysis)
            .bind(a.event_id.clone())
            .bind(a.sensitivity)
            .bind(a.category.clone())
            .bind(a.department.clone())
            .bind(a.region.clone())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The judged observations of an event, in event time, at most `limit`.
    pub async fn items_of_event(&self, event_id: &str, limit: i64) -> Result<Vec<JudgedItem>> {
        let rows = sqlx::query(
            "SELECT body, analysis FROM items WHERE event_id = $1 ORDER BY observed_ms, seq LIMIT $2",
        )
        .bind(event_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(judged_from_row).collect()
    }

    /// Judged observations observed in `[from, to)`, in event time, at most `limit`.
    pub async fn judged_between(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
        limit: i64,
    ) -> Result<Vec<JudgedItem>> {
        let rows = sqlx::query(
            "SELECT body, analysis FROM items
             WHERE analysis IS NOT NULL AND observed_ms >= $1 AND observed_ms < $2
             ORDER BY observed_ms, seq LIMIT $3",
        )
        .bind(ms(from))
        .bind(ms(to))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(judged_from_row).collect()
    }

    // ---------------------------------------------------------------- events

    /// Upserts event snapshots (the newest by `updated_at` wins) and records their spread curve
    /// (one point per event per minute of event time).
    pub async fn put_events(&self, events: &[Event]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for e in events {
            let body = String::from_utf8(e.to_json()).unwrap_or_default();
            sqlx::query(
                "INSERT INTO events (event_id, title, first_seen_ms, updated_ms, stage, grade, sensitivity,
                                     velocity, size, category, department, region, body)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
                 ON CONFLICT (event_id) DO UPDATE SET
                    title = excluded.title, updated_ms = excluded.updated_ms, stage = excluded.stage,
                    grade = COALESCE(excluded.grade, events.grade), sensitivity = excluded.sensitivity,
                    velocity = excluded.velocity, size = excluded.size, category = excluded.category,
                    department = excluded.department, region = excluded.region, body = excluded.body
                 WHERE excluded.updated_ms >= events.updated_ms",
            )
            .bind(&e.event_id)
            .bind(&e.title)
            .bind(ms(e.first_seen))
            .bind(ms(e.updated_at))
            .bind(e.stage.as_str())
            .bind(e.grade.map(|g| g.as_str().to_string()))
            .bind(e.sensitivity)
            .bind(e.velocity)
            .bind(e.size())
            .bind(e.category.clone())
            .bind(e.department.clone())
            .bind(e.region.clone())
            .bind(body)
            .execute(&mut *tx)
            .await?;
            let bucket = ms(e.updated_at) / 60_000 * 60_000;
            sqlx::query(
                "INSERT INTO event_history (event_id, bucket_ms, updated_ms, items, reposts, comments, likes,
                                            velocity, stage)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (event_id, bucket_ms) DO UPDATE SET
                    updated_ms = excluded.updated_ms, items = excluded.items, reposts = excluded.reposts,
                    comments = excluded.comments, likes = excluded.likes, velocity = excluded.velocity,
                    stage = excluded.stage
                 WHERE excluded.updated_ms >= event_history.updated_ms",
            )
            .bind(&e.event_id)
            .bind(bucket)
            .bind(ms(e.updated_at))
            .bind(e.counts.items as i64)
            .bind(e.counts.reposts as i64)
            .bind(e.counts.comments as i64)
            .bind(e.counts.likes as i64)
            .bind(e.velocity)
            .bind(e.stage.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the grade of an event (the alert stage's verdict).
    pub async fn set_event_grade(&self, event_id: &str, grade: &str) -> Result<()> {
        sqlx::query("UPDATE events SET grade = $1 WHERE event_id = $2")
            .bind(grade)
            .bind(event_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The latest snapshot of an event, with the grade the alert stage gave it.
    pub async fn event(&self, event_id: &str) -> Result<Option<Event>> {
        let row = sqlx::query("SELECT body, grade FROM events WHERE event_id = $1")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(event_from_row).transpose()
    }

    /// Events updated (in event time) at or after `since`, most recently updated first.
    pub async fn events_since(
        &self,
        since: DateTime<FixedOffset>,
        limit: i64,
    ) -> Result<Vec<Event>> {
        let rows = sqlx::query(
            "SELECT body, grade FROM events WHERE updated_ms >= $1 ORDER BY updated_ms DESC LIMIT $2",
        )
        .bind(ms(since))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(event_from_row).collect()
    }

    /// The spread curve of an event.
    pub async fn spread(&self, event_id: &str) -> Result<Vec<SpreadPoint>> {
        let rows = sqlx::query(
            "SELECT updated_ms, items, reposts, comments, likes, velocity, stage FROM event_history
             WHERE event_id = $1 ORDER BY bucket_ms",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(SpreadPoint {
                    at: from_ms(r.try_get("updated_ms")?),
                    items: r.try_get("items")?,
                    reposts: r.try_get("reposts")?,
                    comments: r.try_get("comments")?,
                    likes: r.try_get("likes")?,
                    velocity: r.try_get("velocity")?,
                    stage: r.try_get("stage")?,
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------- alerts

    /// Stores an alert unless one with its id exists, and — in the same transaction — queues its
    /// delivery to `sinks` (the outbox). Returns `true` when it is new: only new alerts go to the
    /// sinks, which is what keeps redelivery and restarts from duplicating, and the shared
    /// transaction keeps a crash from storing an alert that is never delivered.
    pub async fn insert_alert(&self, alert: &Alert, sinks: &[String]) -> Result<bool> {
        let body = String::from_utf8(alert.to_json()).unwrap_or_default();
        let now = now_ms();
        let mut tx = self.pool.begin().await?;
        let res = sqlx::query(
            "INSERT INTO alerts (alert_id, event_id, kind, grade, at_ms, created_ms, department, region, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (alert_id) DO NOTHING",
        )
        .bind(&alert.alert_id)
        .bind(&alert.event_id)
        .bind(alert.kind.as_str())
        .bind(alert.grade.as_str())
        .bind(ms(alert.at))
        .bind(now)
        .bind(alert.department.clone())
        .bind(alert.region.clone())
        .bind(body)
        .execute(&mut *tx)
        .await?;
        let fresh = res.rows_affected() == 1;
        if fresh {
            for s in sinks {
                sqlx::query(
                    "INSERT INTO deliveries (alert_id, sink, status, attempts, updated_ms)
                     VALUES ($1, $2, 'pending', 0, $3) ON CONFLICT (alert_id, sink) DO NOTHING",
                )
                .bind(&alert.alert_id)
                .bind(s)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(fresh)
    }

    /// The log position of the newest alert (0 when none).
    pub async fn last_alert_seq(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(seq) FROM alerts")
            .fetch_one(&self.pool)
            .await?;
        Ok(v.unwrap_or(0))
    }

    /// One alert by id.
    pub async fn alert(&self, alert_id: &str) -> Result<Option<StoredAlert>> {
        let row = sqlx::query("SELECT seq, body, created_ms FROM alerts WHERE alert_id = $1")
            .bind(alert_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(alert_from_row).transpose()
    }

    /// Alerts in insertion order after log position `seq` (exclusive), at most `limit`.
    pub async fn alerts_after(&self, seq: i64, limit: i64) -> Result<Vec<StoredAlert>> {
        let rows = sqlx::query(
            "SELECT seq, body, created_ms FROM alerts WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(alert_from_row).collect()
    }

    /// Alerts of an event in event time.
    pub async fn alerts_of_event(&self, event_id: &str) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT seq, body, created_ms FROM alerts WHERE event_id = $1 ORDER BY at_ms, seq",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| alert_from_row(r).map(|s| s.alert))
            .collect()
    }

    /// Alerts of several events, in event time (one query per 500 ids).
    pub async fn alerts_of_events(&self, event_ids: &[&str]) -> Result<Vec<Alert>> {
        let mut out = Vec::new();
        for chunk in event_ids.chunks(500) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT seq, body, created_ms FROM alerts WHERE event_id IN ({}) ORDER BY at_ms, seq",
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql);
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                out.push(alert_from_row(r)?.alert);
            }
        }
        Ok(out)
    }

    /// Alerts that fired (event time) in `[from, to)`.
    pub async fn alerts_between(
        &self,
        from: DateTime<FixedOffset>,
        to: DateTime<FixedOffset>,
    ) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT seq, body, created_ms FROM alerts WHERE at_ms >= $1 AND at_ms < $2 ORDER BY at_ms, seq",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| alert_from_row(r).map(|s| s.alert))
            .collect()
    }

    /// The number of stored alerts.
    pub async fn count_alerts(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM alerts")
            .fetch_one(&self.pool)
            .await?)
    }

    // ---------------------------------------------------------------- deliveries (outbox)

    /// Records that `alert_id` must be delivered to each sink (idempotent).
    pub async fn enqueue_deliveries(&self, alert_id: &str, sinks: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for s in sinks {
            sqlx::query(
                "INSERT INTO deliveries (alert_id, sink, status, attempts, updated_ms)
                 VALUES ($1, $2, 'pending', 0, $3) ON CONFLICT (alert_id, sink) DO NOTHING",
            )
            .bind(alert_id)
            .bind(s)
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Alerts still pending for `sink`, oldest first.
    pub async fn pending_deliveries(&self, sink: &str, limit: i64) -> Result<Vec<Alert>> {
        let rows = sqlx::query(
            "SELECT a.seq, a.body, a.created_ms FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id
             WHERE d.sink = $1 AND d.status = 'pending' ORDER BY a.seq LIMIT $2",
        )
        .bind(sink)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| alert_from_row(r).map(|s| s.alert))
            .collect()
    }

    /// Claims up to `limit` deliveries of `sink` for `owner`: pending ones, and ones whose claim is
    /// older than `lease` (their owner died mid-send). Each row is claimed by one process only,
    /// also when several alert-stage processes share a PostgreSQL store: the status is checked
    /// again on the row being updated. Returns the claimed alerts, oldest first.
    pub async fn claim_deliveries(
        &self,
        sink: &str,
        owner: &str,
        limit: i64,
        lease: Duration,
    ) -> Result<Vec<Alert>> {
        let now = now_ms();
        let expired = now - lease.as_millis() as i64;
        let claimed: Vec<String> = sqlx::query_scalar(
            "UPDATE deliveries SET status = 'sending', owner = $1, claimed_ms = $2
             WHERE sink = $3
               AND (status = 'pending' OR (status = 'sending' AND claimed_ms < $4))
               AND alert_id IN (
                   SELECT d.alert_id FROM deliveries d JOIN alerts a ON a.alert_id = d.alert_id
                   WHERE d.sink = $3
                     AND (d.status = 'pending' OR (d.status = 'sending' AND d.claimed_ms < $4))
                   ORDER BY a.seq LIMIT $5)
             RETURNING alert_id",
        )
        .bind(owner)
        .bind(now)
        .bind(sink)
        .bind(expired)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        if claimed.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(claimed.len());
        for id in claimed {
            if let Some(a) = self.alert(&id).await? {
                out.push(a);
            }
        }
        out.sort_by_key(|s| s.seq);
        Ok(out.into_iter().map(|s| s.alert).collect())
    }

    /// Gives claimed deliveries back (pending again), for example when quiet hours hold them or
    /// the process shuts down before sending.
    pub async fn release_deliveries(
        &self,
        sink: &str,
        owner: &str,
        alert_ids: &[String],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for id in alert_ids {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', owner = NULL, claimed_ms = NULL
                 WHERE alert_id = $1 AND sink = $2 AND owner = $3 AND status = 'sending'",
            )
            .bind(id)
            .bind(sink)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Gives back every claim (only for a store one process uses: after a crash, the claims of
    /// the dead process need not wait for their lease). Returns how many were released.
    pub async fn release_all_claims(&self) -> Result<u64> {
        let r = sqlx::query(
            "UPDATE deliveries SET status = 'pending', owner = NULL, claimed_ms = NULL WHERE status = 'sending'",
        )
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected())
    }

    /// Records the outcome of a delivery attempt.
    pub async fn mark_delivery(
        &self,
        alert_id: &str,
        sink: &str,
        status: DeliveryStatus,
        error: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE deliveries SET status = $1, attempts = attempts + 1, last_error = $2, updated_ms = $3
             WHERE alert_id = $4 AND sink = $5",
        )
        .bind(status.as_str())
        .bind(error.map(str::to_string))
        .bind(now_ms())
        .bind(alert_id)
        .bind(sink)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The delivery status of an alert to a sink.
    pub async fn delivery_status(
        &self,
        alert_id: &str,
        sink: &str,
    ) -> Result<Option<DeliveryStatus>> {
        let s: Option<String> =
            sqlx::query_scalar("SELECT status FROM deliveries WHERE alert_id = $1 AND sink = $2")
                .bind(alert_id)
                .bind(sink)
                .fetch_optional(&self.pool)
                .await?;
        Ok(s.map(|s| match s.as_str() {
            "delivered" => DeliveryStatus::Delivered,
            "dead" => DeliveryStatus::Dead,
            // 'sending' is a pending delivery someone has claimed.
            _ => DeliveryStatus::Pending,
        }))
    }

    // ---------------------------------------------------------------- collector state

    /// A source's cursor state.
    pub async fn source_state(&self, source: &str) -> Result<Option<serde_json::Value>> {
        let s: Option<String> =
            sqlx::query_scalar("SELECT state FROM source_state WHERE source = $1")
                .bind(source)
                .fetch_optional(&self.pool)
                .await?;
        s.map(|s| serde_json::from_str(&s).map_err(corrupt))
            .transpose()
    }

    /// Saves a source's cursor state.
    pub async fn put_source_state(&self, source: &str, state: &serde_json::Value) -> Result<()> {
        sqlx::query(
            "INSERT INTO source_state (source, state, updated_ms) VALUES ($1, $2, $3)
             ON CONFLICT (source) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms",
        )
        .bind(source)
        .bind(state.to_string())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// For each key, whether it was seen for `source`.
    pub async fn seen(&self, source: &str, keys: &[String]) -> Result<Vec<bool>> {
        let mut out = Vec::with_capacity(keys.len());
        let mut conn = self.pool.acquire().await?;
        for k in keys {
            let hit: Option<i64> =
                sqlx::query_scalar("SELECT 1 FROM seen WHERE source = $1 AND key = $2")
                    .bind(source)
                    .bind(k)
                    .fetch_optional(&mut *conn)
                    .await?;
            out.push(hit.is_some());
        }
        Ok(out)
    }

    /// Records keys as seen for `source`.
    pub async fn mark_seen(&self, source: &str, keys: &[String]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        let t = now_ms();
        for k in keys {
            sqlx::query(
                "INSERT INTO seen (source, key, first_ms) VALUES ($1, $2, $3) ON CONFLICT (source, key) DO NOTHING",
            )
            .bind(source)
            .bind(k)
            .bind(t)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    // ---------------------------------------------------------------- dead letter and kv

    /// Puts a record a stage could not process into the dead letter.
    pub async fn dead_letter(&self, stage: &str, reason: &str, payload: &[u8]) -> Result<()> {
        sqlx::query(
            "INSERT INTO deadletter (stage, reason, payload, at_ms) VALUES ($1, $2, $3, $4)",
        )
        .bind(stage)
        .bind(reason)
        .bind(String::from_utf8_lossy(payload).into_owned())
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The dead letter, oldest first.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>> {
        let rows = sqlx::query(
            "SELECT id, stage, reason, payload, at_ms FROM deadletter ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(DeadLetter {
                    id: r.try_get("id")?,
                    stage: r.try_get("stage")?,
                    reason: r.try_get("reason")?,
                    payload: r.try_get("payload")?,
                    at: from_ms(r.try_get("at_ms")?),
                })
            })
            .collect()
    }

    /// A small value by key.
    pub async fn get_kv(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM kv WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Sets a small value by key.
    pub async fn put_kv(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO kv (key, value, updated_ms) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_ms = excluded.updated_ms",
        )
        .bind(key)
        .bind(value)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The pool, for crates that add their own tables through later migrations.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }
}

fn judged_from_row(r: AnyRow) -> Result<JudgedItem> {
    let body: String = r.try_get("body")?;
    let analysis: Option<String> = r.try_get("analysis")?;
    let item = Item::from_json(body.as_bytes()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let analysis: Analysis = match analysis {
        Some(a) => serde_json::from_str(&a).map_err(corrupt)?,
        None => Analysis::default(),
    };
    Ok(JudgedItem { item, analysis })
}

fn event_from_row(r: AnyRow) -> Result<Event> {
    let body: String = r.try_get("body")?;
    let grade: Option<String> = r.try_get("grade")?;
    let mut e =
        Event::from_json(body.as_bytes()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    if let Some(g) = grade.as_deref().and_then(yuqing_core::Grade::parse) {
        e.grade = Some(g);
    }
    Ok(e)
}

fn alert_from_row(r: AnyRow) -> Result<StoredAlert> {
    let body: String = r.try_get("body")?;
    let created: i64 = r.try_get("created_ms")?;
    let alert =
        Alert::from_json(body.as_bytes()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(StoredAlert {
        seq: r.try_get("seq")?,
        alert,
        created: from_ms(created),
    })
}

impl FromStr for Backend {
    type Err = StoreError;
    fn from_str(url: &str) -> Result<Backend> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url(url.to_string()))
        }
    }
}
