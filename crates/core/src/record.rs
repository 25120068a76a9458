//! The record contracts: [`Item`] → [`JudgedItem`] → [`Event`] → [`Alert`].
//!
//! Every record is one JSON object per line (JSON Lines) and carries `schema_version`. The JSON
//! Schema of each lives in `crates/core/schema/*.schema.json`; tests check that these types and the
//! schemas agree. Unknown fields of an item are kept (in [`Item::extra`]) and written back out, never
//! rejected, so a collector or an upstream tool can carry its own fields through the pipeline.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The version of the record contracts this build reads and writes.
pub const SCHEMA_VERSION: u32 = 1;

fn schema_version() -> u32 {
    SCHEMA_VERSION
}

/// A record failed to parse or to validate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The bytes are not JSON of the record's shape.
    #[error("malformed record: {0}")]
    Json(#[from] serde_json::Error),
    /// The JSON parsed but a field breaks the contract.
    #[error("invalid record: field `{field}` {message}")]
    Invalid {
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// The record declares a schema version newer than this build understands.
    #[error("unsupported schema_version {0} (this build reads up to {SCHEMA_VERSION})")]
    Version(u32),
}

impl RecordError {
    /// A bounded code for the `error_type` label of metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            RecordError::Json(_) => "malformed_json",
            RecordError::Invalid { .. } => "invalid_record",
            RecordError::Version(_) => "unsupported_version",
        }
    }
}

/// Where an item was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Government portals and websites (门户网站).
    Portal,
    /// News sites.
    News,
    /// Forums, 贴吧, blogs.
    Forum,
    /// Weibo and other microblogs.
    Weibo,
    /// WeChat public accounts.
    Wechat,
    /// Message boards: 网络问政, 领导留言板, 12345 sites.
    Board,
    /// Hotline records (热线电话).
    Hotline,
    /// Comment threads (新闻跟帖).
    Comment,
    /// Anything else.
    Other,
}

impl Platform {
    /// Every platform, in declaration order.
    pub const ALL: [Platform; 9] = [
        Platform::Portal,
        Platform::News,
        Platform::Forum,
        Platform::Weibo,
        Platform::Wechat,
        Platform::Board,
        Platform::Hotline,
        Platform::Comment,
        Platform::Other,
    ];

    /// The wire name (`portal`, `news`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::Portal => "portal",
            Platform::News => "news",
            Platform::Forum => "forum",
            Platform::Weibo => "weibo",
            Platform::Wechat => "wechat",
            Platform::Board => "board",
            Platform::Hotline => "hotline",
            Platform::Comment => "comment",
            Platform::Other => "other",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Engagement counts of an item as seen at its `observed_at`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metrics {
    /// Reposts / shares (转发).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reposts: Option<u64>,
    /// Comments / replies (评论).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comments: Option<u64>,
    /// Likes (点赞).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub likes: Option<u64>,
    /// Views / reads (阅读).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
}

impl Metrics {
    /// True when no count is known.
    pub fn is_empty(&self) -> bool {
        self.reposts.is_none()
            && self.comments.is_none()
            && self.likes.is_none()
            && self.views.is_none()
    }
}

/// What collectors emit and what `--input` files hold: one public post, page, comment or record.
///
/// The same `source` + `id` observed again later with new [`Metrics`] is a *re-observation*; that
/// is how spread is measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Contract version; absent means the current one.
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    /// Unique within `source`.
    pub id: String,
    /// The configured source that produced the item (a config id such as `demo-weibo`).
    pub source: String,
    /// The kind of place it was published.
    pub platform: Platform,
    /// Canonical link to the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Title or headline, where the source has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The text (required, may contain markup; the analyzer normalises it).
    pub text: String,
    /// What the source published about the author (handle or id), nothing more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// When it was published (RFC 3339).
    pub published_at: DateTime<FixedOffset>,
    /// When these counts were seen (RFC 3339); defaults to `published_at`.
    #[serde(default = "unset_time")]
    pub observed_at: DateTime<FixedOffset>,
    /// The original post of a repost/comment tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_id: Option<String>,
    /// What this repost or comment answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// Engagement counts at `observed_at`.
    #[serde(default, skip_serializing_if = "Metrics::is_empty")]
    pub metrics: Metrics,
    /// A place hint from the source (a city or county name, or an administrative code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// A training label (category name); used only by `yuqing train`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Unknown fields, kept and written back out.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The sentinel that marks an absent `observed_at` before [`Item::normalize`] fills it.
fn unset_time() -> DateTime<FixedOffset> {
    DateTime::<chrono::Utc>::MIN_UTC.fixed_offset()
}

impl Item {
    /// Parses one JSON object and checks it against the contract (see [`Item::normalize`]).
    pub fn from_json(bytes: &[u8]) -> Result<Item, RecordError> {
        let mut item: Item = serde_json::from_slice(bytes)?;
        item.normalize()?;
        Ok(item)
    }

