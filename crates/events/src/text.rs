//! Text fingerprints (SimHash), headline gists and numbers written the way a duty officer reads them.

use crate::hash::mix64;

/// At most this many characters of a text (after normalisation) enter its fingerprint: reprinted
/// articles agree in their opening, and long pages must not make `observe` slow.
pub const FINGERPRINT_CHARS: usize = 512;

/// Normalises `text` for fingerprinting into `out` (cleared first): drops the repost chain after
/// `//@`, links, `@mentions`, whitespace and punctuation; maps full-width ASCII to half-width and
/// lower-cases it; keeps at most [`FINGERPRINT_CHARS`] characters.
pub fn normalize_into(text: &str, out: &mut Vec<char>) {
    out.clear();
    let text = match text.find("//@") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if out.len() >= FINGERPRINT_CHARS {
            break;
        }
        if c == 'h' && (rest.starts_with("http://") || rest.starts_with("https://")) {
            let end = rest
                .find(|ch: char| ch.is_whitespace() || !ch.is_ascii())
                .unwrap_or(rest.len());
            rest = &rest[end..];
            continue;
        }
        if c == '@' || c == '＠' {
            let mut end = c.len_utf8();
            for (n, (i, ch)) in rest.char_indices().skip(1).enumerate() {
                if n >= 30
                    || ch.is_whitespace()
                    || matches!(ch, ':' | '：' | ',' | '，' | '、' | '@')
                {
                    end = i;
                    break;
                }
                end = i + ch.len_utf8();
            }
            rest = &rest[end..];
            continue;
        }
        rest = &rest[c.len_utf8()..];
        let c = match c as u32 {
            0xFF01..=0xFF5E => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        };
        if c.is_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        }
    }
}

/// The number of distinct characters in `chars`, counted up to `limit`.
pub fn distinct_chars(chars: &[char], limit: usize) -> usize {
    let mut seen: Vec<char> = Vec::with_capacity(limit.min(32));
    for &c in chars {
        if !seen.contains(&c) {
            seen.push(c);
            if seen.len() >= limit {
                break;
            }
        }
    }
    seen.len()
}

/// The 64-bit SimHash of normalised text over character bigrams (each bigram weighs 1).
///
/// Bits are counted with vertical (bit-sliced) counters, so the cost is a few word operations per
/// bigram rather than 64.
pub fn simhash(chars: &[char]) -> u64 {
    match chars.len() {
        0 => return 0,
        1 => return mix64(chars[0] as u64),
        _ => {}
    }
    let mut planes = [0u64; 11]; // counts up to 2047 > FINGERPRINT_CHARS
    let mut n = 0u32;
    for w in chars.windows(2) {
        let h = mix64(((w[0] as u64) << 32) ^ w[1] as u64 ^ 0x5bd1_e995);
        let mut carry = h;
        for p in planes.iter_mut() {
            let next = *p & carry;
            *p ^= carry;
            carry = next;
            if carry == 0 {
                break;
            }
        }
        n += 1;
    }
    let mut fp = 0u64;
    for bit in 0..64 {
        let mut count = 0u32;
        for (i, p) in planes.iter().enumerate() {
            count |= (((p >> bit) & 1) as u32) << i;
        }
        if 2 * count > n {
            fp |= 1 << bit;
        }
    }
    fp
}

/// Bits in which two fingerprints differ.
#[inline]
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// A short headline for a text: the 【bracketed headline】 news posts open with, else the first
/// #topic#, else the first sentence, cut to 30 characters.
pub fn gist(text: &str) -> String {
    const MAX: usize = 30;
    let t = text.trim();
    if let Some(rest) = t.strip_prefix('【') {
        if let Some(end) = rest.find('】') {
            let head = rest[..end].trim();
            if head.chars().count() >= 4 {
                return cut(head, MAX);
            }
        }
    }
    if let Some(start) = t.find('#') {
        let rest = &t[start + 1..];
        if let Some(end) = rest.find('#') {
            let topic = rest[..end].trim();
            let n = topic.chars().count();
            if (4..=40).contains(&n) {
                return cut(topic, MAX);
            }
        }
    }
    let first = t
        .split(['。', '！', '？', '!', '?', '\n', '；'])
        .map(str::trim)
        .find(|s| !s.is_empty())
        .unwrap_or(t);
    let cleaned: String = first.split_whitespace().collect::<Vec<_>>().join(" ");
    cut(&cleaned, MAX)
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max).collect();
        out.push('…');
        out
    }
}

