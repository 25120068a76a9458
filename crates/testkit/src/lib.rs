//! # yuqing-testkit
//!
//! What yuqing's tests need from the real world, started for real:
//!
//! - [`Broker`]: a Kafka-protocol broker. `YUQING_KAFKA_BOOTSTRAP` points tests at an existing
//!   cluster; otherwise the `tansu` broker (installed by `.ci/install-tools`) is started on a free
//!   loopback port for the test and killed when dropped.
//! - [`PgDatabase`]: a fresh PostgreSQL database on the local server (`YUQING_PG_URL`, default
//!   `postgres://postgres@127.0.0.1:5432/postgres`), dropped afterwards.
//! - [`free_port`], [`unique`]: loopback ports and unique names for topics and groups.
#![warn(missing_docs)]

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rand::Rng;

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("binding 127.0.0.1:0")
}

/// A name unique to this test run: `prefix_<random>`.
pub fn unique(prefix: &str) -> String {
    let n: u64 = rand::thread_rng().gen();
    format!("{prefix}_{n:016x}")
}

/// Where the tansu broker binary is: `$YUQING_TANSU`, `~/.cache/yuqing/tools/tansu`, or `tansu`
/// on the PATH.
pub fn tansu_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("YUQING_TANSU") {
        return Some(PathBuf::from(p));
    }
    if let Ok(home) = std::env::var("HOME") {
        let p = PathBuf::from(home).join(".cache/yuqing/tools/tansu");
        if p.exists() {
            return Some(p);
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("tansu"))
            .find(|p| p.exists())
    })
}

/// A Kafka-protocol broker for one test.
#[derive(Debug)]
pub struct Broker {
    /// `host:port` to bootstrap from.
    pub bootstrap: String,
    child: Option<Child>,
}

impl Broker {
    /// Starts a broker (or uses `YUQING_KAFKA_BOOTSTRAP`). Panics with instructions when no broker
    /// can be had: these tests are part of the suite and must not pass silently without one.
    pub fn start() -> Broker {
        if let Ok(b) = std::env::var("YUQING_KAFKA_BOOTSTRAP") {
            return Broker {
                bootstrap: b,
                child: None,
            };
        }
        let bin = tansu_binary().expect(
            "no Kafka-protocol broker: run .ci/install-tools (installs tansu) or set \
             YUQING_KAFKA_BOOTSTRAP=host:port",
        );
        let port = free_port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let bootstrap = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&bootstrap).is_err() {
            assert!(
                Instant::now() < deadline,
                "broker did not listen on {bootstrap} within 20s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Broker {
            bootstrap,
            child: Some(child),
        }
    }

    /// Creates a topic with `partitions` partitions using the broker's own tool (tansu) — for
    /// tests that need a partition count before any client connects.
    pub fn create_topic(&self, name: &str, partitions: u32) {
        let Some(bin) = tansu_binary() else { return };
        if self.child.is_none() {
            return;
        }
        let status = Command::new(bin)
            .args([
                "topic",
                "create",
                name,
                "--partitions",
                &partitions.to_string(),
            ])
            .args(["--broker", &format!("tcp://{}", self.bootstrap)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("running tansu topic create");
        assert!(status.success(), "tansu topic create {name} failed");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A throw-away PostgreSQL database.
#[derive(Debug)]
pub struct PgDatabase {
    /// Connection URL of the new database.
    pub url: String,
    admin: String,
    name: String,
}

impl PgDatabase {
    /// The server URL to create databases on.
    pub fn admin_url() -> String {
        std::env::var("YUQING_PG_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
    }

    /// Creates a fresh database. Panics with instructions when the server is unreachable.
    pub async fn create() -> PgDatabase {
        use sqlx::Connection;
        let admin = Self::admin_url();
        let name = unique("yuqing_test");
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {admin} (set YUQING_PG_URL): {e}"));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE");
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        PgDatabase {
            url: format!("{base}/{name}"),
            admin,
            name,
        }
    }

    /// Drops the database (also attempted on drop, best effort).
    pub async fn drop_now(mut self) {
        self.drop_db().await;
        self.name.clear();
    }

    async fn drop_db(&self) {
        use sqlx::Connection;
        if self.name.is_empty() {
            return;
        }
        if let Ok(mut conn) = sqlx::PgConnection::connect(&self.admin).await {
            let _ = sqlx::query(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut conn)
            .await;
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if self.name.is_empty() {
            return;
        }
        let admin = self.admin.clone();
        let name = std::mem::take(&mut self.name);
        // Best effort from a fresh thread so it works inside and outside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            if let Ok(rt) = rt {
                rt.block_on(async move {
                    use sqlx::Connection;
                    if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&mut conn)
                                .await;
                    }
                });
            }
        })
        .join();
    }
}
