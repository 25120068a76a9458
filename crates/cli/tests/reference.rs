//! `pipelines/examples/reference.toml` documents every key of a pipeline: it validates with the
//! real binary, and every field of every configuration struct appears in it as a key.
//!
//! The field lists come from serde itself, not from a list kept by hand: a probing
//! [`Deserializer`] answers `deserialize_struct` by reporting the `fields` serde passes it (the
//! names as written in TOML: renames applied, skipped fields left out), and descends into one
//! field at a time to find the structs nested in it (through `Option`, `Vec` and newtypes). Two
//! places serde cannot see through are described here: `[[sources]]` (`SourceConfig`
//! deserializes through a map and splits it into `SourceCommon` and the internally tagged
//! `SourceKind`) and `[[sinks]]` (the internally tagged `SinkConfig`); their variant lists are
//! checked against the enums, so a new kind of source or sink fails the test until it is
//! described here and documented in the file.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;
use std::process::Command;

use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess,
    Visitor,
};
use yuqing_collect::config as collect;
use yuqing_sinks::config as sinks;

fn reference() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../pipelines/examples/reference.toml")
}

/// Keys that stay comments in the reference file, and why: their values must name files that do
/// not ship with yuqing, and `yuqing validate` reads them.
const COMMENTED: &[(&str, &str, &str)] = &[
    (
        "analyze",
        "model",
        "model files are written by `yuqing train`",
    ),
    (
        "analyze",
        "sentiment_model",
        "model files are written by `yuqing train`",
    ),
];

/// The maps with free keys (and nothing else serde cannot see into).
const FREE_MAPS: &[&str] = &[
    "bus.kafka.options",
    "sources.headers",
    "sinks[kind=webhook].headers",
];

// ------------------------------------------------------------------------------ the probe

/// What probing found; carried out of serde as the error, which stops deserialization there.
#[derive(Debug)]
enum Found {
    /// `deserialize_struct`: a struct with these fields.
    Struct(&'static [&'static str]),
    /// `deserialize_map`: a map with free keys, or a type that reads itself through one.
    Map,
    /// `deserialize_any`: a self-describing value (an internally tagged enum, for one).
    Any,
    /// A scalar or an enum of unit variants.
    Leaf,
    /// `missing_field`: the tag of an internally tagged enum given an empty map.
    MissingField(&'static str),
    /// `unknown_variant`: the variants of an enum given a tag it does not know.
    Variants(&'static [&'static str]),
    /// Any other error.
    Other(String),
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Found::Other(message) => f.write_str(message),
            other => write!(f, "{other:?}"),
        }
    }
}

impl std::error::Error for Found {}

impl de::Error for Found {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Found::Other(msg.to_string())
    }
    fn missing_field(field: &'static str) -> Self {
        Found::MissingField(field)
    }
    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        Found::Variants(expected)
    }
}

/// A deserializer that reports what it is asked for. `path` picks, struct by struct, the field
/// to descend into; where it runs out, the next struct reports its fields.
struct Probe<'a> {
    path: &'a [usize],
}

macro_rules! leaves {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Found> {
            Err(Found::Leaf)
        })*
    };
}

