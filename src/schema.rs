//! client-go's kubeconfig schema (`clientcmd/api/v1`), checked on the already-parsed tree.
//!
//! client-go reads a kubeconfig by converting YAML to JSON and decoding that into typed
//! structs, so a list where a mapping belongs, or `server: 6443` (a number where a string
//! belongs), fails the whole file. This module reports the same mistakes with their line and
//! column, without a second parse. Unknown fields are ignored, as client-go ignores them.

use crate::yaml::{Document, NodeId, NodeKind, Style, TagClass};

/// What a field must hold.
#[derive(Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Any,
    StrList,
    StrMap,
    StrListMap,
    Obj(&'static [(&'static str, Ty)]),
    List(&'static [(&'static str, Ty)]),
}

const EXTENSIONS: Ty = Ty::List(&[("name", Ty::Str), ("extension", Ty::Any)]);

const CLUSTER: &[(&str, Ty)] = &[
    ("server", Ty::Str),
    ("tls-server-name", Ty::Str),
    ("insecure-skip-tls-verify", Ty::Bool),
    ("certificate-authority", Ty::Str),
    ("certificate-authority-data", Ty::Str),
    ("proxy-url", Ty::Str),
    ("disable-compression", Ty::Bool),
    ("extensions", EXTENSIONS),
];

const CONTEXT: &[(&str, Ty)] = &[
    ("cluster", Ty::Str),
    ("user", Ty::Str),
    ("namespace", Ty::Str),
    ("extensions", EXTENSIONS),
];

const EXEC: &[(&str, Ty)] = &[
    ("command", Ty::Str),
    ("args", Ty::StrList),
    ("env", Ty::List(&[("name", Ty::Str), ("value", Ty::Str)])),
    ("apiVersion", Ty::Str),
    ("installHint", Ty::Str),
    ("provideClusterInfo", Ty::Bool),
    ("interactiveMode", Ty::Str),
];

const USER: &[(&str, Ty)] = &[
    ("client-certificate", Ty::Str),
    ("client-certificate-data", Ty::Str),
    ("client-key", Ty::Str),
    ("client-key-data", Ty::Str),
    ("token", Ty::Str),
    ("tokenFile", Ty::Str),
    ("as", Ty::Str),
    ("as-uid", Ty::Str),
    ("as-groups", Ty::StrList),
    ("as-user-extra", Ty::StrListMap),
    ("username", Ty::Str),
    ("password", Ty::Str),
    (
        "auth-provider",
        Ty::Obj(&[("name", Ty::Str), ("config", Ty::StrMap)]),
    ),
    ("exec", Ty::Obj(EXEC)),
    ("extensions", EXTENSIONS),
];

const CONFIG: &[(&str, Ty)] = &[
    ("kind", Ty::Str),
    ("apiVersion", Ty::Str),
    (
        "preferences",
        Ty::Obj(&[("colors", Ty::Bool), ("extensions", EXTENSIONS)]),
    ),
    (
        "clusters",
        Ty::List(&[("name", Ty::Str), ("cluster", Ty::Obj(CLUSTER))]),
    ),
    (
        "users",
        Ty::List(&[("name", Ty::Str), ("user", Ty::Obj(USER))]),
    ),
    (
        "contexts",
        Ty::List(&[("name", Ty::Str), ("context", Ty::Obj(CONTEXT))]),
    ),
    ("current-context", Ty::Str),
    ("extensions", EXTENSIONS),
];

/// A schema violation at a byte offset.
#[derive(Debug, Clone)]
pub struct SchemaError {
    pub at: usize,
    pub message: String,
}

/// How a plain scalar resolves, as go-yaml v2 (YAML 1.1, used by client-go) reads it.
#[derive(PartialEq, Eq, Debug)]
enum Scalar {
    Null,
    Bool,
    Number,
    Str,
}

