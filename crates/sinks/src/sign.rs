//! The channels' signatures, exactly as their documentation defines them.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length; `new_from_slice` cannot fail for it.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// 钉钉 加签: `base64(HmacSHA256(key = secret, msg = "<timestamp_ms>\n<secret>"))`, *before*
/// URL-encoding (see [`dingtalk_sign_query`]).
pub fn dingtalk_sign(timestamp_ms: i64, secret: &str) -> String {
    let to_sign = format!("{timestamp_ms}\n{secret}");
    STANDARD.encode(hmac(secret.as_bytes(), to_sign.as_bytes()))
}

/// The query suffix 钉钉 expects: `&timestamp=<ms>&sign=<urlencode(sign)>`.
pub fn dingtalk_sign_query(timestamp_ms: i64, secret: &str) -> String {
    let sign = dingtalk_sign(timestamp_ms, secret);
    let encoded: String = url::form_urlencoded::byte_serialize(sign.as_bytes()).collect();
    format!("&timestamp={timestamp_ms}&sign={encoded}")
}

/// 飞书 signature: `base64(HmacSHA256(key = "<timestamp_s>\n<secret>", msg = ""))` — the
/// string-to-sign is the HMAC *key* and the message is empty; no URL-encoding.
pub fn feishu_sign(timestamp_s: i64, secret: &str) -> String {
    let key = format!("{timestamp_s}\n{secret}");
    STANDARD.encode(hmac(key.as_bytes(), b""))
}

/// The generic webhook signature: `sha256=<hex HmacSHA256(secret, "<timestamp_s>.<body>")>`.
pub fn webhook_sign(timestamp_s: i64, secret: &str, body: &[u8]) -> String {
    let mut msg = timestamp_s.to_string().into_bytes();
    msg.push(b'.');
    msg.extend_from_slice(body);
    format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &msg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected values computed independently with Python's hmac/hashlib/base64/urllib:
    //   ts = 1700000000000; secret = "SECtest"
    //   base64.b64encode(hmac.new(b"SECtest", b"1700000000000\nSECtest", sha256).digest())
    //   base64.b64encode(hmac.new(b"1700000000\nsecret", b"", sha256).digest())
    // and urllib.parse.quote_plus for the query form.
    #[test]
    fn dingtalk_matches_the_reference_recipe() {
        let sign = dingtalk_sign(1_700_000_000_000, "SECtest");
        assert_eq!(sign, DINGTALK_EXPECTED);
        let q = dingtalk_sign_query(1_700_000_000_000, "SECtest");
        assert_eq!(
            q,
            format!("&timestamp=1700000000000&sign={DINGTALK_QUOTED}")
        );
    }

    #[test]
    fn feishu_matches_the_reference_recipe() {
        assert_eq!(feishu_sign(1_700_000_000, "secret"), FEISHU_EXPECTED);
    }

    #[test]
    fn webhook_signature_covers_timestamp_and_body() {
        let a = webhook_sign(1, "k", b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, webhook_sign(2, "k", b"{}"));
        assert_ne!(a, webhook_sign(1, "k", b"{ }"));
    }

    const DINGTALK_EXPECTED: &str = "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g=";
    const DINGTALK_QUOTED: &str = "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D";
    const FEISHU_EXPECTED: &str = "fiWS2+gh28DOydAv7hzONH/mDn9+b1Y4Y5ivXWXy8vA=";
}
