//! The report model: a [`Report`] is a list of [`Section`]s of [`Block`]s, and every statement,
//! fact, table row and chart carries the [`Evidence`] behind it. The appendix lists each piece of
//! evidence once, with what the store says about it (an item's platform, author handle, time and
//! URL; an alert's kind and grade; an audit entry's actor and action).

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 网络舆情日志: one day's events with grades, owners and status.
    Daily,
    /// 舆情专报: one event in depth.
    Event,
    /// 定期通报: handling per department and place over a period.
    Bulletin,
    /// 总结报告: the review of a closed case.
    Summary,
}

impl ReportKind {
    /// Every kind.
    pub const ALL: [ReportKind; 4] = [
        ReportKind::Daily,
        ReportKind::Event,
        ReportKind::Bulletin,
        ReportKind::Summary,
    ];

    /// The wire name (`daily`, `event`, `bulletin`, `summary`), also a bounded metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Daily => "daily",
            ReportKind::Event => "event",
            ReportKind::Bulletin => "bulletin",
            ReportKind::Summary => "summary",
        }
    }

    /// The name of the document (舆情日志, 舆情专报, 定期通报, 总结报告).
    pub fn label(self) -> &'static str {
        match self {
            ReportKind::Daily => "网络舆情日志",
            ReportKind::Event => "舆情专报",
            ReportKind::Bulletin => "舆情处置定期通报",
            ReportKind::Summary => "舆情处置总结报告",
        }
    }
}

impl fmt::Display for ReportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The span of event time a report covers: `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// Start (inclusive).
    pub from: DateTime<FixedOffset>,
    /// End (exclusive).
    pub to: DateTime<FixedOffset>,
}

/// One record in the store that a statement rests on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Evidence {
    /// An item, by `source` and `id` (all of its observations).
    Item {
        /// The configured source.
        source: String,
        /// The id within the source.
        id: String,
    },
    /// An event, by id.
    Event {
        /// The event id.
        id: String,
    },
    /// An alert, by id.
    Alert {
        /// The alert id.
        id: String,
    },
    /// A case, by id.
    Case {
        /// The case id.
        id: String,
    },
    /// An entry of a case's append-only audit log.
    Audit {
        /// The case.
        case_id: String,
        /// The entry's position in the log.
        id: i64,
    },
}

impl Evidence {
    /// An item's evidence.
    pub fn item(source: impl Into<String>, id: impl Into<String>) -> Evidence {
        Evidence::Item {
            source: source.into(),
            id: id.into(),
        }
    }

    /// An event's evidence.
    pub fn event(id: impl Into<String>) -> Evidence {
        Evidence::Event { id: id.into() }
    }

    /// An alert's evidence.
    pub fn alert(id: impl Into<String>) -> Evidence {
        Evidence::Alert { id: id.into() }
    }

    /// A case's evidence.
    pub fn case(id: impl Into<String>) -> Evidence {
        Evidence::Case { id: id.into() }
    }

    /// An audit entry's evidence.
    pub fn audit(case_id: impl Into<String>, id: i64) -> Evidence {
        Evidence::Audit {
            case_id: case_id.into(),
            id,
        }
    }

    /// The kind as written in reports: `item`, `event`, `alert`, `case`, `audit`.
    pub fn kind(&self) -> &'static str {
        match self {
            Evidence::Item { .. } => "item",
            Evidence::Event { .. } => "event",
            Evidence::Alert { .. } => "alert",
            Evidence::Case { .. } => "case",
            Evidence::Audit { .. } => "audit",
        }
    }

    /// What a reader sees in Chinese: 信息, 事件, 预警, 案件, 审计.
    pub fn kind_label(&self) -> &'static str {
        match self {
            Evidence::Item { .. } => "信息",
            Evidence::Event { .. } => "事件",
            Evidence::Alert { .. } => "预警",
            Evidence::Case { .. } => "案件",
            Evidence::Audit { .. } => "审计记录",
        }
    }

    /// The identifier without the kind (`weibo/123`, `ev-…`, `42`).
    pub fn key(&self) -> String {
        match self {
            Evidence::Item { source, id } => format!("{source}/{id}"),
            Evidence::Event { id } | Evidence::Alert { id } | Evidence::Case { id } => id.clone(),
            Evidence::Audit { id, .. } => id.to_string(),
        }
    }

    /// A stable anchor for links to the appendix (`x-` and 16 hex digits: safe in HTML ids and
    /// Markdown, whatever characters the ids hold).
    pub fn anchor(&self) -> String {
        let key = match self {
            Evidence::Audit { case_id, id } => format!("{case_id}\u{1f}{id}"),
            other => other.key(),
        };
        yuqing_core::id::stable_id("x-", &[self.kind(), &key])
    }

    /// Parses the form [`Display`](fmt::Display) writes: `item:SOURCE/ID`, `event:ID`,
    /// `alert:ID`, `case:ID`, `audit:CASE#N`.
    pub fn parse(s: &str) -> Option<Evidence> {
        let (kind, rest) = s.split_once(':')?;
        if rest.is_empty() {
            return None;
        }
        match kind {
            "item" => {
                let (source, id) = rest.split_once('/')?;
                (!source.is_empty() && !id.is_empty()).then(|| Evidence::item(source, id))
            }
            "event" => Some(Evidence::event(rest)),
            "alert" => Some(Evidence::alert(rest)),
            "case" => Some(Evidence::case(rest)),
            "audit" => {
                let (case_id, n) = rest.rsplit_once('#')?;
                let n: i64 = n.parse().ok()?;
                (!case_id.is_empty()).then(|| Evidence::audit(case_id, n))
            }
            _ => None,
        }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Audit { case_id, id } => write!(f, "audit:{case_id}#{id}"),
            other => write!(f, "{}:{}", other.kind(), other.key()),
        }
    }
}

