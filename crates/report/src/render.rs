//! Markdown and HTML renderings of a [`Report`].
//!
//! The HTML is one self-contained page: inline CSS (A4 print rules included), inline SVG, no
//! script, a Content-Security-Policy that forbids scripts and remote content, and markup that is
//! also well-formed XML. Every string from the model is escaped; item links are emitted only for
//! `http(s)` URLs. Evidence ids link to the appendix, which lists each record with its URL.

use std::fmt::Write;

use base64::Engine;
use chrono::{DateTime, FixedOffset};

use crate::escape::{self, html as esc, md};
use crate::model::{Block, Evidence, Report, Table};

const NUMERALS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
    "十五", "十六", "十七", "十八", "十九", "二十",
];

fn numeral(i: usize) -> String {
    NUMERALS
        .get(i)
        .map(|s| s.to_string())
        .unwrap_or_else(|| (i + 1).to_string())
}

/// The time format of reports.
pub(crate) fn time(t: DateTime<FixedOffset>) -> String {
    t.format("%Y-%m-%d %H:%M").to_string()
}

fn period_text(r: &Report) -> String {
    let last = r.period.to - chrono::Duration::milliseconds(1);
    if r.period.from.date_naive() == last.date_naive() && r.kind == crate::ReportKind::Daily {
        format!(
            "{}（{} 至 {}，UTC{}）",
            r.period.from.format("%Y年%m月%d日"),
            r.period.from.format("%H:%M"),
            r.period.to.format("%m-%d %H:%M"),
            r.period.from.offset()
        )
    } else {
        format!(
            "{} 至 {}（UTC{}）",
            time(r.period.from),
            time(r.period.to),
            r.period.from.offset()
        )
    }
}

// ------------------------------------------------------------------------------- Markdown

/// At most this many evidence links are written inline; the rest are counted (all are listed
/// in the appendix).
const INLINE_EVIDENCE: usize = 12;

fn rest_note(ev: &[Evidence]) -> String {
    if ev.len() > INLINE_EVIDENCE {
        format!("，等共 {} 项（均列于附录）", ev.len())
    } else {
        String::new()
    }
}

fn md_evidence(ev: &[Evidence]) -> String {
    if ev.is_empty() {
        return String::new();
    }
    let links: Vec<String> = ev
        .iter()
        .take(INLINE_EVIDENCE)
        .map(|e| format!("[{}](#{})", md(&e.to_string()), e.anchor()))
        .collect();
    format!("〔依据：{}{}〕", links.join("，"), rest_note(ev))
}

