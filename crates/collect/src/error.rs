//! Errors of the collectors, each with a bounded `kind()` code for the `error_type` metric label.

use crate::{SinkError, StateError};

/// A failure of one HTTP fetch.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL does not parse or is not http(s).
    #[error("invalid url `{url}`: {message}")]
    InvalidUrl {
        /// The offending URL.
        url: String,
        /// Why it is invalid.
        message: String,
    },
    /// robots.txt of the host disallows the URL for our user agent.
    #[error("disallowed by robots.txt: {url}")]
    RobotsDenied {
        /// The URL that was not fetched.
        url: String,
    },
    /// The server did not answer in time.
    #[error("timed out fetching {url}")]
    Timeout {
        /// The URL.
        url: String,
    },
    /// No connection could be made.
    #[error("cannot connect for {url}: {message}")]
    Connect {
        /// The URL.
        url: String,
        /// The transport error.
        message: String,
    },
    /// Too many redirects, or a redirect loop.
    #[error("redirect error for {url}: {message}")]
    Redirect {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The server blocked us (HTTP 432 risk control, or a captcha page).
    #[error("blocked by the server at {url} ({reason})")]
    Blocked {
        /// The URL.
        url: String,
        /// What the server said (`http 432`, `captcha`).
        reason: String,
    },
    /// A non-success HTTP status.
    #[error("HTTP {status} for {url}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
    },
    /// The body exceeded the configured size limit and was cut.
    #[error("body of {url} exceeds {limit} bytes")]
    TooLarge {
        /// The URL.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// Any other transport failure while sending or reading the body.
    #[error("request for {url} failed: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// The transport error.
        message: String,
    },
}

impl FetchError {
    /// A bounded code for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            FetchError::InvalidUrl { .. } => "invalid_url",
            FetchError::RobotsDenied { .. } => "robots_denied",
            FetchError::Timeout { .. } => "timeout",
            FetchError::Connect { .. } => "connect",
            FetchError::Redirect { .. } => "redirect",
            FetchError::Blocked { .. } => "blocked",
            FetchError::Status { status, .. } if *status >= 500 => "http_5xx",
            FetchError::Status { .. } => "http_4xx",
            FetchError::TooLarge { .. } => "too_large",
            FetchError::Transport { .. } => "transport",
        }
    }

    /// Whether trying again later (not within this poll) may help.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            FetchError::Timeout { .. }
                | FetchError::Connect { .. }
                | FetchError::Transport { .. }
                | FetchError::Blocked { .. }
        ) || matches!(self, FetchError::Status { status, .. } if *status >= 500 || *status == 429)
    }
}

/// A failure of one poll of a source, or of setting a source up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CollectError {
    /// No source with that id is configured.
    #[error("no source `{0}` is configured")]
    UnknownSource(String),
    /// The source is configured but cannot run (bad selector, bad path …).
    #[error("source `{source_id}` cannot run: {message}")]
    Config {
        /// The source.
        source_id: String,
        /// Why.
        message: String,
    },
    /// The main fetch of the poll failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The source answered with risk control (captcha, `ok:-100`, HTTP 432): back off.
    #[error("source blocked us: {reason}")]
    Blocked {
        /// What the source said.
        reason: String,
    },
    /// The source's API answered with an error envelope (for example Weibo `ok:0`).
    #[error("source api error: {message}")]
    Api {
        /// The message of the envelope.
        message: String,
    },
    /// The body of the main page was not what the source kind expects.
    #[error("cannot parse {what}: {message}")]
    Parse {
        /// What was parsed (`feed`, `json`, `html`).
        what: &'static str,
        /// The parser's message.
        message: String,
    },
    /// Handing items downstream failed; nothing was marked seen, the next poll retries.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// The state store failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// A file-system operation of a `dir` source failed.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

impl CollectError {
    /// A bounded code for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CollectError::UnknownSource(_) => "unknown_source",
            CollectError::Config { .. } => "config",
            CollectError::Fetch(e) => e.kind(),
            CollectError::Blocked { .. } => "blocked",
            CollectError::Api { .. } => "api_error",
            CollectError::Parse { what: "feed", .. } => "malformed_feed",
            CollectError::Parse { what: "json", .. } => "malformed_json",
            CollectError::Parse { .. } => "malformed_html",
            CollectError::Sink(_) => "sink",
            CollectError::State(_) => "state",
            CollectError::Io { .. } => "io",
        }
    }

    /// Whether this error means the source is blocking us.
    pub fn is_blocked(&self) -> bool {
        matches!(
            self,
            CollectError::Blocked { .. } | CollectError::Fetch(FetchError::Blocked { .. })
        )
    }
}

/// A failure of [`crate::parse_ingest`] as a whole (single bad records are reported, not failed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// The content type is neither JSON nor JSON Lines.
    #[error("unsupported content type `{0}` (use application/json or application/x-ndjson)")]
    UnsupportedContentType(String),
    /// The body holds no record at all.
    #[error("empty body")]
    Empty,
}

impl IngestError {
    /// A bounded code for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            IngestError::UnsupportedContentType(_) => "unsupported_content_type",
            IngestError::Empty => "empty_body",
        }
    }
}
