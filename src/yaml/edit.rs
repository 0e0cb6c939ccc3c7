//! Edits that keep the file's own style: replace a scalar in its quoting style, insert a
//! mapping entry with its siblings' indentation and the file's line ending, remove an entry
//! with its whole line. Each returns the byte edit and what it means ([`Intent`]), so the
//! result can be verified by re-parsing.

use super::{render_scalar, Document, Edit, Intent, Layout, NewValue, NodeId, NodeKind, Style};

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum EditError {
    #[error("line {line}: {what}; kubefix does not edit this form, change it by hand")]
    Unsupported { line: usize, what: String },
}

/// A byte edit together with its meaning.
#[derive(Debug, Clone)]
pub struct Change {
    pub edit: Edit,
    pub intent: Intent,
}

fn unsupported(doc: &Document<'_>, at: usize, what: impl Into<String>) -> EditError {
    EditError::Unsupported {
        line: doc.position(at).line,
        what: what.into(),
    }
}

/// A mapping's entries, as (key, value) node pairs.
type Entries<'d> = &'d [(NodeId, NodeId)];

/// The layout and entries of mapping `map`, or why it cannot be edited as one.
fn mapping<'d>(doc: &'d Document<'_>, map: NodeId) -> Result<(Layout, Entries<'d>), EditError> {
    let node = doc.node(map);
    match doc.kind(map) {
        NodeKind::Mapping { layout, entries } => Ok((layout, entries)),
        _ => Err(unsupported(
            doc,
            node.span().start,
            "the target is not a mapping",
        )),
    }
}

/// Index of the entry `key` among the `entries` of mapping `map`.
fn entry_index(
    doc: &Document<'_>,
    map: NodeId,
    entries: Entries<'_>,
    key: &str,
) -> Result<usize, EditError> {
    // Of a key written twice, the last entry: the one kubectl reads.
    entries
        .iter()
        .rposition(|&(k, _)| doc.scalar(k) == Some(key))
        .ok_or_else(|| unsupported(doc, doc.node(map).span().start, format!("no key {key:?}")))
}

/// Replace the scalar `id` with `new_value`, keeping its quoting style. Anchors and tags in
/// front of it stay where they are (they are outside the scalar's span).
pub fn replace_scalar(
    doc: &Document<'_>,
    id: NodeId,
    new_value: &str,
) -> Result<Change, EditError> {
    let node = doc.node(id);
    // `key:` with nothing after it: the value has no bytes of its own.
    let (style, empty) = match doc.kind(id) {
        NodeKind::Scalar { style, null, .. } => (style, null && node.span().is_empty()),
        _ => {
            return Err(unsupported(
                doc,
                node.span().start,
                "the value is not a scalar",
            ))
        }
    };
    if matches!(style, Style::Literal | Style::Folded) {
        return Err(unsupported(
            doc,
            node.span().start,
            "the value is a block scalar (| or >)",
        ));
    }
    let (text, plain) = render_scalar(new_value, if empty { Style::Plain } else { style });
    let range = if empty {
        // `key:` with no value: the parser puts the empty value at the end of the key, before
        // the colon. Write the value after the colon.
        let rest = &doc.src[node.span().start..];
        let colon = rest
            .find(|c: char| c != ' ')
            .filter(|&i| rest[i..].starts_with(':'))
            .ok_or_else(|| {
                unsupported(doc, node.span().start, "an empty value not after `key:`")
            })?;
        let at = node.span().start + colon + 1;
        at..at
    } else {
        node.span()
    };
    let text = if empty { format!(" {text}") } else { text };
    Ok(Change {
        edit: Edit::new(range, text),
        intent: Intent::Set {
            node: id,
            value: new_value.to_string(),
            plain,
        },
    })
}

/// Whitespace (or a sequence dash turned into spaces) that puts a new line's first character
/// in the same column as the byte at `at`.
fn indentation_of(doc: &Document<'_>, at: usize) -> String {
    let line = doc.lines.line(at);
    let start = doc.lines.line_start(line);
    let prefix = &doc.src[start..at];
    if prefix.chars().all(|c| c == ' ') {
        prefix.to_string()
    } else {
        // `- key: v` or `? key`: same column, spaces only.
        " ".repeat(prefix.chars().count())
    }
}