/// A sentence and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Statement {
    /// The text (plain text; renderers escape it).
    pub text: String,
    /// The records behind it.
    pub evidence: Vec<Evidence>,
}

impl Statement {
    /// A statement with its evidence.
    pub fn new(text: impl Into<String>, evidence: Vec<Evidence>) -> Statement {
        Statement {
            text: text.into(),
            evidence,
        }
    }
}

/// A labelled value ("等级: II 重大") and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fact {
    /// The label.
    pub label: String,
    /// The value.
    pub value: String,
    /// The records behind it.
    pub evidence: Vec<Evidence>,
}

impl Fact {
    /// A fact with its evidence.
    pub fn new(
        label: impl Into<String>,
        value: impl Into<String>,
        evidence: Vec<Evidence>,
    ) -> Fact {
        Fact {
            label: label.into(),
            value: value.into(),
            evidence,
        }
    }
}

/// A table row and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// One cell per column.
    pub cells: Vec<String>,
    /// The records behind the row.
    pub evidence: Vec<Evidence>,
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Column headings.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: Vec<Row>,
}

/// A chart as inline SVG, with its data as a table for text renderings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// The caption.
    pub title: String,
    /// The SVG document (generated by [`crate::svg`]; every label in it escaped).
    pub svg: String,
    /// The plotted numbers, for Markdown and for readers without images.
    pub data: Table,
    /// The records behind the chart.
    pub evidence: Vec<Evidence>,
}

/// A piece of a section.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", content = "content", rename_all = "snake_case")]
pub enum Block {
    /// A paragraph.
    Text(Statement),
    /// Labelled values.
    Facts(Vec<Fact>),
    /// A table.
    Table(Table),
    /// A chart.
    Chart(Chart),
    /// A quotation from a record (a rule's reasons, a department's facts), kept verbatim.
    Quote(Statement),
    /// How a number was counted (口径说明): method, not data, so it carries no evidence.
    Note(String),
}

/// A titled part of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// The heading.
    pub title: String,
    /// The content.
    pub blocks: Vec<Block>,
}

impl Section {
    /// An empty section.
    pub fn new(title: impl Into<String>) -> Section {
        Section {
            title: title.into(),
            blocks: Vec::new(),
        }
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Section {
        self.blocks.push(block);
        self
    }

    /// Appends a paragraph.
    pub fn text(&mut self, text: impl Into<String>, evidence: Vec<Evidence>) -> &mut Section {
        self.push(Block::Text(Statement::new(text, evidence)))
    }

    /// Appends a note on method.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Section {
        self.push(Block::Note(text.into()))
    }
}

/// What the appendix says about one piece of evidence, as read from the store.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceEntry {
    /// The evidence.
    pub evidence: Evidence,
    /// The time of the record (an item's publication, an alert's event time, an audit entry's
    /// time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<FixedOffset>>,
    /// A description (platform, author handle as published, title or the start of the text;
    /// an alert's kind and grade; an audit entry's actor and action).
    pub description: String,
    /// The link to the original (items), as the source gave it; renderers link only http(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// A report: the structured model behind every rendering.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Which report.
    pub kind: ReportKind,
    /// The title.
    pub title: String,
    /// When it was generated (on the injected clock, in the report's time zone).
    pub generated_at: DateTime<FixedOffset>,
    /// The event time it covers.
    pub period: Period,
    /// The content.
    pub sections: Vec<Section>,
    /// Every piece of evidence cited, once, in order of first citation.
    pub appendix: Vec<EvidenceEntry>,
}