    /// Fills defaults (`observed_at` = `published_at`) and checks the required fields.
    pub fn normalize(&mut self) -> Result<(), RecordError> {
        if self.schema_version > SCHEMA_VERSION {
            return Err(RecordError::Version(self.schema_version));
        }
        self.schema_version = SCHEMA_VERSION;
        if self.observed_at == unset_time() {
            self.observed_at = self.published_at;
        }
        if self.id.trim().is_empty() {
            return Err(invalid("id", "must not be empty"));
        }
        if self.source.trim().is_empty() {
            return Err(invalid("source", "must not be empty"));
        }
        if self.text.trim().is_empty() && self.title.as_deref().is_none_or(|t| t.trim().is_empty())
        {
            return Err(invalid("text", "must not be empty"));
        }
        if self.observed_at < self.published_at {
            // A clock skew between a source and us: never observed before published.
            self.observed_at = self.published_at;
        }
        Ok(())
    }

    /// `source` + `id`: the identity of the post across re-observations.
    pub fn key(&self) -> String {
        format!("{}\u{1f}{}", self.source, self.id)
    }

    /// The partition key: related records (a post, its reposts and comments) share it.
    pub fn partition_key(&self) -> &str {
        self.root_id.as_deref().unwrap_or(&self.id)
    }

    /// The partition key under `keying` ([`ItemKeying`]).
    pub fn partition_key_by(&self, keying: ItemKeying) -> &str {
        match keying {
            ItemKeying::Thread => self.partition_key(),
            ItemKeying::Region => self
                .region
                .as_deref()
                .map(str::trim)
                .filter(|r| !r.is_empty())
                .unwrap_or_else(|| self.partition_key()),
        }
    }

    /// Serializes to one JSON line (without the newline).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Item always serializes")
    }
}

fn invalid(field: &'static str, message: &str) -> RecordError {
    RecordError::Invalid {
        field,
        message: message.to_string(),
    }
}

/// Which key items are partitioned by on the items topic, and so which items meet in one
/// analyze process when several share the work.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKeying {
    /// The root post (`root_id`, else `id`): a post, its reposts and comments meet; reports of
    /// one incident from other platforms merge only when they land on the same process.
    #[default]
    Thread,
    /// The item's region hint (`region`, which a source's `region` setting fills), else the
    /// root post: everything the sources of one place publish meets in one process, so
    /// cross-platform reports of a local incident merge however many processes share the work.
    Region,
}

/// How the public should be answered (seed 003, part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum HandlingClass {
    /// Questions and requests: the department answers.
    #[serde(rename = "询问诉求")]
    Inquiry,
    /// Malicious spreading or hype: state the facts, track it.
    #[serde(rename = "恶意传播炒作")]
    Hype,
    /// Constructive suggestions: adopt and reply.
    #[serde(rename = "建设性意见")]
    Suggestion,
}