/// How go-yaml v2 (`resolve.go`, as vendored by sigs.k8s.io/yaml for kubectl v1.32) resolves
/// an untagged plain scalar. Its first byte picks the path: `+`/`-`/digit (integers and
/// floats), `.` (floats), `yYnNtTfFoO~` (only the fixed words); any other first byte is a
/// string. Integers are Go's `ParseInt`/`ParseUint` with base prefixes (`0x`, `0o`, `0b`,
/// a leading `0` for octal), after removing every `_`; floats match go-yaml's pattern and
/// must not overflow (`1e400` is a string); a leading `.` goes to Go's `ParseFloat` as
/// written, underscores and all.
fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "Yes" | "YES" | "no"
        | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" | "y" | "Y" | "n" | "N" => {
            return Scalar::Bool
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Scalar::Number,
        _ => {}
    }
    if number_kind(s).is_some() {
        Scalar::Number
    } else {
        Scalar::Str
    }
}

/// A plain scalar go-yaml v2 resolves to a number: `Some(true)` for an integer, `Some(false)`
/// for a float.
fn number_kind(s: &str) -> Option<bool> {
    if matches!(
        s,
        ".nan"
            | ".NaN"
            | ".NAN"
            | ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
    ) {
        return Some(false);
    }
    match s.as_bytes().first()? {
        b'.' => go::parse_float(s).then_some(false),
        b'+' | b'-' | b'0'..=b'9' => {
            let plain = if s.contains('_') {
                std::borrow::Cow::Owned(s.replace('_', ""))
            } else {
                std::borrow::Cow::Borrowed(s)
            };
            let plain = plain.as_ref();
            let int = go::parse_int(plain, 0).is_some()
                || go::parse_uint(plain, 0).is_some()
                || match (plain.strip_prefix("0b"), plain.strip_prefix("-0b")) {
                    (Some(bits), _) => {
                        go::parse_int(bits, 2).is_some() || go::parse_uint(bits, 2).is_some()
                    }
                    (None, Some(bits)) => go::parse_int(&format!("-{bits}"), 2).is_some(),
                    (None, None) => false,
                };
            if int {
                Some(true)
            } else {
                (go::yaml_style_float(plain) && go::parse_float(plain)).then_some(false)
            }
        }
        _ => None,
    }
}

/// The tag go-yaml v2 resolves a value to, as its messages name it (`!!int`).
fn resolved_tag(s: &str) -> &'static str {
    match resolve_plain(s) {
        Scalar::Null => "!!null",
        Scalar::Bool => "!!bool",
        Scalar::Number if number_kind(s) == Some(true) => "!!int",
        Scalar::Number => "!!float",
        Scalar::Str => "!!str",
    }
}

/// Whether go-yaml v2 accepts `value` under explicit tag `class` (`resolve.go`: the value
/// must resolve to the tag, an integer passes as a float; `!!str`, `!!binary` and tags it
/// does not know take anything).
fn tag_accepts(class: TagClass, value: &str) -> bool {
    match class {
        TagClass::None | TagClass::Str | TagClass::Binary => true,
        TagClass::Bool => resolve_plain(value) == Scalar::Bool,
        TagClass::Null => resolve_plain(value) == Scalar::Null,
        TagClass::Int => number_kind(value) == Some(true),
        TagClass::Float => number_kind(value).is_some(),
        TagClass::Timestamp => is_timestamp(value),
    }
}