impl<'de> Deserializer<'de> for Probe<'_> {
    type Error = Found;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Found> {
        match self.path.split_first() {
            None => Err(Found::Struct(fields)),
            Some((&i, rest)) => visitor.visit_map(OneField {
                key: Some(fields[i]),
                value: Some(Probe { path: rest }),
            }),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Found> {
        visitor.visit_some(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Found> {
        visitor.visit_seq(OneElement(Some(self)))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Found> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Found> {
        Err(Found::Map)
    }

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Found> {
        Err(Found::Any)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, Found> {
        Err(Found::Leaf)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _visitor: V,
    ) -> Result<V::Value, Found> {
        Err(Found::Leaf)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _len: usize, _v: V) -> Result<V::Value, Found> {
        Err(Found::Leaf)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        _visitor: V,
    ) -> Result<V::Value, Found> {
        Err(Found::Leaf)
    }

    leaves! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32
        deserialize_f64 deserialize_char deserialize_str deserialize_string deserialize_bytes
        deserialize_byte_buf deserialize_unit deserialize_identifier deserialize_ignored_any
    }
}

/// A map of one entry: the field being descended into.
struct OneField<'a> {
    key: Option<&'static str>,
    value: Option<Probe<'a>>,
}

impl<'de> MapAccess<'de> for OneField<'_> {
    type Error = Found;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Found> {
        match self.key.take() {
            Some(k) => seed
                .deserialize(<&str as IntoDeserializer<'de, Found>>::into_deserializer(k))
                .map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Found> {
        seed.deserialize(self.value.take().expect("a value follows its key"))
    }
}

/// A sequence of one element, probed.
struct OneElement<'a>(Option<Probe<'a>>);

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = Found;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Found> {
        match self.0.take() {
            Some(p) => seed.deserialize(p).map(Some),
            None => Ok(None),
        }
    }
}

fn probe<T: DeserializeOwned>(path: &[usize]) -> Found {
    match T::deserialize(Probe { path }) {
        Ok(_) => panic!(
            "probing {} at {path:?} succeeded",
            std::any::type_name::<T>()
        ),
        Err(e) => e,
    }
}

/// What a type takes, as a tree of keys.
#[derive(Debug)]
enum Node {
    /// A table with these keys.
    Struct(Vec<(&'static str, Node)>),
    /// A table whose `tag` key chooses the variant's keys, next to `common` keys.
    Tagged {
        tag: &'static str,
        common: Option<Box<Node>>,
        variants: Vec<(&'static str, Node)>,
    },
    /// A table with free keys.
    Map,
    /// Something serde describes only at run time.
    Any,
    /// A value.
    Leaf,
}

fn tree<T: DeserializeOwned>() -> Node {
    fn grow(probe: &dyn Fn(&[usize]) -> Found, path: &mut Vec<usize>) -> Node {
        match probe(path) {
            Found::Struct(fields) => Node::Struct(
                fields
                    .iter()
                    .enumerate()
                    .map(|(i, name)| {
                        path.push(i);
                        let node = grow(probe, path);
                        path.pop();
                        (*name, node)
                    })
                    .collect(),
            ),
            Found::Map => Node::Map,
            Found::Any => Node::Any,
            Found::Leaf => Node::Leaf,
            other => panic!("probing field path {path:?}: {other}"),
        }
    }
    grow(&probe::<T>, &mut Vec::new())
}

/// The tag and the variants of an internally tagged enum, from the errors it gives for a map
/// without a tag and for a tag it does not know.
fn tag_and_variants<T: DeserializeOwned>() -> (&'static str, Vec<&'static str>) {
    let run = |entries: Vec<(&'static str, &'static str)>| -> Found {
        let map = de::value::MapDeserializer::<_, Found>::new(entries.into_iter());
        match T::deserialize(map) {
            Ok(_) => panic!("{} deserialized from a probe", std::any::type_name::<T>()),
            Err(e) => e,
        }
    };
    let tag = match run(vec![]) {
        Found::MissingField(tag) => tag,
        other => panic!("{}: {other}", std::any::type_name::<T>()),
    };
    match run(vec![(tag, "\u{0}no such kind")]) {
        Found::Variants(v) => (tag, v.to_vec()),
        other => panic!("{}: {other}", std::any::type_name::<T>()),
    }
}

fn variant_names(variants: &[(&'static str, Node)]) -> Vec<&'static str> {
    let mut names: Vec<_> = variants.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    names
}

/// Every key of a pipeline.
fn pipeline() -> Node {
    let Node::Struct(mut fields) = tree::<yuqing_daemon::PipelineConfig>() else {
        panic!("a pipeline is a table");
    };
    let sources = Node::Tagged {
        tag: "kind",
        common: Some(Box::new(tree::<collect::SourceCommon>())),
        variants: vec![
            ("feed", tree::<collect::FeedSource>()),
            ("html", tree::<collect::HtmlSource>()),
            ("board", tree::<collect::BoardSource>()),
            ("weibo", tree::<collect::WeiboSource>()),
            ("json_api", tree::<collect::JsonApiSource>()),
            ("dir", tree::<collect::DirSource>()),
        ],
    };
    let sinks = Node::Tagged {
        tag: "kind",
        common: None,
        variants: vec![
            ("stdout", tree::<sinks::StdoutConfig>()),
            ("file", tree::<sinks::FileConfig>()),
            ("webhook", tree::<sinks::WebhookConfig>()),
            ("wecom", tree::<sinks::WecomConfig>()),
            ("dingtalk", tree::<sinks::DingtalkConfig>()),
            ("feishu", tree::<sinks::FeishuConfig>()),
            ("email", tree::<sinks::EmailConfig>()),
            ("alertmanager", tree::<sinks::AlertmanagerConfig>()),
        ],
    };
    for (name, node, (tag, mut kinds)) in [
        (
            "sources",
            sources,
            tag_and_variants::<collect::SourceKind>(),
        ),
        ("sinks", sinks, tag_and_variants::<sinks::SinkConfig>()),
    ] {
        let Node::Tagged { variants, .. } = &node else {
            unreachable!()
        };
        kinds.sort_unstable();
        assert_eq!(tag, "kind", "{name}");
        assert_eq!(
            variant_names(variants),
            kinds,
            "the kinds of [[{name}]] changed: describe them in this test"
        );
        let slot = fields
            .iter_mut()
            .find(|(f, _)| *f == name)
            .unwrap_or_else(|| panic!("no `{name}` in PipelineConfig"));
        slot.1 = node;
    }
    Node::Struct(fields)
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn variant_path(path: &str, tag: &str, kind: &str) -> String {
    format!("{path}[{tag}={kind}]")
}

/// The keys each table must have: (table path, keys).
fn expected(node: &Node, path: &str, out: &mut Vec<(String, Vec<&'static str>)>) {
    match node {
        Node::Struct(fields) => {
            out.push((path.to_string(), fields.iter().map(|(f, _)| *f).collect()));
            for (f, child) in fields {
                expected(child, &join(path, f), out);
            }
        }
        Node::Tagged {
            tag,
            common,
            variants,
        } => {
            out.push((path.to_string(), vec![tag]));
            if let Some(c) = common {
                expected(c, path, out);
            }
            for (kind, v) in variants {
                expected(v, &variant_path(path, tag, kind), out);
            }
        }
        Node::Map | Node::Any | Node::Leaf => {}
    }
}

/// The tables that have free keys, or keys serde does not describe.
fn opaque(node: &Node, path: &str, out: &mut BTreeSet<String>) {
    match node {
        Node::Struct(fields) => {
            for (f, child) in fields {
                opaque(child, &join(path, f), out);
            }
        }
        Node::Tagged {
            tag,
            common,
            variants,
        } => {
            if let Some(c) = common {
                opaque(c, path, out);
            }
            for (kind, v) in variants {
                opaque(v, &variant_path(path, tag, kind), out);
            }
        }
        Node::Map | Node::Any => {
            out.insert(path.to_string());
        }
        Node::Leaf => {}
    }
}

/// The keys the file has, per table path; the tables of an array count together.
fn seen(node: &Node, v: &toml::Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    if let toml::Value::Array(items) = v {
        for item in items {
            seen(node, item, path, out);
        }
        return;
    }
    let Some(table) = v.as_table() else { return };
    match node {
        Node::Struct(fields) => {
            out.entry(path.to_string())
                .or_default()
                .extend(table.keys().cloned());
            for (f, child) in fields {
                if let Some(c) = table.get(*f) {
                    seen(child, c, &join(path, f), out);
                }
            }
        }
        Node::Tagged {
            tag,
            common,
            variants,
        } => {
            out.entry(path.to_string())
                .or_default()
                .extend(table.keys().cloned());
            if let Some(c) = common {
                seen(c, v, path, out);
            }
            let kind = table.get(*tag).and_then(|k| k.as_str()).unwrap_or("");
            if let Some((_, variant)) = variants.iter().find(|(k, _)| *k == kind) {
                seen(variant, v, &variant_path(path, tag, kind), out);
            }
        }
        Node::Map | Node::Any | Node::Leaf => {}
    }
}

/// What the reference file lacks: `table: key` lines (empty when complete).
fn missing(text: &str) -> Vec<String> {
    let schema = pipeline();
    let value: toml::Value = toml::from_str(text).expect("reference.toml is TOML");
    let mut have = BTreeMap::new();
    seen(&schema, &value, "", &mut have);
    let mut want = Vec::new();
    expected(&schema, "", &mut want);
    let mut out = Vec::new();
    for (table, keys) in want {
        let got = have.get(&table);
        for key in keys {
            if got.is_some_and(|g| g.contains(key)) {
                continue;
            }
            if let Some((_, _, why)) = COMMENTED.iter().find(|(t, k, _)| *t == table && *k == key) {
                // Documented as a comment instead (see the test of those lines).
                if commented_line(text, &table, key).is_some() {
                    continue;
                }
                out.push(format!(
                    "{table}: {key} (a comment `# {key} = …` is enough: {why})"
                ));
                continue;
            }
            let at = if table.is_empty() {
                "top level"
            } else {
                &table
            };
            out.push(format!("{at}: {key}"));
        }
    }
    out
}

/// The line `# key = value` in `[table]` of the file, uncommented.
fn commented_line(text: &str, table: &str, key: &str) -> Option<String> {
    let mut current = String::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            current = l.trim_matches(|c| c == '[' || c == ']').trim().to_string();
            continue;
        }
        if current == table {
            if let Some(rest) = l.strip_prefix('#') {
                let rest = rest.trim();
                if rest
                    .strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with('='))
                {
                    return Some(rest.to_string());
                }
            }
        }
    }
    None
}

// ------------------------------------------------------------------------------ the tests

#[test]
fn the_reference_pipeline_validates_with_the_binary() {
    let out = Command::new(common::bin())
        .arg("validate")
        .arg(reference())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("ok: "), "{stdout}");
    assert!(!stdout.contains("error"), "{stdout}");
}

#[test]
fn the_reference_pipeline_has_every_key_of_every_configuration_struct() {
    let text = std::fs::read_to_string(reference()).unwrap();
    let missing = missing(&text);
    assert!(
        missing.is_empty(),
        "pipelines/examples/reference.toml lacks these keys; add each with its default and a \
         one-line comment:\n  {}",
        missing.join("\n  ")
    );
}

#[test]
fn commented_keys_are_real_keys_with_valid_values() {
    let text = std::fs::read_to_string(reference()).unwrap();
    let value: toml::Value = toml::from_str(&text).unwrap();
    for (table, key, why) in COMMENTED {
        assert!(
            value.get(table).and_then(|t| t.get(key)).is_none(),
            "{table}.{key} is set; drop it from COMMENTED ({why})"
        );
        let line = commented_line(&text, table, key)
            .unwrap_or_else(|| panic!("no `# {key} = …` in [{table}]"));
        // Uncommented, the line is accepted (parsing and validation read no files).
        yuqing_daemon::PipelineConfig::from_toml(
            &format!("[{table}]\n{line}\n"),
            "reference.toml",
            PathBuf::from("."),
            std::iter::empty(),
        )
        .unwrap_or_else(|e| panic!("`{line}` in [{table}]: {e}"));
    }
}

#[test]
fn only_the_known_maps_have_free_keys() {
    let mut found = BTreeSet::new();
    opaque(&pipeline(), "", &mut found);
    let known: BTreeSet<String> = FREE_MAPS.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        found, known,
        "a table serde does not describe (a map, a custom or a tagged type): describe it in this \
         test so that its keys are checked"
    );
}

#[test]
fn the_probe_finds_what_it_should() {
    // Nested tables, renames and skipped fields are seen as they are written in TOML.
    let Node::Struct(fields) = tree::<yuqing_daemon::PipelineConfig>() else {
        panic!()
    };
    let names: Vec<_> = fields.iter().map(|(f, _)| *f).collect();
    assert!(names.contains(&"bus") && names.contains(&"privacy"));
    assert!(!names.contains(&"base_dir"), "skipped fields are not keys");
    let bus = &fields.iter().find(|(f, _)| *f == "bus").unwrap().1;
    let Node::Struct(bus) = bus else { panic!() };
    assert!(matches!(
        bus.iter().find(|(f, _)| *f == "kafka"),
        Some((_, Node::Struct(_)))
    ));
    // A key missing from a file is reported with its table.
    let text = std::fs::read_to_string(reference()).unwrap();
    let broken = text.replace("\nmerge_window = \"24h\"\n", "\n");
    assert_ne!(broken, text);
    assert_eq!(missing(&broken), ["events: merge_window"]);
    let broken = text.replace("\nsettle = \"2s\"\n", "\n");
    assert_eq!(missing(&broken), ["sources[kind=dir]: settle"]);
    // Each kind of sink shows all its keys, nested tables included.
    let broken = text.replace("\nrate_limited_backoff = \"10m\"\n", "\n");
    assert_eq!(
        missing(&broken),
        ["sinks[kind=dingtalk].retry: rate_limited_backoff"]
    );
}
