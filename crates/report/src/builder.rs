//! What every builder shares: the time zone and "now" of a report, and assembling the report
//! with its appendix.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use yuqing_cases::Cases;

use crate::data::Appendix;
use crate::model::{Block, Evidence, Period, Report, ReportKind, Section};
use crate::render::time;

/// The time zone and generation time of one report.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx {
    /// The zone times are written in.
    pub tz: FixedOffset,
    /// Now, on the workflow's (injected) clock, in `tz`.
    pub now: DateTime<FixedOffset>,
}

impl Ctx {
    pub fn new(cases: &Cases, tz: FixedOffset) -> Ctx {
        Ctx {
            tz,
            now: cases.now_cst().with_timezone(&tz),
        }
    }

    /// `2026-11-20 07:42` in the report's zone.
    pub fn t(&self, x: DateTime<FixedOffset>) -> String {
        time(x.with_timezone(&self.tz))
    }

    /// A time in the report's zone.
    pub fn local(&self, x: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
        x.with_timezone(&self.tz)
    }
}

/// Every piece of evidence the sections cite, in order of first citation.
pub(crate) fn cited_in_order(sections: &[Section]) -> Vec<Evidence> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut take = |ev: &[Evidence]| {
        for e in ev {
            if seen.insert(e.clone()) {
                out.push(e.clone());
            }
        }
    };
    for s in sections {
        for b in &s.blocks {
            match b {
                Block::Text(st) | Block::Quote(st) => take(&st.evidence),
                Block::Facts(fs) => fs.iter().for_each(|f| take(&f.evidence)),
                Block::Table(t) => t.rows.iter().for_each(|r| take(&r.evidence)),
                Block::Chart(c) => {
                    take(&c.evidence);
                    c.data.rows.iter().for_each(|r| take(&r.evidence));
                }
                Block::Note(_) => {}
            }
        }
    }
    out
}

/// Assembles a report; the appendix lists the cited evidence in order of first citation.
pub(crate) fn finish(
    kind: ReportKind,
    title: String,
    period: Period,
    sections: Vec<Section>,
    appendix: Appendix,
    ctx: &Ctx,
) -> Report {
    let cited = cited_in_order(&sections);
    Report {
        kind,
        title,
        generated_at: ctx.now,
        period: Period {
            from: ctx.local(period.from),
            to: ctx.local(period.to),
        },
        sections,
        appendix: appendix.finish(&cited),
    }
}