impl HandlingClass {
    /// The Chinese name as written in the regulations.
    pub fn as_str(self) -> &'static str {
        match self {
            HandlingClass::Inquiry => "询问诉求",
            HandlingClass::Hype => "恶意传播炒作",
            HandlingClass::Suggestion => "建设性意见",
        }
    }
}

/// One explanation of a number: which rule or term contributed what to which score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reason {
    /// The field the reason explains: `sensitivity`, `sentiment`, `category`, `department`,
    /// `region`, `response_subject`, `handling_class`, `event`, `grade`, ….
    pub about: String,
    /// The rule, lexicon or feature that fired (for example `lexicon:安全事故` or `rule:群体事件`).
    pub rule: String,
    /// The evidence in words: matched terms, values.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub evidence: String,
    /// The contribution to the score, where the score is numeric.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

impl Reason {
    /// A reason without a numeric contribution.
    pub fn new(
        about: impl Into<String>,
        rule: impl Into<String>,
        evidence: impl Into<String>,
    ) -> Reason {
        Reason {
            about: about.into(),
            rule: rule.into(),
            evidence: evidence.into(),
            weight: None,
        }
    }

    /// Sets the numeric contribution.
    pub fn weighted(mut self, weight: f64) -> Reason {
        self.weight = Some(weight);
        self
    }
}

/// What the judgment stage adds to an item.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// First-level category of the government message taxonomy, exactly as written there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Second/third levels where known (`二级/三级`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subcategory: Option<String>,
    /// The owning department (谁主管谁负责).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The place (属地管理): the most specific administrative division found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The administrative division code of `region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region_code: Option<String>,
    /// Who responds first (回应主体), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_subject: Vec<String>,
    /// 询问诉求, 恶意传播炒作 or 建设性意见.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_class: Option<HandlingClass>,
    /// Sensitivity in 0..1.
    pub sensitivity: f64,
    /// Sentiment in -1..1 (negative is negative).
    pub sentiment: f64,
    /// Sensitivity topics that matched (安全事故, 自然灾害, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// Keywords of the text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    /// The near-duplicate fingerprint (SimHash, hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// The event this item was merged into.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// Why every number above is what it is.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// Fields added by later versions or plug-ins.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An item plus its analysis: what the analyze stage writes to `yuqing.scored`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JudgedItem {
    /// The item as collected.
    #[serde(flatten)]
    pub item: Item,
    /// The judgment.
    pub analysis: Analysis,
}

impl JudgedItem {
    /// Parses one JSON line.
    pub fn from_json(bytes: &[u8]) -> Result<JudgedItem, RecordError> {
        let mut j: JudgedItem = serde_json::from_slice(bytes)?;
        j.item.normalize()?;
        Ok(j)
    }

    /// Serializes to one JSON line (without the newline).
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a JudgedItem always serializes")
    }
}

/// Where an event is on the "2 小时上网发布，6 小时转播，24 小时达到高潮" curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 萌芽: 0–2 h after first sight.
    Emerging,
    /// 扩散: 2–6 h.
    Spreading,
    /// 高潮: 6–24 h.
    Peak,
    /// 消退: after the peak, or quiet.
    Fading,
}

impl Stage {
    /// The Chinese name a duty officer reads.
    pub fn label(self) -> &'static str {
        match self {
            Stage::Emerging => "萌芽",
            Stage::Spreading => "扩散",
            Stage::Peak => "高潮",
            Stage::Fading => "消退",
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Emerging => "emerging",
            Stage::Spreading => "spreading",
            Stage::Peak => "peak",
            Stage::Fading => "fading",
        }
    }
}

/// Warning grades of Chinese emergency management.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grade {
    /// I 特别重大 (red).
    I,
    /// II 重大 (orange).
    II,
    /// III 较大 (yellow).
    III,
    /// IV 一般 (blue).
    IV,
}

impl Grade {
    /// All grades, most severe first.
    pub const ALL: [Grade; 4] = [Grade::I, Grade::II, Grade::III, Grade::IV];

