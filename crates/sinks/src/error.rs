//! Errors of delivery and of building sinks, with their retry semantics.

use std::path::PathBuf;
use std::time::Duration;

use yuqing_core::Problems;

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryHint {
    /// Retrying cannot help (a malformed request, a rejected address): dead-letter at once.
    Never,
    /// A transient failure: retry with exponential backoff and jitter.
    Backoff,
    /// The channel said "too fast": wait longer (at least the sink's `rate_limited_backoff`, or
    /// the server's `Retry-After` when it is longer).
    RateLimited(Option<Duration>),
}

/// Delivery to one sink failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The request did not complete: connection refused or reset, DNS, timeout.
    #[error("network error: {0}")]
    Network(#[source] reqwest::Error),
    /// The server answered with a non-success HTTP status.
    #[error("HTTP status {status}: {body}")]
    Status {
        /// The status code.
        status: u16,
        /// The start of the response body.
        body: String,
        /// The `Retry-After` the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// The channel answered HTTP 200 with a failure code (`errcode != 0`, `code != 0`).
    #[error("channel error code {code}: {message}")]
    Channel {
        /// `errcode` (企业微信, 钉钉) or `code` (飞书).
        code: i64,
        /// `errmsg` / `msg`.
        message: String,
        /// True for the channel's "too fast" codes.
        rate_limited: bool,
    },
    /// The server answered 2xx with a body that is not the channel's response shape.
    #[error("unexpected response: {0}")]
    Response(String),
    /// The SMTP conversation failed.
    #[error("SMTP: {0}")]
    Smtp(#[source] lettre::transport::smtp::Error),
    /// The e-mail could not be built (an address or header was rejected).
    #[error("e-mail message: {0}")]
    Email(String),
    /// Writing the alert file failed.
    #[error("I/O on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The message could not be rendered for this channel.
    #[error("render: {0}")]
    Render(String),
    /// A message split into pieces failed after some pieces were delivered.
    #[error("piece {failed} of {total} failed (the ones before were delivered): {source}")]
    Partial {
        /// The piece that failed (1-based).
        failed: usize,
        /// How many pieces the message had.
        total: usize,
        /// Why it failed.
        #[source]
        source: Box<SinkError>,
    },
    /// The dispatcher shut down before the alert could be delivered.
    #[error("the dispatcher shut down before delivery")]
    Shutdown,
}

impl SinkError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SinkError::Network(e) if e.is_timeout() => "timeout",
            SinkError::Network(e) if e.is_connect() => "connect",
            SinkError::Network(_) => "network",
            SinkError::Status { status, .. } if *status == 429 => "http_429",
            SinkError::Status { status, .. } if *status >= 500 => "http_5xx",
            SinkError::Status { .. } => "http_4xx",
            SinkError::Channel {
                rate_limited: true, ..
            } => "channel_rate_limited",
            SinkError::Channel { .. } => "channel_error",
            SinkError::Response(_) => "bad_response",
            SinkError::Smtp(_) => "smtp",
            SinkError::Email(_) => "email_build",
            SinkError::Io { .. } => "io",
            SinkError::Render(_) => "render",
            SinkError::Partial { source, .. } => source.kind(),
            SinkError::Shutdown => "shutdown",
        }
    }

    /// Whether and how to retry.
    pub fn retry(&self) -> RetryHint {
        match self {
            SinkError::Network(e) if e.is_builder() => RetryHint::Never,
            SinkError::Network(_) => RetryHint::Backoff,
            SinkError::Status {
                status,
                retry_after,
                ..
            } => match *status {
                429 => RetryHint::RateLimited(*retry_after),
                408 | 500..=599 => RetryHint::Backoff,
                _ => RetryHint::Never,
            },
            SinkError::Channel {
                rate_limited: true, ..
            } => RetryHint::RateLimited(None),
            SinkError::Channel { .. } => RetryHint::Backoff,
            SinkError::Response(_) => RetryHint::Backoff,
            SinkError::Smtp(e) if e.is_permanent() => RetryHint::Never,
            SinkError::Smtp(_) => RetryHint::Backoff,
            SinkError::Email(_) | SinkError::Render(_) | SinkError::Shutdown => RetryHint::Never,
            SinkError::Io { .. } => RetryHint::Backoff,
            SinkError::Partial { source, .. } => source.retry(),
        }
    }
}

/// The dispatcher could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration has problems (each with its key path).
    #[error("invalid sink configuration:\n{0}")]
    Config(Problems),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Http(#[source] reqwest::Error),
    /// The SMTP transport could not be built.
    #[error("SMTP transport of sink `{sink}`: {source}")]
    Smtp {
        /// The sink id.
        sink: String,
        /// The error.
        #[source]
        source: lettre::transport::smtp::Error,
    },
}
