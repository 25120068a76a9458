//! URL normalisation: one canonical spelling per page, so that the seen-set recognises it.

use url::Url;

/// Query parameters that only track the visitor and never change the page.
const TRACKING: &[&str] = &[
    "spm",
    "from",
    "isappinstalled",
    "share_token",
    "share_source",
    "share_medium",
    "fbclid",
    "gclid",
    "yclid",
    "mc_cid",
    "mc_eid",
    "wfr",
    "scene",
    "sharer_shareid",
    "sharer_sharetime",
    "timestamp",
    "_t",
    "vd_source",
    "ref",
    "refer_flag",
    "clicktime",
    "enterid",
    "sessionid",
];

/// Normalises a URL: lower-case scheme and host (done by parsing), no default port, no fragment,
/// no tracking parameters (`utm_*` and the like), remaining query pairs sorted, no empty query.
/// Returns `None` for anything but http(s) URLs with a host.
pub fn normalize_url(raw: &str) -> Option<String> {
    let mut u = Url::parse(raw.trim()).ok()?;
    normalize_parsed(&mut u)?;
    Some(u.into())
}

/// Resolves `href` against `base` and normalises it.
pub fn resolve(base: &Url, href: &str) -> Option<String> {
    let href = href.trim();
    if href.is_empty()
        || href.starts_with('#')
        || href.starts_with("javascript:")
        || href.starts_with("mailto:")
        || href.starts_with("tel:")
    {
        return None;
    }
    let mut u = base.join(href).ok()?;
    normalize_parsed(&mut u)?;
    Some(u.into())
}

fn normalize_parsed(u: &mut Url) -> Option<()> {
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    u.set_fragment(None);
    if u.query().is_some() {
        let mut pairs: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| {
                let k = k.to_ascii_lowercase();
                !k.starts_with("utm_") && !TRACKING.contains(&k.as_str())
            })
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        pairs.sort();
        if pairs.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    Some(())
}

/// The host of a URL, lower-cased, with a non-default port (`example.com:8080`).
pub fn host_key(u: &Url) -> String {
    match (u.host_str(), u.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_fragments_tracking_and_sorts() {
        assert_eq!(
            normalize_url("HTTPS://WWW.Example.gov.cn:443/a/b.html?z=1&utm_source=wx&a=2#top")
                .unwrap(),
            "https://www.example.gov.cn/a/b.html?a=2&z=1"
        );
        assert_eq!(
            normalize_url("http://a.cn/x?utm_medium=x&spm=1.2").unwrap(),
            "http://a.cn/x"
        );
        assert_eq!(normalize_url("ftp://a.cn/x"), None);
        assert_eq!(normalize_url("not a url"), None);
    }

    #[test]
    fn resolves_relative_links() {
        let base = Url::parse("http://127.0.0.1:8080/list/index_2.html").unwrap();
        assert_eq!(
            resolve(&base, "../art/1.html#x").unwrap(),
            "http://127.0.0.1:8080/art/1.html"
        );
        assert_eq!(resolve(&base, "javascript:void(0)"), None);
        assert_eq!(resolve(&base, "#"), None);
        assert_eq!(host_key(&base), "127.0.0.1:8080");
    }

    proptest::proptest! {
        #[test]
        fn normalisation_is_idempotent(path in "[a-z0-9/]{0,20}", q in "[a-z]{1,3}=[a-z0-9]{0,3}(&[a-z_]{1,6}=[a-z0-9]{0,3}){0,4}") {
            let raw = format!("http://example.com/{path}?{q}#f");
            if let Some(once) = normalize_url(&raw) {
                assert_eq!(normalize_url(&once).unwrap(), once);
            }
        }
    }
}