    /// Severity rank: 4 for I down to 1 for IV (higher is more severe).
    pub fn severity(self) -> u8 {
        match self {
            Grade::I => 4,
            Grade::II => 3,
            Grade::III => 2,
            Grade::IV => 1,
        }
    }

    /// The grade one level more severe (I stays I).
    pub fn up(self) -> Grade {
        match self {
            Grade::I | Grade::II => Grade::I,
            Grade::III => Grade::II,
            Grade::IV => Grade::III,
        }
    }

    /// `I`, `II`, `III`, `IV`.
    pub fn as_str(self) -> &'static str {
        match self {
            Grade::I => "I",
            Grade::II => "II",
            Grade::III => "III",
            Grade::IV => "IV",
        }
    }

    /// Parses `I`..`IV`.
    pub fn parse(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == s)
    }

    /// 特别重大, 重大, 较大, 一般.
    pub fn label(self) -> &'static str {
        match self {
            Grade::I => "特别重大",
            Grade::II => "重大",
            Grade::III => "较大",
            Grade::IV => "一般",
        }
    }

    /// 红色, 橙色, 黄色, 蓝色.
    pub fn colour(self) -> &'static str {
        match self {
            Grade::I => "红色",
            Grade::II => "橙色",
            Grade::III => "黄色",
            Grade::IV => "蓝色",
        }
    }
}

impl PartialOrd for Grade {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Grade {
    /// Ordered by severity: `IV < III < II < I`.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.severity().cmp(&other.severity())
    }
}

impl fmt::Display for Grade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Cumulative counts of an event over event time.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    /// Distinct items (posts, reposts, comments, pages) merged into the event.
    pub items: u64,
    /// Reposts: the latest repost counts of its posts plus repost items seen.
    pub reposts: u64,
    /// Comments, likewise.
    pub comments: u64,
    /// Likes, likewise.
    pub likes: u64,
    /// Views, likewise.
    pub views: u64,
    /// Distinct platforms.
    pub platforms: u32,
    /// Distinct sources.
    pub sources: u32,
    /// Official accounts involved (政务号, government portals).
    pub official: u32,
    /// Media accounts involved.
    pub media: u32,
}

/// The forecast of an event's size 24 hours after first sight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecast of the 24-hour size (items + reposts + comments).
    pub size: f64,
    /// Lower end of the uncertainty band.
    pub low: f64,
    /// Upper end of the uncertainty band.
    pub high: f64,
    /// When the peak is expected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_at: Option<DateTime<FixedOffset>>,
    /// The model that produced it.
    pub method: String,
}

/// A cluster of items about one incident, as of `updated_at` (event time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Contract version.
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    /// Deterministic id derived from the first item.
    pub event_id: String,
    /// A title for people.
    pub title: String,
    /// Keywords of the cluster.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Event time of the first item.
    pub first_seen: DateTime<FixedOffset>,
    /// The source of the first item.
    pub first_source: String,
    /// Link to the first item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_url: Option<String>,
    /// Event time of the latest item or re-observation.
    pub last_seen: DateTime<FixedOffset>,
    /// The event time this snapshot describes.
    pub updated_at: DateTime<FixedOffset>,
    /// Stage on the curve.
    pub stage: Stage,
    /// Growth in interactions (items + reposts + comments) per hour over the last hour.
    pub velocity: f64,
    /// Change of velocity per hour.
    pub acceleration: f64,
    /// Forecast of the 24-hour size.
    pub forecast_peak: Forecast,
    /// The grade, once the alert stage has graded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grade: Option<Grade>,
    /// Cumulative counts.
    pub counts: Counts,
    /// Highest sensitivity among its items.
    pub sensitivity: f64,
    /// Mean sentiment of its items.
    pub sentiment: f64,
    /// The dominant category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The owning department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Who responds first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_subject: Vec<String>,
    /// Handling class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handling_class: Option<HandlingClass>,
    /// Sensitivity topics seen in its items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub topics: Vec<String>,
    /// The items behind the latest change, for traceability (`source`/`id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Why the event looks the way it does.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// Fields added by later versions.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Event {
    /// Parses one JSON line.
    pub fn from_json(bytes: &[u8]) -> Result<Event, RecordError> {
        let e: Event = serde_json::from_slice(bytes)?;
        if e.schema_version > SCHEMA_VERSION {
            return Err(RecordError::Version(e.schema_version));
        }
        Ok(e)
    }

    /// Serializes to one JSON line.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Event always serializes")
    }

    /// Interactions: items + reposts + comments, the size the forecast predicts.
    pub fn size(&self) -> f64 {
        (self.counts.items + self.counts.reposts + self.counts.comments) as f64
    }
}