fn md_table(out: &mut String, t: &Table, with_evidence: bool) {
    let mut cols: Vec<String> = t.columns.iter().map(|c| md(c)).collect();
    if with_evidence {
        cols.push("依据".to_string());
    }
    let _ = writeln!(out, "| {} |", cols.join(" | "));
    let _ = writeln!(out, "|{}", "---|".repeat(cols.len()));
    for r in &t.rows {
        let mut cells: Vec<String> = r.cells.iter().map(|c| md(c)).collect();
        cells.resize(t.columns.len(), String::new());
        if with_evidence {
            cells.push(md_evidence(&r.evidence));
        }
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// Renders a report as Markdown (GitHub-flavoured: tables; charts as SVG data-URI images with
/// their numbers as tables).
pub fn markdown(r: &Report) -> String {
    let mut out = String::with_capacity(16 * 1024);
    let _ = writeln!(out, "# {}\n", md(&r.title));
    let _ = writeln!(
        out,
        "> {} · 时段：{} · 生成时间：{}\n",
        md(r.kind.label()),
        md(&period_text(r)),
        md(&time(r.generated_at))
    );
    for (i, s) in r.sections.iter().enumerate() {
        let _ = writeln!(out, "## {}、{}\n", numeral(i), md(&s.title));
        for b in &s.blocks {
            match b {
                Block::Text(st) => {
                    let _ = writeln!(out, "{} {}\n", md(&st.text), md_evidence(&st.evidence));
                }
                Block::Quote(st) => {
                    out.push_str(&escape::md_quote(&st.text));
                    if !st.evidence.is_empty() {
                        let _ = writeln!(out, ">\n> {}", md_evidence(&st.evidence));
                    }
                    out.push('\n');
                }
                Block::Facts(fs) => {
                    for f in fs {
                        let _ = writeln!(
                            out,
                            "- **{}**：{} {}",
                            md(&f.label),
                            md(&f.value),
                            md_evidence(&f.evidence)
                        );
                    }
                    out.push('\n');
                }
                Block::Table(t) => {
                    md_table(&mut out, t, t.rows.iter().any(|r| !r.evidence.is_empty()))
                }
                Block::Chart(c) => {
                    let b64 = base64::engine::general_purpose::STANDARD.encode(c.svg.as_bytes());
                    let _ = writeln!(
                        out,
                        "![{}](data:image/svg+xml;base64,{b64})\n",
                        md(&c.title)
                    );
                    let _ = writeln!(out, "*图：{}* {}\n", md(&c.title), md_evidence(&c.evidence));
                    if !c.data.rows.is_empty() {
                        md_table(
                            &mut out,
                            &c.data,
                            c.data.rows.iter().any(|r| !r.evidence.is_empty()),
                        );
                    }
                }
                Block::Note(n) => {
                    let _ = writeln!(out, "*口径：{}*\n", md(n));
                }
            }
        }
    }
    let _ = writeln!(out, "## 附录：依据清单\n");
    if r.appendix.is_empty() {
        out.push_str("（无）\n");
    } else {
        let _ = writeln!(
            out,
            "| 依据 | 类型 | 时间 | 说明 | 原文链接 |\n|---|---|---|---|---|"
        );
        for e in &r.appendix {
            let link = match e.url.as_deref() {
                Some(u) => match escape::safe_url(u) {
                    Some(safe) if !safe.contains(['(', ')', '[', ']', '|']) => format!("<{safe}>"),
                    _ => md(u),
                },
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "| <a id=\"{}\"></a>{} | {} | {} | {} | {} |",
                e.evidence.anchor(),
                md(&e.evidence.to_string()),
                md(e.evidence.kind_label()),
                e.at.map(|t| md(&time(t))).unwrap_or_default(),
                md(&e.description),
                link
            );
        }
    }
    out.push_str(
        "\n---\n*本报告由 yuqing 根据系统记录自动生成；每项陈述后列出其依据（信息、事件、预警、案件、审计记录），可在附录中查到原始记录。*\n",
    );
    out
}

// ------------------------------------------------------------------------------- HTML

const CSS: &str = r#"
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
* { box-sizing: border-box; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "SimSun", sans-serif; color: #1a1a1a; margin: 0 auto; max-width: 182mm; padding: 8mm 0; font-size: 10.5pt; line-height: 1.6; }
header { border-bottom: 3px solid #b22222; padding-bottom: 4mm; margin-bottom: 6mm; }
header .doc { color: #b22222; font-size: 20pt; font-weight: bold; letter-spacing: 0.2em; text-align: center; margin: 0; }
h1 { font-size: 15pt; text-align: center; margin: 3mm 0 2mm 0; }
header .meta { text-align: center; color: #444; margin: 0; font-size: 9.5pt; }
h2 { font-size: 13pt; border-left: 4px solid #b22222; padding-left: 2mm; margin: 7mm 0 3mm 0; break-after: avoid; page-break-after: avoid; }
p { margin: 2mm 0; text-align: justify; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 4mm 0; font-size: 9pt; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; vertical-align: top; text-align: left; word-break: break-word; }
th { background: #f1f1f1; }
tr { break-inside: avoid; page-break-inside: avoid; }
thead { display: table-header-group; }
table.facts th { width: 28%; }
blockquote { margin: 2mm 0 3mm 0; padding: 1.5mm 3mm; border-left: 3px solid #999; background: #f7f7f7; }
blockquote p { white-space: pre-wrap; margin: 0; }
figure { margin: 3mm 0; text-align: center; break-inside: avoid; page-break-inside: avoid; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 9pt; color: #333; }
.ev { color: #555; font-size: 8pt; }
.ev a, td.ev a { color: #1f4e8c; text-decoration: none; font-family: monospace; }
td.ev { width: 22%; }
.note { color: #555; font-size: 8.5pt; }
td.nw { white-space: nowrap; }
#appendix table { font-size: 8pt; }
#appendix td:first-child { font-family: monospace; }
footer { margin-top: 8mm; border-top: 1px solid #999; color: #555; font-size: 8.5pt; padding-top: 2mm; }
@media print { a { color: inherit; } .ev a { color: #1f4e8c; } }
"#;

fn html_evidence(ev: &[Evidence]) -> String {
    let links: Vec<String> = ev
        .iter()
        .take(INLINE_EVIDENCE)
        .map(|e| format!("<a href=\"#{}\">{}</a>", e.anchor(), esc(&e.to_string())))
        .collect();
    format!("{}{}", links.join("，"), rest_note(ev))
}

fn html_evidence_span(ev: &[Evidence]) -> String {
    if ev.is_empty() {
        String::new()
    } else {
        format!(" <span class=\"ev\">〔依据：{}〕</span>", html_evidence(ev))
    }
}

fn html_table(out: &mut String, t: &Table) {
    let with_ev = t.rows.iter().any(|r| !r.evidence.is_empty());
    out.push_str("<table><thead><tr>");
    for c in &t.columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    if with_ev {
        out.push_str("<th>依据</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for r in &t.rows {
        out.push_str("<tr>");
        for i in 0..t.columns.len() {
            let cell = r.cells.get(i).map(String::as_str).unwrap_or("");
            // Short cells (labels, counts) never wrap one character per line.
            let class = if cell.chars().count() <= 8 {
                " class=\"nw\""
            } else {
                ""
            };
            let _ = write!(out, "<td{class}>{}</td>", esc(cell));
        }
        if with_ev {
            let _ = write!(out, "<td class=\"ev\">{}</td>", html_evidence(&r.evidence));
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>\n");
}

/// Renders a report as one self-contained HTML page.
pub fn html(r: &Report) -> String {
    let mut out = String::with_capacity(32 * 1024);
    out.push_str("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\"/>\n");
    out.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\"/>\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\"/>\n");
    let _ = writeln!(
        out,
        "<meta name=\"generator\" content=\"yuqing-report {}\"/>",
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "<title>{}</title>", esc(&r.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(
        out,
        "<header><p class=\"doc\">{}</p><h1>{}</h1><p class=\"meta\">时段：{}　生成时间：{}</p></header>\n<main>",
        esc(r.kind.label()),
        esc(&r.title),
        esc(&period_text(r)),
        esc(&time(r.generated_at))
    );
    for (i, s) in r.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"s{}\"><h2>{}、{}</h2>",
            i + 1,
            numeral(i),
            esc(&s.title)
        );
        for b in &s.blocks {
            match b {
                Block::Text(st) => {
                    let _ = writeln!(
                        out,
                        "<p>{}{}</p>",
                        esc(&st.text),
                        html_evidence_span(&st.evidence)
                    );
                }
                Block::Quote(st) => {
                    let _ = writeln!(
                        out,
                        "<blockquote><p>{}</p><p>{}</p></blockquote>",
                        esc(&st.text),
                        html_evidence_span(&st.evidence).trim_start()
                    );
                }
                Block::Facts(fs) => {
                    out.push_str("<table class=\"facts\"><tbody>");
                    for f in fs {
                        let _ = write!(
                            out,
                            "<tr><th>{}</th><td>{}{}</td></tr>",
                            esc(&f.label),
                            esc(&f.value),
                            html_evidence_span(&f.evidence)
                        );
                    }
                    out.push_str("</tbody></table>\n");
                }
                Block::Table(t) => html_table(&mut out, t),
                Block::Chart(c) => {
                    let _ = writeln!(
                        out,
                        "<figure>{}<figcaption>图：{}{}</figcaption></figure>",
                        c.svg,
                        esc(&c.title),
                        html_evidence_span(&c.evidence)
                    );
                }
                Block::Note(n) => {
                    let _ = writeln!(out, "<p class=\"note\">口径：{}</p>", esc(n));
                }
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("<section id=\"appendix\"><h2>附录：依据清单</h2>\n");
    if r.appendix.is_empty() {
        out.push_str("<p>（无）</p>\n");
    } else {
        out.push_str("<table><thead><tr><th>依据</th><th>类型</th><th>时间</th><th>说明</th><th>原文链接</th></tr></thead><tbody>");
        for e in &r.appendix {
            let link = match e.url.as_deref() {
                Some(u) => match escape::safe_url(u) {
                    Some(safe) => format!(
                        "<a href=\"{}\" rel=\"noopener noreferrer nofollow\">{}</a>",
                        esc(safe),
                        esc(safe)
                    ),
                    None => format!(
                        "<span class=\"note\">{}（非 http 链接，未设超链接）</span>",
                        esc(u)
                    ),
                },
                None => String::new(),
            };
            let _ = write!(
                out,
                "<tr id=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                e.evidence.anchor(),
                esc(&e.evidence.to_string()),
                esc(e.evidence.kind_label()),
                e.at.map(|t| esc(&time(t))).unwrap_or_default(),
                esc(&e.description),
                link
            );
        }
        out.push_str("</tbody></table>\n");
    }
    out.push_str("</section>\n</main>\n<footer>本报告由 yuqing 根据系统记录自动生成；每项陈述后列出其依据（信息、事件、预警、案件、审计记录），可在附录中查到原始记录。帖文内容按来源发布的原样引用，不代表本单位观点。</footer>\n</body>\n</html>\n");
    out
}