/// go-yaml v2's `parseTimestamp`: Go's `time.Parse` with one of `2006-1-2T15:4:5.999999999Z07:00`
/// (`T` or `t`), `2006-1-2 15:4:5.999999999` and `2006-1-2`: a four-digit year, one- or
/// two-digit fields in range (the day within its month), optional fractional seconds, and a
/// zone (`Z` or `±hh:mm`) after a `T` only.
fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    // One or two digits.
    let num = |i: &mut usize| -> Option<u32> {
        let from = *i;
        while *i < b.len() && *i - from < 2 && b[*i].is_ascii_digit() {
            *i += 1;
        }
        (*i > from).then(|| s[from..*i].parse().ok()).flatten()
    };
    let byte = |i: &mut usize, c: u8| -> bool {
        let ok = b.get(*i) == Some(&c);
        *i += usize::from(ok);
        ok
    };
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return false;
    }
    let year: u32 = s[..4].parse().unwrap_or(0);
    let mut i = 5;
    let Some(month) = num(&mut i) else {
        return false;
    };
    if !byte(&mut i, b'-') {
        return false;
    }
    let Some(day) = num(&mut i) else { return false };
    let leap = year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400));
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    if day == 0 || day > days {
        return false;
    }
    if i == b.len() {
        return true;
    }
    let sep = b[i];
    if !matches!(sep, b'T' | b't' | b' ') {
        return false;
    }
    i += 1;
    let time = [
        num(&mut i),
        byte(&mut i, b':').then_some(0),
        num(&mut i),
        byte(&mut i, b':').then_some(0),
        num(&mut i),
    ];
    match time {
        [Some(h), Some(_), Some(m), Some(_), Some(sec)] if h < 24 && m < 60 && sec < 60 => {}
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        let from = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == from {
            return false;
        }
    }
    if sep == b' ' {
        return i == b.len();
    }
    match b.get(i) {
        Some(b'Z') => i + 1 == b.len(),
        Some(b'+' | b'-') => {
            let zone = &b[i + 1..];
            zone.len() == 5
                && zone[2] == b':'
                && [0, 1, 3, 4].iter().all(|&j| zone[j].is_ascii_digit())
        }
        _ => false,
    }
}

/// Tagged scalars whose value go-yaml v2 cannot decode under their tag
/// (`insecure-skip-tls-verify: !!bool "x"`): kubectl refuses the whole file, wherever the
/// node is. The first in document order.
fn check_tags(doc: &Document<'_>) -> Result<(), SchemaError> {
    let bad = doc
        .tagged()
        .filter_map(|(id, class)| match doc.kind(id) {
            NodeKind::Scalar { value, .. } if !tag_accepts(class, value) => {
                Some((doc.node(id).span().start, class, resolved_tag(value)))
            }
            _ => None,
        })
        .min_by_key(|&(at, _, _)| at);
    match bad {
        None => Ok(()),
        Some((at, class, rtag)) => Err(SchemaError {
            at,
            // The value itself is not echoed: it may be a token.
            message: format!(
                "this value is tagged {} but reads as {rtag}; kubectl refuses the file: yaml: cannot decode {rtag} `…` as a {}",
                class.short(),
                class.short()
            ),
        }),
    }
}

/// Go's `strconv` number syntax, as far as go-yaml v2 uses it (64 bits).
mod go {
    /// `strconv.ParseUint(s, base, 64)` succeeds (base 0: the prefix decides).
    pub fn parse_uint(s: &str, base: u32) -> Option<u64> {
        let b = s.as_bytes();
        if b.is_empty() {
            return None;
        }
        let (base, digits) = match base {
            0 if b[0] == b'0' && b.len() >= 3 => match b[1].to_ascii_lowercase() {
                b'b' => (2, &s[2..]),
                b'o' => (8, &s[2..]),
                b'x' => (16, &s[2..]),
                _ => (8, &s[1..]),
            },
            0 if b[0] == b'0' => (8, &s[1..]),
            0 => (10, s),
            b => (b, s),
        };
        digits.chars().try_fold(0u64, |n, c| {
            let d = c.to_digit(base)?;
            n.checked_mul(u64::from(base))?.checked_add(u64::from(d))
        })
    }

    /// `strconv.ParseInt(s, base, 64)` succeeds.
    pub fn parse_int(s: &str, base: u32) -> Option<i64> {
        let (neg, rest) = match s.as_bytes().first()? {
            b'+' => (false, &s[1..]),
            b'-' => (true, &s[1..]),
            _ => (false, s),
        };
        let n = parse_uint(rest, base)?;
        if neg {
            (n <= 1 << 63).then(|| (n as i64).wrapping_neg())
        } else {
            i64::try_from(n).ok()
        }
    }

