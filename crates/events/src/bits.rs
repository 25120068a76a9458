//! Exact serialisation of floats in checkpoints: as their IEEE-754 bit patterns, so that an
//! exported and re-imported tracker behaves bit for bit like the original.

pub(crate) mod f64 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(x.to_bits())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(f64::from_bits(u64::deserialize(d)?))
    }
}

pub(crate) mod f64_array {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::spread::COMPONENTS;

    pub(crate) fn serialize<S: Serializer>(x: &[f64; COMPONENTS], s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(COMPONENTS))?;
        for v in x {
            seq.serialize_element(&v.to_bits())?;
        }
        seq.end()
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<[f64; COMPONENTS], D::Error> {
        let v = <[u64; COMPONENTS]>::deserialize(d)?;
        Ok(v.map(f64::from_bits))
    }
}

pub(crate) mod f32_grid {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::spread::NBINS;

    type Grid = [[f32; NBINS]; 3];

    pub(crate) fn serialize<S: Serializer>(x: &Grid, s: S) -> Result<S::Ok, S::Error> {
        use serde::Serialize;
        let bits: Vec<Vec<u32>> = x
            .iter()
            .map(|row| row.iter().map(|v| v.to_bits()).collect())
            .collect();
        bits.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Grid, D::Error> {
        let v = <[[u32; NBINS]; 3]>::deserialize(d)?;
        Ok(v.map(|row| row.map(f32::from_bits)))
    }
}

/// Light children (32-bit digest → whole second of event time last seen), as pairs sorted by
/// digest. Checkpoints written before the times were kept hold bare digests: those read with the
/// time 0 ("unknown"), which the import replaces by the event's latest activity.
pub(crate) mod child_map {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::tracker::ChildSet;

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Entry {
        Timed(u32, u32),
        Bare(u32),
    }

    pub(crate) fn serialize<S: Serializer>(x: &ChildSet, s: S) -> Result<S::Ok, S::Error> {
        let mut v: Vec<(u32, u32)> = x.iter().map(|(k, t)| (*k, *t)).collect();
        v.sort_unstable();
        v.serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ChildSet, D::Error> {
        Ok(Vec::<Entry>::deserialize(d)?
            .into_iter()
            .map(|e| match e {
                Entry::Timed(k, t) => (k, t),
                Entry::Bare(k) => (k, 0),
            })
            .collect())
    }
}
