//! `stdout`: one human line per alert, coloured by grade on a terminal.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use parking_lot::Mutex;
use yuqing_core::{Alert, Grade};

use super::{wrong_payload, BuildContext, Payload};
use crate::config::{ColorMode, StdoutConfig};
use crate::error::SinkError;
use crate::render::{grade_words, local_time, one_line};

/// The stdout channel.
pub struct Stdout {
    color: bool,
    out: Arc<Mutex<Box<dyn Write + Send>>>,
}

impl std::fmt::Debug for Stdout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stdout")
            .field("color", &self.color)
            .finish_non_exhaustive()
    }
}

/// The ANSI colour of a grade: red, orange (256-colour 208), yellow, blue.
pub fn ansi(grade: Grade) -> &'static str {
    match grade {
        Grade::I => "\x1b[1;31m",
        Grade::II => "\x1b[38;5;208m",
        Grade::III => "\x1b[33m",
        Grade::IV => "\x1b[34m",
    }
}

/// `11月22日 10:02 [II 重大·橙色] 升级 · 扩散 · 标题 · 区应急管理局 · 某区 · 首次权威发布 11月22日 11:02 · al-… · url`.
pub fn line(alert: &Alert) -> String {
    let mut s = format!(
        "{} [{}·{}] {} · {} · {}",
        local_time(alert.at),
        grade_words(alert.grade),
        alert.grade.colour(),
        alert.kind.label(),
        alert.stage.label(),
        one_line(&alert.title)
    );
    for part in [alert.department.as_deref(), alert.region.as_deref()]
        .into_iter()
        .flatten()
    {
        s.push_str(" · ");
        s.push_str(&one_line(part));
    }
    for d in &alert.deadlines {
        s.push_str(&format!(" · {} {}", one_line(&d.label), local_time(d.due)));
    }
    s.push_str(" · ");
    s.push_str(&alert.alert_id);
    if let Some(url) = &alert.url {
        s.push_str(" · ");
        s.push_str(&one_line(url));
    }
    s
}

impl Stdout {
    pub(crate) fn new(c: &StdoutConfig, cx: &BuildContext) -> Stdout {
        let (out, is_tty) = match &cx.stdout {
            Some(w) => (w.clone(), false),
            None => (
                Arc::new(Mutex::new(
                    Box::new(std::io::stdout()) as Box<dyn Write + Send>
                )),
                std::io::stdout().is_terminal(),
            ),
        };
        let color = match c.color {
            ColorMode::Auto => is_tty,
            ColorMode::Always => true,
            ColorMode::Never => false,
        };
        Stdout { color, out }
    }

    pub(crate) fn render(&self, alert: &Alert) -> Payload {
        let l = line(alert);
        Payload::Line(if self.color {
            format!("{}{l}\x1b[0m", ansi(alert.grade))
        } else {
            l
        })
    }

    pub(crate) fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Line(l) = payload else {
            return Err(wrong_payload("stdout"));
        };
        let mut out = self.out.lock();
        writeln!(out, "{l}")
            .and_then(|_| out.flush())
            .map_err(|source| SinkError::Io {
                path: "<stdout>".into(),
                source,
            })
    }
}