/// End of the line holding byte `at`, before its line break (or the end of the text).
fn line_end(src: &str, at: usize) -> usize {
    match src[at..].find('\n') {
        Some(i) => {
            let nl = at + i;
            if nl > 0 && src.as_bytes()[nl - 1] == b'\r' {
                nl - 1
            } else {
                nl
            }
        }
        None => src.len(),
    }
}

/// Columns between a mapping's keys and its children's keys in this file (2 if unknown).
fn indent_step(doc: &Document<'_>, map: NodeId) -> usize {
    let col = |id: NodeId| {
        let at = doc.node(id).span().start;
        at - doc.lines.line_start(doc.lines.line(at))
    };
    let entries = doc.entries(map).unwrap_or(&[]);
    for &(k, v) in entries {
        if let NodeKind::Mapping {
            layout: Layout::Block,
            entries: inner,
        } = doc.kind(v)
        {
            if let Some(&(ik, _)) = inner.first() {
                if col(ik) > col(k) {
                    return col(ik) - col(k);
                }
            }
        }
    }
    if let Some(key) = doc.node(map).key() {
        if let Some(&(k, _)) = entries.first() {
            if col(k) > col(key)
                && doc.lines.line(doc.node(k).span().start)
                    != doc.lines.line(doc.node(key).span().start)
            {
                return col(k) - col(key);
            }
        }
    }
    2
}

/// Add `key: value` (value given as plain-or-quoted text via [`render_scalar`]) as the last
/// entry of mapping `map`.
pub fn insert_entry(
    doc: &Document<'_>,
    map: NodeId,
    key: &str,
    value: &NewValue,
) -> Result<Change, EditError> {
    let node = doc.node(map);
    let (layout, entries) = mapping(doc, map)?;
    let (key_text, _) = render_scalar(key, Style::Plain);
    let intent = Intent::Insert {
        map,
        key: key.to_string(),
        value: value.clone(),
    };
    let nl = doc.newline;
    let edit = match layout {
        Layout::Flow => match entries.last() {
            None => Edit::new(
                node.span().start + 1..node.span().start + 1,
                format!("{key_text}: {}", value.flow()),
            ),
            Some(&(k, v)) => {
                let at = doc.node(v).span().end.max(doc.node(k).span().end);
                Edit::new(at..at, format!(", {key_text}: {}", value.flow()))
            }
        },
        Layout::Block => {
            let &(first_key, _) = entries
                .first()
                .ok_or_else(|| unsupported(doc, node.span().start, "empty block mapping"))?;
            let indent = indentation_of(doc, doc.node(first_key).span().start);
            let body = value.block(indent.len(), indent_step(doc, map), nl);
            let end = node.span().end;
            if end > 0 && doc.src.as_bytes()[end - 1] == b'\n' {
                // The last value (a block scalar) took its line break with it.
                Edit::new(end..end, format!("{indent}{key_text}:{body}{nl}"))
            } else {
                let at = line_end(doc.src, end);
                Edit::new(at..at, format!("{nl}{indent}{key_text}:{body}"))
            }
        }
    };
    Ok(Change { edit, intent })
}

