//! Strict parsing of `application/x-www-form-urlencoded` bodies and query strings: every field
//! named at most once, only the fields a form has, sizes bounded.

use std::collections::BTreeMap;

/// A parsed form: field name → value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    fields: BTreeMap<String, String>,
    duplicate: Option<String>,
}

/// A form that does not fit what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormError {
    /// A field appeared twice.
    #[error("field `{0}` was sent more than once")]
    Duplicate(String),
    /// A field the form does not have.
    #[error("unexpected field `{0}`")]
    Unexpected(String),
    /// A required field is missing or empty.
    #[error("{0} is required")]
    Missing(&'static str),
    /// A field's value is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// What is wrong, in words.
        message: String,
    },
}

/// Field names longer than this are never those of a form of the console.
const MAX_NAME: usize = 64;

impl Form {
    /// Parses a body or query string. Percent-decoding is lossy (invalid UTF-8 becomes U+FFFD);
    /// a repeated field is remembered and reported by [`Form::expect`].
    pub fn parse(bytes: &[u8]) -> Form {
        let mut form = Form::default();
        for (k, v) in url::form_urlencoded::parse(bytes) {
            let k: String = k.chars().take(MAX_NAME + 1).collect();
            if form.fields.contains_key(&k) {
                form.duplicate.get_or_insert(k);
                continue;
            }
            form.fields.insert(k, v.into_owned());
        }
        form
    }

    /// A field's value, as sent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }

    /// A field's value, trimmed; `None` when absent or blank.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.get(name).map(str::trim).filter(|s| !s.is_empty())
    }

    /// A required field's value, trimmed.
    pub fn required(&self, name: &'static str) -> Result<&str, FormError> {
        self.text(name).ok_or(FormError::Missing(name))
    }

    /// Checks that no field repeats and every field is one of `allowed`.
    pub fn expect(&self, allowed: &[&str]) -> Result<(), FormError> {
        if let Some(d) = &self.duplicate {
            return Err(FormError::Duplicate(shorten(d)));
        }
        match self.fields.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(FormError::Unexpected(shorten(k))),
            None => Ok(()),
        }
    }
}

fn shorten(s: &str) -> String {
    yuqing_report::escape::gist(s, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_percent_encoded_chinese() {
        let f = Form::parse(
            "department=%E5%BA%94%E6%80%A5%E7%AE%A1%E7%90%86%E5%B1%80&csrf=ab+c".as_bytes(),
        );
        assert_eq!(f.get("department"), Some("应急管理局"));
        assert_eq!(f.get("csrf"), Some("ab c"));
        assert!(f.expect(&["department", "csrf"]).is_ok());
        assert_eq!(
            f.expect(&["csrf"]),
            Err(FormError::Unexpected("department".into()))
        );
    }

    #[test]
    fn duplicates_blanks_and_missing_fields_are_errors() {
        let f = Form::parse(b"a=1&a=2&b=%20%20");
        assert_eq!(f.expect(&["a", "b"]), Err(FormError::Duplicate("a".into())));
        assert_eq!(f.get("a"), Some("1"), "the first value is kept");
        assert_eq!(f.text("b"), None);
        assert_eq!(f.required("b"), Err(FormError::Missing("b")));
        assert_eq!(f.required("c"), Err(FormError::Missing("c")));
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let f = Form::parse(&bytes);
            let _ = f.expect(&["csrf", "note"]);
            let _ = f.required("csrf");
        }

        #[test]
        fn round_trips_any_text(v in "\\PC{0,64}") {
            let body: String = url::form_urlencoded::Serializer::new(String::new())
                .append_pair("facts", &v)
                .finish();
            let f = Form::parse(body.as_bytes());
            proptest::prop_assert_eq!(f.get("facts"), Some(v.as_str()));
        }
    }
}