    /// go-yaml's `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`.
    pub fn yaml_style_float(s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let digits = |i: &mut usize| {
            let from = *i;
            while *i < b.len() && b[*i].is_ascii_digit() {
                *i += 1;
            }
            *i > from
        };
        if b.get(i) == Some(&b'.') {
            i += 1;
            if !digits(&mut i) {
                return false;
            }
        } else {
            if !digits(&mut i) {
                return false;
            }
            if b.get(i) == Some(&b'.') {
                i += 1;
                digits(&mut i);
            }
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !digits(&mut i) {
                return false;
            }
        }
        i == b.len()
    }

    /// `strconv.ParseFloat(s, 64)` succeeds, for a decimal `s` (go-yaml never hands it
    /// anything else): Go's float syntax with `_` between digits only, and no overflow
    /// (`1e400` fails; `1e-400` is 0).
    pub fn parse_float(s: &str) -> bool {
        let b = s.as_bytes();
        let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        let (mut dot, mut digits, mut underscores) = (false, false, false);
        while i < b.len() {
            match b[i] {
                b'_' => underscores = true,
                b'.' if dot => break,
                b'.' => dot = true,
                c if c.is_ascii_digit() => digits = true,
                _ => break,
            }
            i += 1;
        }
        if !digits {
            return false;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(b.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            if !b.get(i).is_some_and(u8::is_ascii_digit) {
                return false;
            }
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'_') {
                underscores |= b[i] == b'_';
                i += 1;
            }
        }
        if i != b.len() || (underscores && !underscore_ok(s)) {
            return false;
        }
        s.replace('_', "").parse::<f64>().is_ok_and(f64::is_finite)
    }

    /// Go's `underscoreOK` for a decimal number: every `_` between two digits.
    fn underscore_ok(s: &str) -> bool {
        let s = s.strip_prefix(['+', '-']).unwrap_or(s);
        let mut saw = b'^';
        for c in s.bytes() {
            if c.is_ascii_digit() {
                saw = b'0';
            } else if c == b'_' {
                if saw != b'0' {
                    return false;
                }
                saw = b'_';
            } else if saw == b'_' {
                return false;
            } else {
                saw = b'!';
            }
        }
        saw != b'_'
    }
}

struct Checker<'d, 'a> {
    doc: &'d Document<'a>,
}

/// Where a value sits (`users[0].user.exec.args`), spelled out only for an error message:
/// the check visits every field of every entry, and most files have no error at all.
#[derive(Clone, Copy)]
enum Where<'p> {
    Root,
    Field(&'p Where<'p>, &'p str),
    Index(&'p Where<'p>, usize),
    EachItem(&'p Where<'p>),
}

impl std::fmt::Display for Where<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Where::Root => Ok(()),
            Where::Field(Where::Root, key) => write!(f, "{key}"),
            Where::Field(parent, key) => write!(f, "{parent}.{key}"),
            Where::Index(parent, i) => write!(f, "{parent}[{i}]"),
            Where::EachItem(parent) => write!(f, "each item of {parent}"),
        }
    }
}

impl Checker<'_, '_> {
    /// `WHAT must be SHAPE, but it is …`.
    fn wrong(&self, id: NodeId, what: Where<'_>, shape: &str) -> SchemaError {
        self.fail(
            id,
            format!(
                "{what} must be {shape}, but it is {}",
                self.doc.describe(id)
            ),
        )
    }

    fn fail(&self, id: NodeId, message: String) -> SchemaError {
        SchemaError {
            at: self.doc.node(id).span().start,
            message,
        }
    }

    /// What go-yaml v2 hands on for a scalar: by its explicit tag, if any (values the tag
    /// does not accept were refused by [`check_tags`]), else a plain one by its text and a
    /// quoted one as a string.
    fn scalar_kind(&self, id: NodeId) -> Option<Scalar> {
        let id = self.doc.resolve(id);
        match self.doc.kind(id) {
            NodeKind::Scalar { null: true, .. } => Some(Scalar::Null),
            NodeKind::Scalar { value, style, .. } => Some(match self.doc.tag_class(id) {
                TagClass::None if style == Style::Plain => resolve_plain(value),
                TagClass::None | TagClass::Str | TagClass::Binary | TagClass::Timestamp => {
                    Scalar::Str
                }
                TagClass::Bool => Scalar::Bool,
                TagClass::Int | TagClass::Float => Scalar::Number,
                TagClass::Null => Scalar::Null,
            }),
            _ => None,
        }
    }

