//! `email`: SMTP via lettre, a plain-text body with an HTML alternative.
//!
//! Transport security is `starttls` (upgrade required: nothing is sent, credentials included,
//! when the server cannot), `tls` (SMTPS) or `none`. Each alert is one mail whose Message-ID is
//! derived from the alert and sink ids, so a mail resent after an unclear failure threads with,
//! and can be deduplicated against, the first.

use std::sync::Arc;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use yuqing_core::{Alert, Grade, SharedClock};

use super::{wrong_payload, BuildContext, Payload};
use crate::config::{EmailConfig, SmtpTls, EMAIL_MAX_BYTES};
use crate::error::{BuildError, SinkError};
use crate::render::{
    digest_headline, digest_line, digest_more, facts, headline, html_escape, one_line, plain_text,
    short_headline, take_fitting, DIGEST_NOTE,
};

/// A rendered mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The subject.
    pub subject: String,
    /// The text/plain part.
    pub text: String,
    /// The text/html part.
    pub html: String,
    /// The Message-ID, with angle brackets.
    pub message_id: String,
}

/// The e-mail channel.
pub struct Email {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    clock: SharedClock,
    sink: String,
    from: Mailbox,
    to: Vec<Mailbox>,
    pub(crate) digest: bool,
}

impl std::fmt::Debug for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("sink", &self.sink)
            .field("from", &self.from)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

/// The header colour of a grade in HTML.
pub fn html_colour(grade: Grade) -> &'static str {
    match grade {
        Grade::I => "#c8102e",
        Grade::II => "#f06a00",
        Grade::III => "#d4a200",
        Grade::IV => "#1e6fd9",
    }
}

impl Email {
    pub(crate) fn new(c: &EmailConfig, cx: &BuildContext) -> Result<Email, BuildError> {
        let smtp_err = |source| BuildError::Smtp {
            sink: c.id.clone(),
            source,
        };
        let builder = match c.tls {
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host).map_err(smtp_err)?
            }
            SmtpTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host).map_err(smtp_err)?
            }
            SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
        };
        let port = c.port.unwrap_or(match c.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        });
        let mut builder = builder.port(port).timeout(Some(c.timeout));
        if let (Some(user), Some(password)) = (&c.username, &c.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose().to_string(),
            ));
        }
        let problems = |what: &str| {
            let mut p = yuqing_core::Problems::new();
            p.push(what.to_string(), "is not a valid mailbox");
            BuildError::Config(p)
        };
        let from = c.from.parse::<Mailbox>().map_err(|_| problems("from"))?;
        let to =
            c.to.iter()
                .map(|t| t.parse::<Mailbox>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| problems("to"))?;
        Ok(Email {
            transport: builder.build(),
            clock: cx.clock.clone(),
            sink: c.id.clone(),
            from,
            to,
            digest: c.digest,
        })
    }

    fn html_page(colour: &str, heading: &str, body: &str) -> String {
        format!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"></head>\
             <body style=\"font-family:sans-serif;font-size:14px\">\n\
             <div style=\"background:{colour};color:#fff;padding:8px 12px;font-weight:bold\">{}</div>\n\
             {body}\n</body></html>\n",
            html_escape(heading)
        )
    }

    /// The mail of one alert.
    pub fn mail(&self, alert: &Alert, now: DateTime<Utc>) -> Mail {
        let mut rows = String::from("<table style=\"border-collapse:collapse\">\n");
        for f in facts(alert, now) {
            rows.push_str(&format!(
                "<tr><th style=\"text-align:left;padding:4px 8px;color:#555;white-space:nowrap\">{}</th>\
                 <td style=\"padding:4px 8px\">{}</td></tr>\n",
                f.label,
                html_escape(&f.value)
            ));
        }
        rows.push_str("</table>");
        if let Some(url) = &alert.url {
            rows.push_str(&format!(
                "\n<p><a href=\"{0}\">查看原文</a></p>",
                html_escape(&one_line(url))
            ));
        }
        Mail {
            subject: short_headline(alert).0,
            text: plain_text(alert, now),
            html: Self::html_page(html_colour(alert.grade), &headline(alert), &rows),
            message_id: format!("<{}.{}@yuqing>", alert.alert_id, self.sink),
        }
    }

    pub(crate) fn render_alert(&self, alert: &Alert, now: DateTime<Utc>) -> Payload {
        Payload::Mail(self.mail(alert, now))
    }

    pub(crate) fn render_digest(
        &self,
        alerts: &[Arc<Alert>],
        _now: DateTime<Utc>,
    ) -> (Payload, usize) {
        let n = take_fitting(alerts, EMAIL_MAX_BYTES / 2, |_, a| {
            digest_line(a).len() * 2 + 64
        });
        let taken = &alerts[..n];
        let subject = digest_headline(taken);
        let mut text = format!("{subject}\n{DIGEST_NOTE}\n");
        let mut list = format!("<p>{}</p>\n<ol>\n", html_escape(DIGEST_NOTE));
        for a in taken {
            let line = digest_line(a);
            text.push_str(&line);
            text.push('\n');
            list.push_str(&format!("<li>{}</li>\n", html_escape(&line)));
        }
        list.push_str("</ol>");
        if alerts.len() > n {
            let more = digest_more(alerts.len() - n);
            text.push_str(&more);
            list.push_str(&format!("\n<p>{}</p>", html_escape(&more)));
        }
        let most = taken.iter().map(|a| a.grade).max().unwrap_or(Grade::IV);
        let mail = Mail {
            html: Self::html_page(html_colour(most), &subject, &list),
            subject,
            text: text.trim_end().to_string(),
            message_id: format!("<digest.{}.{n}.{}@yuqing>", taken[0].alert_id, self.sink),
        };
        (Payload::Mail(mail), n)
    }

    pub(crate) async fn send(&self, payload: &Payload) -> Result<(), SinkError> {
        let Payload::Mail(mail) = payload else {
            return Err(wrong_payload("email"));
        };
        let mut builder = Message::builder()
            .from(self.from.clone())
            .subject(mail.subject.clone())
            .date(SystemTime::from(self.clock.now()))
            .message_id(Some(mail.message_id.clone()));
        for to in &self.to {
            builder = builder.to(to.clone());
        }
        let message = builder
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| SinkError::Email(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(SinkError::Smtp)
    }
}
