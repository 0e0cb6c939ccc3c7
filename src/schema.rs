//! client-go's kubeconfig schema (`clientcmd/api/v1`), checked on the already-parsed tree.
//!
//! client-go reads a kubeconfig by converting YAML to JSON and decoding that into typed
//! structs, so a list where a mapping belongs, or `server: 6443` (a number where a string
//! belongs), fails the whole file. This module reports the same mistakes with their line and
//! column, without a second parse. Unknown fields are ignored, as client-go ignores them.

use crate::yaml::{Document, NodeId, NodeKind, Style};

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
#[derive(PartialEq, Eq)]
enum Scalar {
    Null,
    Bool,
    Number,
    Str,
}

fn resolve_plain(s: &str) -> Scalar {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "yes" | "Yes" | "YES" | "no"
        | "No" | "NO" | "on" | "On" | "ON" | "off" | "Off" | "OFF" | "y" | "Y" | "n" | "N" => {
            return Scalar::Bool
        }
        _ => {}
    }
    let t = s.trim_start_matches(['-', '+']);
    // Every number starts with a digit, `_` or `.` after its sign; anything else (names,
    // URLs, base64 data) is a string, and needs no copy to find out.
    if !t.starts_with(|c: char| c.is_ascii_digit() || c == '_' || c == '.') {
        return Scalar::Str;
    }
    let digits = t.replace('_', "");
    let is_int = !digits.is_empty()
        && (digits.chars().all(|c| c.is_ascii_digit())
            || digits
                .strip_prefix("0x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit())));
    let is_float = {
        let mut parts = digits.splitn(2, ['e', 'E']);
        let mant = parts.next().unwrap_or("");
        let exp_ok = parts.next().is_none_or(|e| {
            let e = e.trim_start_matches(['-', '+']);
            !e.is_empty() && e.chars().all(|c| c.is_ascii_digit())
        });
        mant.contains('.')
            && mant.chars().filter(|c| *c == '.').count() == 1
            && mant.chars().any(|c| c.is_ascii_digit())
            && mant.chars().all(|c| c.is_ascii_digit() || c == '.')
            && exp_ok
    };
    let special = matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN");
    if is_int || is_float || special {
        Scalar::Number
    } else {
        Scalar::Str
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

    fn scalar_kind(&self, id: NodeId) -> Option<Scalar> {
        match self.doc.kind(self.doc.resolve(id)) {
            NodeKind::Scalar { null: true, .. } => Some(Scalar::Null),
            NodeKind::Scalar {
                value,
                style: Style::Plain,
                ..
            } => Some(resolve_plain(value)),
            NodeKind::Scalar { .. } => Some(Scalar::Str),
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
                let entries = doc
                    .entries(id)
                    .ok_or_else(|| self.wrong(id, what, "a mapping"))?;
                for &(k, v) in entries {
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
                let entries = doc
                    .entries(id)
                    .ok_or_else(|| self.wrong(id, what, "a mapping"))?;
                for &(k, v) in entries {
                    let Some(key) = doc.scalar(k) else { continue };
                    if let Some(&(_, fty)) = fields.iter().find(|(name, _)| *name == key) {
                        self.check(v, fty, Where::Field(&what, key))?;
                    }
                }
                // Merge keys: the merged mappings hold fields of the same object.
                if let Some(merged) = doc.merge_value(id) {
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
    match doc.root {
        Some(root) => Checker { doc }.check(root, Ty::Obj(CONFIG), Where::Root),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(src: &str) -> Option<String> {
        let doc = Document::parse(src).unwrap();
        check(&doc).err().map(|e| e.message)
    }

    #[test]
    fn plain_scalar_resolution() {
        assert!(resolve_plain("6443") == Scalar::Number);
        assert!(resolve_plain("1.5e3") == Scalar::Number);
        assert!(resolve_plain("yes") == Scalar::Bool);
        assert!(resolve_plain("~") == Scalar::Null);
        assert!(resolve_plain("1.2.3") == Scalar::Str);
        assert!(resolve_plain("https://x:6443") == Scalar::Str);
        assert!(resolve_plain("0x1F") == Scalar::Number);
        assert!(resolve_plain("-.inf") == Scalar::Number);
        assert!(resolve_plain("_1_000") == Scalar::Number);
        assert!(resolve_plain(".5e3") == Scalar::Number);
        assert!(resolve_plain("-") == Scalar::Str);
        assert!(resolve_plain("LS0tLS1CRUdJTi") == Scalar::Str);
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