/// A count as a duty officer reads it: `340`, `8千`, `1.2万`, `3.5亿`.
pub fn zh_count(x: f64) -> String {
    if !x.is_finite() || x < 0.0 {
        return "0".into();
    }
    let (v, unit) = if x >= 1e8 {
        (x / 1e8, "亿")
    } else if x >= 1e4 {
        (x / 1e4, "万")
    } else if x >= 1e3 {
        (x / 1e3, "千")
    } else {
        return format!("{}", x.round() as u64);
    };
    let s = format!("{v:.1}");
    let s = s.strip_suffix(".0").unwrap_or(&s);
    format!("{s}{unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        let mut v = Vec::new();
        normalize_into(s, &mut v);
        v.into_iter().collect()
    }

    #[test]
    fn normalisation_drops_noise() {
        assert_eq!(
            norm("【突发】某地 火灾！http://t.cn/abc 详见@某某日报：现场"),
            "突发某地火灾详见现场"
        );
        assert_eq!(norm("说得好//@张三:转发"), "说得好");
        assert_eq!(norm("ＡＢＣ１２３"), "abc123");
    }

    #[test]
    fn near_duplicates_are_close_and_others_far() {
        let a = "今天上午十时许，某市某区一化工厂发生爆炸，现场浓烟滚滚，附近居民称听到巨响，\
                 消防救援人员已赶到现场处置，周边道路实行临时交通管制，伤亡情况不明，事故原因正在调查。";
        let b = "今天上午十时许，某市某区一化工厂发生爆炸，现场浓烟滚滚，附近居民称听到巨响，\
                 消防救援人员已赶到现场处置，周边道路实行临时交通管制，伤亡情况不明，事故原因正在调查中。@某某日报";
        let c = "市教育局发布通知，今年秋季学期中小学开学时间调整为九月一日，请家长做好准备";
        let fp = |s: &str| {
            let mut v = Vec::new();
            normalize_into(s, &mut v);
            simhash(&v)
        };
        assert!(hamming(fp(a), fp(b)) <= 3, "{}", hamming(fp(a), fp(b)));
        assert!(hamming(fp(a), fp(c)) > 10);
        assert_eq!(fp(a), fp(a));
    }

    #[test]
    fn gists_and_counts() {
        assert_eq!(gist("【某地化工厂爆炸】今天上午……"), "某地化工厂爆炸");
        assert_eq!(gist("#某地暴雨# 路面积水严重"), "某地暴雨");
        assert_eq!(gist("路面积水严重。车辆无法通行"), "路面积水严重");
        assert_eq!(zh_count(340.0), "340");
        assert_eq!(zh_count(8000.0), "8千");
        assert_eq!(zh_count(12000.0), "1.2万");
        assert_eq!(zh_count(f64::NAN), "0");
        assert_eq!(distinct_chars(&['哈'; 20], 8), 1);
    }
}

/// Values in a MinHash signature.
pub const MINHASH_LEN: usize = 24;

/// A MinHash signature: [`MINHASH_LEN`] minima of character-bigram hashes.
pub type Signature = [u32; MINHASH_LEN];

/// The MinHash signature of normalised text over its set of character bigrams, by one-permutation
/// hashing (each bigram hashed once, the hash space split into [`MINHASH_LEN`] bins, the minimum
/// kept per bin) with rotation densification of empty bins. `None` for fewer than two characters.
///
/// The share of equal values of two signatures ([`similarity`]) estimates the Jaccard similarity
/// of the two bigram sets.
pub fn minhash(chars: &[char]) -> Option<Signature> {
    if chars.len() < 2 {
        return None;
    }
    const EMPTY: u64 = u64::MAX;
    let mut bins = [EMPTY; MINHASH_LEN];
    for w in chars.windows(2) {
        let h = mix64(((w[0] as u64) << 32) ^ w[1] as u64 ^ 0x2545_F491_4F6C_DD1D);
        let bin = (((h >> 32) * MINHASH_LEN as u64) >> 32) as usize;
        let v = h & 0xFFFF_FFFF;
        if v < bins[bin] {
            bins[bin] = v;
        }
    }
    let mut out = [0u32; MINHASH_LEN];
    for (i, slot) in out.iter_mut().enumerate() {
        let mut j = i;
        let mut hops = 0u64;
        while bins[j] == EMPTY {
            j = (j + 1) % MINHASH_LEN;
            hops += 1;
        }
        // A borrowed value is marked by how far it was borrowed from, so that two texts agree on
        // an empty bin only when their neighbours agree.
        *slot = if hops == 0 {
            bins[j] as u32
        } else {
            mix64(bins[j] ^ (hops << 40)) as u32
        };
    }
    Some(out)
}

/// The estimated Jaccard similarity of the bigram sets behind two signatures.
pub fn similarity(a: &Signature, b: &Signature) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / MINHASH_LEN as f64
}

#[cfg(test)]
mod minhash_tests {
    use super::*;

    fn sig(s: &str) -> Signature {
        let mut v = Vec::new();
        normalize_into(s, &mut v);
        minhash(&v).unwrap()
    }

    #[test]
    fn similar_texts_have_similar_signatures() {
        let a = "今天上午十时许，某市某区一化工厂发生爆炸，现场浓烟滚滚，附近居民称听到巨响，消防救援人员已赶到现场处置。";
        let b = format!("转发：{a}（来源：某某日报）");
        let c =
            "市教育局发布通知，今年秋季学期中小学开学时间调整为九月一日，请各位家长提前做好准备。";
        assert!(
            similarity(&sig(a), &sig(&b)) >= 0.6,
            "{}",
            similarity(&sig(a), &sig(&b))
        );
        assert!(similarity(&sig(a), &sig(c)) <= 0.2);
        assert_eq!(similarity(&sig(a), &sig(a)), 1.0);
        assert!(minhash(&['x']).is_none());
    }
}
