//! Text for new values: a scalar in the quoting style it can be written in, and a
//! [`NewValue`] (scalars, mappings and lists of them) in block or flow notation. What is
//! rendered here is spliced in by the edits in `edit.rs` and checked by `verify.rs`.

use super::Style;

/// Can `s` be written as a plain scalar that reads back as the same string, in block and
/// flow context alike? Deliberately conservative: anything unusual gets quoted.
fn plain_safe(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    let dash_flag =
        first == '-' && s.len() > 1 && !s.starts_with("- ") && !s.starts_with("--- ") && s != "---";
    if !first.is_ascii_alphanumeric() && first != '/' && first != '.' && !dash_flag {
        return false;
    }
    if s.ends_with(':') || s.contains(": ") || s.contains(" #") {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/-:@=+ ".contains(c))
        || s.ends_with(' ')
    {
        return false;
    }
    // Would it resolve to something other than a string (YAML 1.1 or 1.2)?
    let lower = s.to_ascii_lowercase();
    let special = [
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".nan", ".inf", "-.inf",
    ];
    if special.contains(&lower.as_str()) {
        return false;
    }
    let numeric = s
        .trim_start_matches(['-', '+'])
        .chars()
        .all(|c| c.is_ascii_digit() || c == '.' || c == '_' || c == 'e' || c == 'E')
        && s.chars().any(|c| c.is_ascii_digit());
    !numeric
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON string, which YAML reads as the same double-quoted scalar (JSON's escapes are
/// YAML's too).
pub(super) fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| double_quoted(s))
}

/// Whether `s` written plain reads back as the string `s` (anything unusual is quoted).
pub(super) fn reads_as_string_plain(s: &str) -> bool {
    plain_safe(s)
}

/// Render `value` as a flow scalar, in `style` where that style can carry it, else
/// double-quoted. Returns the text and whether it is plain.
pub fn render_scalar(value: &str, style: Style) -> (String, bool) {
    match style {
        Style::Plain if plain_safe(value) => (value.to_string(), true),
        Style::SingleQuoted if !value.contains(['\n', '\r', '\t']) && value.is_ascii() => {
            (format!("'{}'", value.replace('\'', "''")), false)
        }
        _ => (double_quoted(value), false),
    }
}

/// A value to insert: scalars, and mappings and lists of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NewValue {
    Str(String),
    Bool(bool),
    Map(Vec<(String, NewValue)>),
    List(Vec<NewValue>),
}

impl NewValue {
    pub fn str(s: impl Into<String>) -> NewValue {
        NewValue::Str(s.into())
    }

    /// The scalar text and whether it is plain, for scalars.
    pub fn scalar_text(&self) -> Option<(String, bool)> {
        match self {
            NewValue::Str(s) => Some(render_scalar(s, Style::Plain)),
            NewValue::Bool(b) => Some((b.to_string(), true)),
            _ => None,
        }
    }

    /// Flow notation: `{a: b, c: [d]}`; with `json`, JSON (`{"a": "b", "c": ["d"]}`), which
    /// YAML reads the same way.
    pub(super) fn flow(&self, json: bool) -> String {
        let key = |k: &str| {
            if json {
                json_string(k)
            } else {
                render_scalar(k, Style::Plain).0
            }
        };
        match self {
            NewValue::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", key(k), v.flow(json)))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
            NewValue::List(items) => {
                let inner: Vec<String> = items.iter().map(|i| i.flow(json)).collect();
                format!("[{}]", inner.join(", "))
            }
            NewValue::Str(s) if json => json_string(s),
            scalar => scalar.scalar_text().map(|(t, _)| t).unwrap_or_default(),
        }
    }

    /// Block notation of what follows `key:` for a key at column `indent`.
    pub(super) fn block(&self, indent: usize, step: usize, nl: &str) -> String {
        let pad = " ".repeat(indent + step);
        let dash = " ".repeat(indent);
        match self {
            NewValue::Map(entries) if !entries.is_empty() => entries
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{nl}{pad}{}:{}",
                        render_scalar(k, Style::Plain).0,
                        v.block(indent + step, step, nl)
                    )
                })
                .collect(),
            // Lists go at the key's own column (`key:` / `- item`), as kubectl writes them.
            NewValue::List(items) if !items.is_empty() => items
                .iter()
                .map(|item| match item {
                    NewValue::Map(entries) if !entries.is_empty() => {
                        // `- k: v` then the other keys aligned under k.
                        let first = &entries[0];
                        let rest = NewValue::Map(entries[1..].to_vec());
                        let rest = if entries.len() > 1 {
                            rest.block(indent, 2, nl)
                        } else {
                            String::new()
                        };
                        format!(
                            "{nl}{dash}- {}:{}{rest}",
                            render_scalar(&first.0, Style::Plain).0,
                            first.1.block(indent + 2, step, nl)
                        )
                    }
                    other => format!("{nl}{dash}- {}", other.flow(false)),
                })
                .collect(),
            other => format!(" {}", other.flow(false)),
        }
    }
}