impl Report {
    /// Every piece of evidence cited anywhere in the sections.
    pub fn cited(&self) -> BTreeSet<Evidence> {
        let mut out = BTreeSet::new();
        for s in &self.sections {
            for b in &s.blocks {
                match b {
                    Block::Text(st) | Block::Quote(st) => out.extend(st.evidence.iter().cloned()),
                    Block::Facts(fs) => {
                        for f in fs {
                            out.extend(f.evidence.iter().cloned());
                        }
                    }
                    Block::Table(t) => {
                        for r in &t.rows {
                            out.extend(r.evidence.iter().cloned());
                        }
                    }
                    Block::Chart(c) => {
                        out.extend(c.evidence.iter().cloned());
                        for r in &c.data.rows {
                            out.extend(r.evidence.iter().cloned());
                        }
                    }
                    Block::Note(_) => {}
                }
            }
        }
        out
    }

    /// A file name stem that says what the report is: `daily-2026-11-20`, `event-ev-…`,
    /// `bulletin-2026-11-01_2026-11-30`, `summary-case-…` (characters outside `[A-Za-z0-9_.-]`
    /// replaced by `_`).
    pub fn file_stem(&self) -> String {
        let d = |t: DateTime<FixedOffset>| t.format("%Y-%m-%d").to_string();
        let raw = match self.kind {
            ReportKind::Daily => format!("daily-{}", d(self.period.from)),
            ReportKind::Bulletin => {
                let last = self.period.to - chrono::Duration::milliseconds(1);
                format!("bulletin-{}_{}", d(self.period.from), d(last))
            }
            ReportKind::Event | ReportKind::Summary => {
                let subject = self
                    .appendix
                    .iter()
                    .find_map(|e| match (&e.evidence, self.kind) {
                        (Evidence::Event { id }, ReportKind::Event) => Some(id.clone()),
                        (Evidence::Case { id }, ReportKind::Summary) => Some(id.clone()),
                        _ => None,
                    })
                    .unwrap_or_else(|| d(self.period.from));
                format!("{}-{subject}", self.kind.as_str())
            }
        };
        raw.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    }

    /// Renders as Markdown.
    pub fn to_markdown(&self) -> String {
        crate::render::markdown(self)
    }

    /// Renders as one self-contained HTML page (inline CSS and SVG, no script, printable on A4).
    pub fn to_html(&self) -> String {
        crate::render::html(self)
    }

    /// The model as JSON (for the console and other tools).
    pub fn to_json(&self) -> String {
        // Every field is a string, number, list or struct with string keys: this cannot fail.
        serde_json::to_string_pretty(self).expect("a report always serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_serializes() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-20T09:00:00+08:00").unwrap();
        let ev = vec![Evidence::event("ev-1")];
        let r = Report {
            kind: ReportKind::Daily,
            title: "t".into(),
            generated_at: at,
            period: Period { from: at, to: at },
            sections: vec![Section {
                title: "s".into(),
                blocks: vec![
                    Block::Text(Statement::new("a", ev.clone())),
                    Block::Quote(Statement::new("b", ev.clone())),
                    Block::Facts(vec![Fact::new("c", "d", ev.clone())]),
                    Block::Table(Table {
                        columns: vec!["e".into()],
                        rows: vec![Row {
                            cells: vec!["f".into()],
                            evidence: ev.clone(),
                        }],
                    }),
                    Block::Chart(Chart {
                        title: "g".into(),
                        svg: "<svg/>".into(),
                        data: Table {
                            columns: vec![],
                            rows: vec![],
                        },
                        evidence: ev.clone(),
                    }),
                    Block::Note("h".into()),
                ],
            }],
            appendix: vec![],
        };
        let v: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(v["sections"][0]["blocks"][2]["type"], "facts");
        assert_eq!(v["sections"][0]["blocks"][5]["content"], "h");
        assert_eq!(
            v["sections"][0]["blocks"][0]["content"]["evidence"][0]["type"],
            "event"
        );
    }

    #[test]
    fn evidence_round_trips_through_its_text_form() {
        for e in [
            Evidence::item("weibo-kw", "5081001"),
            Evidence::item("forum", "t/88/213"),
            Evidence::event("ev-d05f7eb66e4e998a"),
            Evidence::alert("al-1"),
            Evidence::case("case-1"),
            Evidence::audit("case-1", 42),
        ] {
            assert_eq!(Evidence::parse(&e.to_string()), Some(e.clone()), "{e}");
            let a = e.anchor();
            assert!(a.starts_with("x-") && a.len() == 18, "{a}");
        }
        assert_eq!(Evidence::parse("item:nosource"), None);
        assert_eq!(Evidence::parse("audit:case-1#x"), None);
        assert_eq!(Evidence::parse("thing:1"), None);
        assert_eq!(Evidence::parse("event:"), None);
        assert_ne!(
            Evidence::event("1").anchor(),
            Evidence::alert("1").anchor(),
            "anchors of different kinds differ"
        );
    }
}