    fn check(&self, id: NodeId, ty: Ty, what: Where<'_>) -> Result<(), SchemaError> {
        let doc = self.doc;
        let kind = self.scalar_kind(id);
        if kind == Some(Scalar::Null) {
            return Ok(()); // null is the empty value of every type
        }
        match ty {
            Ty::Any => Ok(()),
            Ty::Str => match kind {
                Some(Scalar::Str) => Ok(()),
                Some(Scalar::Bool) | Some(Scalar::Number) => Err(self.fail(
                    id,
                    format!(
                        "{what} must be a string, but {} reads as a {}; quote it",
                        // Never echo a secret (a numeric token or password) in an error.
                        if is_secret_field(&what.to_string()) {
                            "its value".to_string()
                        } else {
                            format!("{:?}", doc.scalar(id).unwrap_or(""))
                        },
                        if kind == Some(Scalar::Bool) {
                            "boolean"
                        } else {
                            "number"
                        }
                    ),
                )),
                _ => Err(self.fail(
                    id,
                    format!("{what} must be a string, but it is {}", doc.describe(id)),
                )),
            },
            Ty::Bool => match kind {
                Some(Scalar::Bool) => Ok(()),
                _ => Err(self.fail(
                    id,
                    format!("{what} must be true or false, but it is {}", show(doc, id)),
                )),
            },
            Ty::StrList => {
                let items = doc
                    .items(id)
                    .ok_or_else(|| self.wrong(id, what, "a list of strings"))?;
                for &item in items {
                    self.check(item, Ty::Str, Where::EachItem(&what))?;
                }
                Ok(())
            }
            Ty::StrMap | Ty::StrListMap => {
                if doc.entries(id).is_none() {
                    return Err(self.wrong(id, what, "a mapping"));
                }
                // Only the entries kubectl reads (not a key written again, nor one a later
                // merge key overrides).
                for &(k, v) in doc.read_entries(id).iter() {
                    let key = doc.scalar(k).unwrap_or("");
                    let inner = if matches!(ty, Ty::StrMap) {
                        Ty::Str
                    } else {
                        Ty::StrList
                    };
                    self.check(v, inner, Where::Field(&what, key))?;
                }
                Ok(())
            }
            Ty::Obj(fields) => {
                if doc.entries(id).is_none() {
                    return Err(self.wrong(id, what, "a mapping"));
                }
                // Only the entries kubectl reads (not a key written again, nor one a later
                // merge key overrides).
                for &(k, v) in doc.read_entries(id).iter() {
                    let Some(key) = doc.scalar(k) else { continue };
                    if let Some(&(_, fty)) = fields.iter().find(|(name, _)| *name == key) {
                        self.check(v, fty, Where::Field(&what, key))?;
                    }
                }
                // Merge keys: the merged mappings hold fields of the same object.
                for merged in doc.merge_values(id) {
                    let sources: Vec<NodeId> = match doc.items(merged) {
                        Some(items) => items.to_vec(),
                        None => vec![merged],
                    };
                    for s in sources {
                        if doc.entries(s).is_none() {
                            return Err(self.fail(
                                s,
                                format!("a merge key (<<) in {what} must refer to a mapping"),
                            ));
                        }
                    }
                }
                Ok(())
            }
            Ty::List(fields) => {
                let items = doc
                    .items(id)
                    .ok_or_else(|| self.wrong(id, what, "a list"))?;
                for (i, &item) in items.iter().enumerate() {
                    self.check(item, Ty::Obj(fields), Where::Index(&what, i))?;
                }
                Ok(())
            }
        }
    }
}

