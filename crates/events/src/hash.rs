//! Stable 64-bit hashing.
//!
//! Keys of items, threads, keywords and text shingles are hashed with a fixed function written
//! here (SplitMix64 finalisers), not with std's `DefaultHasher`, whose algorithm may change between
//! Rust releases: the hashes are part of the checkpoint that [`crate::EventTracker::export`] writes.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x6a09_e667_f3bc_c908;

/// The SplitMix64 finaliser: a bijective, well-mixing map of `u64`.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hashes `s` continuing from `h`.
#[inline]
pub(crate) fn hash_str(h: u64, s: &str) -> u64 {
    let bytes = s.as_bytes();
    let mut h = mix64(h ^ (bytes.len() as u64).wrapping_mul(0xA076_1D64_78BD_642F));
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix64(h ^ u64::from_le_bytes(w));
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        h = mix64(h ^ u64::from_le_bytes(w) ^ 0xFF);
    }
    h
}

/// The key of `id` within `source` (items and thread roots).
#[inline]
pub(crate) fn item_key(source: &str, id: &str) -> u64 {
    hash_str(hash_str(SEED, source), id)
}

/// The key of a keyword, a region, an author or a source name.
#[inline]
pub(crate) fn word_key(kind: u64, word: &str) -> u64 {
    hash_str(SEED ^ kind, word)
}

/// A hasher for keys that already are good 64-bit hashes.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = mix64(self.0 ^ u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = mix64(u64::from(n));
    }
}

/// A map keyed by precomputed hashes.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_stable_and_separated() {
        // Pinned values: a change here breaks every stored checkpoint.
        assert_eq!(item_key("s", "1"), item_key("s", "1"));
        assert_ne!(item_key("ab", "c"), item_key("a", "bc"));
        assert_ne!(hash_str(0, "12345678"), hash_str(0, "12345678\0"));
        assert_eq!(mix64(0), 0xE220_A839_7B1D_CDAF);
    }
}