/// Why an alert was sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// First warning of an event.
    New,
    /// The grade went up.
    Escalated,
    /// A deadline is near.
    Reminder,
    /// A deadline was missed; the alert goes to the level above.
    Overdue,
    /// The event calmed down (消退).
    Calmed,
    /// A calm or closed event flared again.
    Flared,
    /// A source stopped delivering (collector health).
    SourceHealth,
}

impl AlertKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::New => "new",
            AlertKind::Escalated => "escalated",
            AlertKind::Reminder => "reminder",
            AlertKind::Overdue => "overdue",
            AlertKind::Calmed => "calmed",
            AlertKind::Flared => "flared",
            AlertKind::SourceHealth => "source_health",
        }
    }

    /// What a duty officer reads.
    pub fn label(self) -> &'static str {
        match self {
            AlertKind::New => "新预警",
            AlertKind::Escalated => "升级",
            AlertKind::Reminder => "时限提醒",
            AlertKind::Overdue => "超时升级",
            AlertKind::Calmed => "已消退",
            AlertKind::Flared => "再次升温",
            AlertKind::SourceHealth => "信源异常",
        }
    }
}

/// A due time attached to an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deadline {
    /// A stable key (`first_release`, `press_conference`, `response`).
    pub kind: String,
    /// What is due, in words (首次权威发布, 新闻发布会, 回应).
    pub label: String,
    /// When.
    pub due: DateTime<FixedOffset>,
}