use crate::secrets::is_secret_field;

fn show(doc: &Document<'_>, id: NodeId) -> String {
    match doc.scalar(id) {
        Some(s) => format!("{s:?}"),
        None => doc.describe(id).to_string(),
    }
}

/// Check a parsed kubeconfig against client-go's schema.
pub fn check(doc: &Document<'_>) -> Result<(), SchemaError> {
    check_tags(doc)?;
    match doc.root {
        Some(root) => Checker { doc }.check(root, Ty::Obj(CONFIG), Where::Root),
        None => Ok(()),
    }
}

/// A key client-go does not know where it is written (it drops it without a word).
#[derive(Debug, Clone)]
pub struct UnknownKey {
    /// The key node.
    pub key: NodeId,
    /// Where the mapping sits: `users[0].user.exec`, empty for the top level.
    pub place: String,
    /// The keys client-go knows there.
    pub known: Vec<&'static str>,
}

/// The places a key is known at, for "it belongs under …": (place, its keys), most
/// specific first. `clusters[].cluster` stands for every cluster.
pub fn places() -> [(&'static str, Vec<&'static str>); 6] {
    let names = |fields: &[(&'static str, Ty)]| fields.iter().map(|(n, _)| *n).collect();
    [
        ("clusters[].cluster", names(CLUSTER)),
        ("users[].user", names(USER)),
        ("contexts[].context", names(CONTEXT)),
        ("users[].user.exec", names(EXEC)),
        ("users[].user.auth-provider", vec!["name", "config"]),
        ("the top level", names(CONFIG)),
    ]
}

/// Every key client-go ignores because its mapping has no such field (free-form mappings —
/// `extensions[].extension`, auth-provider `config`, `as-user-extra` — hold anything). Each
/// node is visited once (an aliased mapping is checked where it is written), so this is
/// linear in the document. Merge keys (`<<`) and keys whose value carries an anchor (a
/// top-level `x-defaults: &d …` kept for merging) are not reported.
pub fn unknown_keys(doc: &Document<'_>) -> Vec<UnknownKey> {
    let mut out = Vec::new();
    if let Some(root) = doc.root {
        let mut seen = std::collections::HashSet::new();
        walk_unknown(doc, root, CONFIG, Where::Root, &mut seen, &mut out);
    }
    out
}

fn walk_unknown(
    doc: &Document<'_>,
    id: NodeId,
    fields: &'static [(&'static str, Ty)],
    what: Where<'_>,
    seen: &mut std::collections::HashSet<NodeId>,
    out: &mut Vec<UnknownKey>,
) {
    let id = doc.resolve(id);
    if !seen.insert(id) {
        return;
    }
    let Some(entries) = doc.entries(id) else {
        return;
    };
    for &(k, v) in entries {
        let Some(key) = doc.scalar(k) else { continue };
        match fields.iter().find(|(name, _)| *name == key) {
            Some(&(_, ty)) => match ty {
                Ty::Obj(inner) => walk_unknown(doc, v, inner, Where::Field(&what, key), seen, out),
                Ty::List(inner) => {
                    for (i, &item) in doc.items(doc.resolve(v)).unwrap_or(&[]).iter().enumerate() {
                        walk_unknown(
                            doc,
                            item,
                            inner,
                            Where::Index(&Where::Field(&what, key), i),
                            seen,
                            out,
                        );
                    }
                }
                _ => {}
            },
            None if key == "<<" || doc.anchor(doc.resolve(v)).is_some() => {}
            None if matches!(what, Where::Root) && key.starts_with("x-") => {}
            None => out.push(UnknownKey {
                key: k,
                place: what.to_string(),
                known: fields.iter().map(|(n, _)| *n).collect(),
            }),
        }
    }
    // The mappings merged in hold fields of the same object.
    if let Some(merged) = doc.merge_value(id) {
        let sources: Vec<NodeId> = match doc.items(merged) {
            Some(items) => items.to_vec(),
            None => vec![merged],
        };
        for s in sources {
            walk_unknown(doc, s, fields, what, seen, out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> Option<String> {
        let doc = Document::parse(src).unwrap();
        check(&doc).err().map(|e| e.message)
    }

    /// Each plain scalar as a cluster name, and what kubectl v1.32.4 made of it (`kubectl
    /// config view`): "cannot unmarshal number into Go struct field NamedCluster.clusters.name
    /// of type string" (N), "... unmarshal bool ..." (B), or read as the string (S). `.inf` and
    /// `.nan` fail too ("json: unsupported value: +Inf"), as numbers.
    #[test]
    fn plain_scalars_resolve_as_kubectl_reads_them() {
        use Scalar::{Bool as B, Number as N, Str as S};
        let table = [
            ("1e3", N),
            ("0b101", N),
            ("0o17", N),
            ("6E10", N),
            ("0x1F", N),
            ("0X1F", N),
            ("0B101", N),
            ("0O17", N),
            ("017", N),
            ("08", N),
            ("09.5", N),
            ("1_000", N),
            ("_1000", S),
            ("-_1", N),
            ("1__0", N),
            ("0x_1F", N),
            ("+1", N),
            ("-1", N),
            ("+.5", N),
            (".5", N),
            (".5e3", N),
            ("._5", S),
            (".5_0", N),
            ("1.", N),
            ("1.e3", N),
            ("1e", S),
            ("e3", S),
            ("1e+3", N),
            ("1E-3", N),
            (".inf", N),
            ("-.inf", N),
            ("+.inf", N),
            (".Inf", N),
            (".INF", N),
            (".nan", N),
            (".NaN", N),
            ("NaN", S),
            ("inf", S),
            ("1e400", S),
            ("-1e400", S),
            ("1e-400", N),
            ("99999999999999999999", N),
            ("-99999999999999999999", N),
            ("18446744073709551615", N),
            ("18446744073709551616", N),
            ("-9223372036854775809", N),
            ("0b2", S),
            ("0o8", S),
            ("0x", S),
            ("0b", S),
            ("+", S),
            ("1.2.3", S),
            ("1_000.5", N),
            ("1_0e3", N),
            ("2001-12-14", S),
            ("1:20", S),
            ("0x1p3", S),
            ("-0b101", N),
            ("+0b101", N),
            ("-0x1F", N),
            ("0o", S),
            ("1e3_0", N),
            ("0.0", N),
            ("+0o17", N),
            ("-0o17", N),
            ("0b_1", N),
            ("1_", N),
            ("0x1F_", N),
            ("1e_3", N),
            ("+_1", N),
            (".5e", S),
            ("_.5", S),
            ("-.5", N),
            ("+-1", S),
            ("0xG", S),
            ("1e3.5", S),
            ("100_000_000_000_000_000_000", N),
            ("0b-1", N),
            ("0b+1", N),
            ("-0b-1", S),
            ("0xFFFFFFFFFFFFFFFFFF", S),
            ("-0xFFFFFFFFFFFFFFFFFF", S),
            ("0777777777777777777777777", N),
            ("0o7777777777777777777777777", S),
            (".5e_3", S),
            (".5e1_0", N),
            (".5__0", S),
            (".5e400", S),
            ("1.7976931348623157e308", N),
            ("1.7976931348623159e308", S),
            ("0_8", N),
            ("0_x1F", N),
            ("0x-1", S),
            ("0x+1", S),
            ("9223372036854775808", N),
            ("-9223372036854775808", N),
            ("0x8000000000000000", N),
            ("-0x8000000000000000", N),
            ("-0x8000000000000001", S),
            ("0xFFFFFFFFFFFFFFFF", N),
            ("0o_7", N),
            (".e3", S),
            (".5.", S),
            ("+.inf_", S),
            ("1.5e3x", S),
            ("0.5", N),
            ("._", S),
            (".", S),
            ("0b102", S),
            (
                "0b11111111111111111111111111111111111111111111111111111111111111111",
                S,
            ),
            ("yes", B),
            ("Off", B),
            ("y", B),
            ("~", Scalar::Null),
            ("6443", N),
            ("https://x:6443", S),
            ("LS0tLS1CRUdJTi", S),
            ("-", S),
        ];
        let wrong: Vec<_> = table
            .iter()
            .filter(|(s, want)| resolve_plain(s) != *want)
            .map(|(s, _)| *s)
            .collect();
        assert!(wrong.is_empty(), "resolved unlike kubectl: {wrong:?}");
    }

    /// go-yaml v2's explicit tags, as kubectl v1.32 reads them (`kubectl config view` on
    /// `server: <tag> <value>`): read, or refused with "cannot decode".
    #[test]
    fn explicit_tags_are_decoded_as_go_yaml_decodes_them() {
        for (value, read) in [
            ("!!timestamp 2001-12-14t21:59:43.10-05:00", true),
            ("!!timestamp 2001-1-1", true),
            ("!!timestamp 2001-12-14T21:59:43Z", true),
            ("!!timestamp '2001-12-14 21:59:43.10'", true),
            ("!!timestamp x", false),
            ("!!timestamp 2001-13-45", false),
            ("!!timestamp 2001-02-29", false),
            ("!!timestamp '2001-12-14 21:59:43.10 -5'", false),
            ("!!bool ~", false),
            ("!!null ~", true),
            ("!!null x", false),
            ("!!int 1.5", false),
            ("!!float 1", false), // a number where a string belongs
            ("!!str 1", true),
            ("!foo 1", true),
        ] {
            let src = format!("clusters:\n- name: a\n  cluster:\n    server: {value}\n");
            assert_eq!(err(&src).is_none(), read, "{value}: {:?}", err(&src));
        }
        let e = err("x: !!bool maybe\n").unwrap();
        assert!(e.contains("cannot decode !!str `…` as a !!bool"), "{e}");
        let e = err("x: !!int true\n").unwrap();
        assert!(e.contains("cannot decode !!bool `…` as a !!int"), "{e}");
    }

    #[test]
    fn wrong_types_are_reported() {
        assert!(err("clusters: {a: 1}\n")
            .unwrap()
            .contains("clusters must be a list"));
        assert!(err("users:\n- name: u\n  user:\n    token: 12345\n")
            .unwrap()
            .contains("users[0].user.token must be a string"));
        assert!(
            err("clusters:\n- name: c\n  cluster:\n    insecure-skip-tls-verify: maybe\n")
                .unwrap()
                .contains("must be true or false")
        );
        assert!(
            err("users:\n- name: u\n  user:\n    exec:\n      args: a\n")
                .unwrap()
                .contains("list of strings")
        );
    }

    #[test]
    fn messages_name_the_full_path() {
        let e = err("users:\n- name: a\n- name: u\n  user:\n    exec:\n      args: [ok, 12]\n")
            .unwrap();
        assert!(e.contains("each item of users[1].user.exec.args must be a string, but \"12\" reads as a number"), "{e}");
        let e = err(
            "users:\n- name: u\n  user:\n    auth-provider:\n      config: {access-token: 7}\n",
        )
        .unwrap();
        // A secret's value is never echoed.
        assert!(e.contains("users[0].user.auth-provider.config.access-token must be a string, but its value reads as a number"), "{e}");
        assert!(err("current-context: true\n")
            .unwrap()
            .starts_with("current-context must be a string"));
    }

    #[test]
    fn valid_shapes_pass() {
        assert_eq!(
            err("apiVersion: v1\nkind: Config\npreferences: {}\nclusters:\n- name: c\n  cluster:\n    server: https://x\n    insecure-skip-tls-verify: yes\ncurrent-context: ''\nusers:\n- name: u\n  user:\n    token: '12345'\n    exec:\n      env: null\n      provideClusterInfo: false\n    auth-provider:\n      name: gcp\n      config: {expiry-key: '{.token_expiry}'}\nunknown: [1, 2]\n"),
            None
        );
    }
}