/// Remove the entry `key` from mapping `map`: in block style the whole lines it occupies
/// (including a comment on them), in flow style the entry and one separating comma.
pub fn remove_entry(doc: &Document<'_>, map: NodeId, key: &str) -> Result<Change, EditError> {
    let node = doc.node(map);
    let (layout, entries) = mapping(doc, map)?;
    let idx = entry_index(doc, map, entries, key)?;
    if entries.len() == 1 {
        return Err(unsupported(
            doc,
            node.span().start,
            format!("{key:?} is the only entry of its mapping"),
        ));
    }
    let (k, v) = entries[idx];
    // Of a key written twice, kubectl reads the last entry: without it, the earlier one.
    if let Some(&(earlier, _)) = entries[..idx]
        .iter()
        .rev()
        .find(|&&(e, _)| doc.scalar(e) == Some(key))
    {
        return Err(unsupported(
            doc,
            doc.node(k).span().start,
            format!(
                "{key:?} is also written at line {} (kubectl reads the last one), so removing it here would make kubectl read that one; remove both by hand",
                doc.position(doc.node(earlier).span().start).line
            ),
        ));
    }
    // With the entry gone, go-yaml (and so kubectl) would take the key from a merge key's
    // mapping (`<<: *base`): the removal would change nothing kubectl sees.
    if let Some(merged) = doc.merge_value(map) {
        let sources = match doc.items(merged) {
            Some(items) => items.to_vec(),
            None => vec![merged],
        };
        if let Some(from) = sources.iter().find_map(|&s| doc.get(s, key)) {
            return Err(unsupported(
                doc,
                doc.node(k).span().start,
                format!(
                    "the value also comes from the merged mapping at line {} (<<), so removing {key:?} here would change nothing for kubectl; remove it there too, or the merge key",
                    doc.position(doc.node(from).span().start).line
                ),
            ));
        }
    }
    let (kspan, vspan) = (doc.node(k).span(), doc.node(v).span());
    let src = doc.src;
    let range = match layout {
        Layout::Flow => {
            let end = vspan.end.max(kspan.end);
            if idx + 1 < entries.len() {
                // `k: v, ` up to the next key.
                kspan.start..doc.node(entries[idx + 1].0).span().start
            } else {
                // `, k: v` from the previous value's end.
                let (pk, pv) = entries[idx - 1];
                doc.node(pv).span().end.max(doc.node(pk).span().end)..end
            }
        }
        Layout::Block => {
            let line = doc.lines.line(kspan.start);
            let start = doc.lines.line_start(line);
            if !src[start..kspan.start].chars().all(|c| c == ' ') {
                return Err(unsupported(
                    doc,
                    kspan.start,
                    format!("{key:?} shares its line with a list dash or other content"),
                ));
            }
            let last = vspan.end.max(kspan.end);
            let end = if last > 0 && src.as_bytes()[last - 1] == b'\n' {
                last
            } else {
                let e = line_end(src, last);
                if src[e..].starts_with("\r\n") {
                    e + 2
                } else if src[e..].starts_with('\n') {
                    e + 1
                } else {
                    e
                }
            };
            if end == src.len() && start > 0 && !src.ends_with('\n') {
                // Last line without a final newline: drop the preceding line break instead.
                let prev = if src[..start].ends_with("\r\n") {
                    start - 2
                } else {
                    start - 1
                };
                prev..end
            } else {
                start..end
            }
        }
    };
    Ok(Change {
        edit: Edit::new(range, String::new()),
        intent: Intent::Remove { map, key: k },
    })
}

/// Replace the entry `old_key` of mapping `map` by `new_key: value`, in the same place (the
/// old key's comment-free lines are rewritten; comments on other lines stay).
pub fn replace_entry(
    doc: &Document<'_>,
    map: NodeId,
    old_key: &str,
    new_key: &str,
    value: &NewValue,
) -> Result<Change, EditError> {
    let (layout, entries) = mapping(doc, map)?;
    let (k, v) = entries[entry_index(doc, map, entries, old_key)?];
    let kspan = doc.node(k).span();
    let end = doc.node(v).span().end.max(kspan.end);
    let key_text = render_scalar(new_key, Style::Plain).0;
    let (range, text) = match layout {
        Layout::Flow => (kspan.start..end, format!("{key_text}: {}", value.flow())),
        Layout::Block => {
            let start = doc.lines.line_start(doc.lines.line(kspan.start));
            let indent = kspan.start - start;
            // Up to the end of the value's last line, keeping a block scalar's line break.
            let end = if end > 0 && doc.src.as_bytes()[end - 1] == b'\n' {
                if doc.src[..end].ends_with("\r\n") {
                    end - 2
                } else {
                    end - 1
                }
            } else {
                line_end(doc.src, end)
            };
            let body = value.block(indent, indent_step(doc, map), doc.newline);
            (kspan.start..end, format!("{key_text}:{body}"))
        }
    };
    Ok(Change {
        edit: Edit::new(range, text),
        intent: Intent::Replace {
            map,
            key: k,
            new_key: new_key.to_string(),
            value: value.clone(),
        },
    })
}