/// A graded warning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Contract version.
    #[serde(default = "schema_version")]
    pub schema_version: u32,
    /// Deterministic: the same event, kind and grade change always give the same id.
    pub alert_id: String,
    /// The event.
    pub event_id: String,
    /// Why this alert exists.
    pub kind: AlertKind,
    /// The grade.
    pub grade: Grade,
    /// The grade before, for escalations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_grade: Option<Grade>,
    /// Stage on the curve.
    pub stage: Stage,
    /// The event's title.
    pub title: String,
    /// The owning department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The place.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Who responds first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub response_subject: Vec<String>,
    /// Due times.
    #[serde(default)]
    pub deadlines: Vec<Deadline>,
    /// The rule that fired, by name.
    pub rule: String,
    /// The inputs and the rule, in words.
    #[serde(default)]
    pub reasons: Vec<Reason>,
    /// A link to the first item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Event time at which the alert fired.
    pub at: DateTime<FixedOffset>,
    /// Fields added by later versions (for example the sink routing).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Alert {
    /// Parses one JSON line.
    pub fn from_json(bytes: &[u8]) -> Result<Alert, RecordError> {
        let a: Alert = serde_json::from_slice(bytes)?;
        if a.schema_version > SCHEMA_VERSION {
            return Err(RecordError::Version(a.schema_version));
        }
        Ok(a)
    }

    /// Serializes to one JSON line.
    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("an Alert always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"{"id":"1","source":"s","platform":"weibo","text":"x","published_at":"2026-11-22T10:00:00+08:00"}"#;

    #[test]
    fn observed_defaults_to_published() {
        let i = Item::from_json(MIN.as_bytes()).unwrap();
        assert_eq!(i.observed_at, i.published_at);
        assert_eq!(i.schema_version, SCHEMA_VERSION);
    }

    #[test]
    fn partition_keys_by_thread_or_region() {
        let mut i = Item::from_json(MIN.as_bytes()).unwrap();
        assert_eq!(i.partition_key_by(ItemKeying::Thread), "1");
        assert_eq!(
            i.partition_key_by(ItemKeying::Region),
            "1",
            "no hint: the thread"
        );
        i.root_id = Some("0".into());
        i.region = Some(" ".into());
        assert_eq!(
            i.partition_key_by(ItemKeying::Region),
            "0",
            "a blank hint is none"
        );
        i.region = Some(" 万载县 ".into());
        assert_eq!(i.partition_key_by(ItemKeying::Thread), "0");
        assert_eq!(i.partition_key_by(ItemKeying::Region), "万载县");
        let k: ItemKeying = serde_json::from_str("\"region\"").unwrap();
        assert_eq!(k, ItemKeying::Region);
    }

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let line = r#"{"id":"1","source":"s","platform":"news","text":"x","published_at":"2026-11-22T10:00:00+08:00","x_vendor":{"a":1}}"#;
        let i = Item::from_json(line.as_bytes()).unwrap();
        let out: Value = serde_json::from_slice(&i.to_json()).unwrap();
        assert_eq!(out["x_vendor"]["a"], 1);
        let again = Item::from_json(&i.to_json()).unwrap();
        assert_eq!(again, i);
    }

    #[test]
    fn rejects_missing_and_empty_fields() {
        let no_text = r#"{"id":"1","source":"s","platform":"news","published_at":"2026-11-22T10:00:00+08:00"}"#;
        assert!(matches!(
            Item::from_json(no_text.as_bytes()),
            Err(RecordError::Json(_))
        ));
        let empty = r#"{"id":"1","source":"s","platform":"news","text":" ","published_at":"2026-11-22T10:00:00+08:00"}"#;
        assert!(matches!(
            Item::from_json(empty.as_bytes()),
            Err(RecordError::Invalid { field: "text", .. })
        ));
        let bad_platform = MIN.replace("weibo", "myspace");
        assert!(Item::from_json(bad_platform.as_bytes()).is_err());
        let bad_time = MIN.replace("2026-11-22T10:00:00+08:00", "yesterday");
        assert!(Item::from_json(bad_time.as_bytes()).is_err());
        let future = MIN.replace("{\"id\"", "{\"schema_version\":99,\"id\"");
        assert!(matches!(
            Item::from_json(future.as_bytes()),
            Err(RecordError::Version(99))
        ));
    }

    #[test]
    fn judged_item_keeps_item_fields_flat() {
        let i = Item::from_json(MIN.as_bytes()).unwrap();
        let j = JudgedItem {
            item: i,
            analysis: Analysis {
                sensitivity: 0.5,
                ..Analysis::default()
            },
        };
        let v: Value = serde_json::from_slice(&j.to_json()).unwrap();
        assert_eq!(v["id"], "1");
        assert_eq!(v["analysis"]["sensitivity"], 0.5);
        let back = JudgedItem::from_json(&j.to_json()).unwrap();
        assert_eq!(back, j);
        assert!(
            back.item.extra.is_empty(),
            "analysis must not leak into item.extra"
        );
    }

    #[test]
    fn grades_order_by_severity() {
        assert!(Grade::I > Grade::II && Grade::II > Grade::III && Grade::III > Grade::IV);
        assert_eq!(Grade::IV.up(), Grade::III);
        assert_eq!(Grade::I.up(), Grade::I);
        assert_eq!(Grade::parse("III"), Some(Grade::III));
        assert_eq!(serde_json::to_string(&Grade::II).unwrap(), "\"II\"");
    }

    proptest::proptest! {
        #[test]
        fn item_parser_never_panics(s in ".{0,200}") {
            let _ = Item::from_json(s.as_bytes());
        }
    }
}
