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

impl Change {
    fn new(edit: Edit, intent: Intent) -> Change {
        Change { edit, intent }
    }
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
    Ok(Change::new(
        Edit::new(range, text),
        Intent::Set {
            node: id,
            value: new_value.to_string(),
            plain,
        },
    ))
}

/// Where the entry of key node `k` begins as written: before the key's properties (`!!str`,
/// `&a`) and an explicit-key indicator (`? `) on the same line.
fn key_lead(doc: &Document<'_>, k: NodeId) -> usize {
    let src = doc.src;
    let at = doc.node(k).span().start;
    let line_start = doc.lines.line_start(doc.lines.line(at));
    let mut start = at;
    loop {
        let before = src[line_start..start].trim_end_matches([' ', '\t']);
        let tok = before
            .rfind([' ', '\t', '{', ',', '['])
            .map_or(0, |i| i + 1);
        let token = &before[tok..];
        if token.starts_with(['!', '&']) {
            start = line_start + tok;
        } else if token == "?" {
            return line_start + tok;
        } else {
            return start;
        }
    }
}

/// Whether the value of key `k` is written with `? key` / `: value` (an explicit key).
fn explicit_key(doc: &Document<'_>, k: NodeId) -> bool {
    doc.src[key_lead(doc, k)..].starts_with('?')
}

/// End of the entry `k: v` as written: after its value, or after the colon of an empty
/// value (whose empty span the parser puts at the end of the key, before the colon).
fn entry_end(doc: &Document<'_>, k: NodeId, v: NodeId) -> usize {
    let (kspan, vspan) = (doc.node(k).span(), doc.node(v).span());
    let end = vspan.end.max(kspan.end);
    let empty = vspan.is_empty() && matches!(doc.kind(v), NodeKind::Scalar { null: true, .. });
    if !empty {
        return end;
    }
    let rest = &doc.src[end..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t', '\r', '\n']).len();
    if rest[skipped..].starts_with(':') {
        end + skipped + 1
    } else {
        end
    }
}

/// Whitespace that puts a new entry of mapping `map` in the column of its keys (or of their
/// `? ` indicators); a sequence dash before the first key becomes spaces.
fn entry_indent(doc: &Document<'_>, entries: Entries<'_>) -> String {
    let prefix = |k: NodeId| {
        let lead = key_lead(doc, k);
        &doc.src[doc.lines.line_start(doc.lines.line(lead))..lead]
    };
    if let Some(p) = entries
        .iter()
        .map(|&(k, _)| prefix(k))
        .find(|p| p.chars().all(|c| c == ' '))
    {
        return p.to_string();
    }
    entries
        .first()
        .map(|&(k, _)| " ".repeat(prefix(k).chars().count()))
        .unwrap_or_default()
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

/// After the line break that ends the line holding `at` (or the end of the text).
fn next_line(src: &str, at: usize) -> usize {
    match src[at..].find('\n') {
        Some(i) => at + i + 1,
        None => src.len(),
    }
}

/// Columns between a mapping's keys and its children's keys in this file (2 if unknown).
fn indent_step(doc: &Document<'_>, map: NodeId) -> usize {
    let col = |id: NodeId| {
        let at = key_lead(doc, id);
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

/// Whether new entries of flow mapping `map` are written JSON-style: its keys (or, when it
/// has none, its own key) are double-quoted. Such a file stays JSON after an edit.
fn json_style(doc: &Document<'_>, map: NodeId, entries: Entries<'_>) -> bool {
    let quoted = |k: NodeId| {
        matches!(
            doc.kind(k),
            NodeKind::Scalar {
                style: Style::DoubleQuoted,
                ..
            }
        )
    };
    match entries.first() {
        Some(&(k, _)) => quoted(k),
        None => doc.node(map).key().is_some_and(quoted),
    }
}

/// Add `key: value` (value given as plain-or-quoted text via [`render_scalar`]) as the last
/// entry of mapping `map`. In a JSON-style flow mapping, the new entry is JSON too.
pub fn insert_entry(
    doc: &Document<'_>,
    map: NodeId,
    key: &str,
    value: &NewValue,
) -> Result<Change, EditError> {
    let node = doc.node(map);
    let (layout, entries) = mapping(doc, map)?;
    let intent = Intent::Insert {
        map,
        key: key.to_string(),
        value: value.clone(),
    };
    let nl = doc.newline;
    let edit = match layout {
        Layout::Flow => {
            let json = json_style(doc, map, entries);
            let entry = format!("{}: {}", flow_key(key, json), value.flow(json));
            match entries.last() {
                None => Edit::new(node.span().start + 1..node.span().start + 1, entry),
                Some(&(k, v)) => {
                    let at = entry_end(doc, k, v);
                    let lead = key_lead(doc, k);
                    let close = node.span().end.saturating_sub(1);
                    if starts_line(doc, lead) && doc.lines.line(close) > doc.lines.line(at) {
                        // One entry per line: the new one gets a line of its own.
                        let indent = &doc.src[doc.lines.line_start(doc.lines.line(lead))..lead];
                        Edit::new(at..at, format!(",{nl}{indent}{entry}"))
                    } else {
                        Edit::new(at..at, format!(", {entry}"))
                    }
                }
            }
        }
        Layout::Block => {
            if entries.is_empty() {
                return Err(unsupported(doc, node.span().start, "empty block mapping"));
            }
            let (key_text, _) = render_scalar(key, Style::Plain);
            let indent = entry_indent(doc, entries);
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

/// A key in flow notation: plain where it can be, double-quoted in a JSON-style mapping.
fn flow_key(key: &str, json: bool) -> String {
    if json {
        super::emit::json_string(key)
    } else {
        render_scalar(key, Style::Plain).0
    }
}

/// Position of the first `,` at or after `at` that is not in a comment (flow separators
/// between entries), or `None` before `limit`.
fn comma_after(src: &str, mut at: usize, limit: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    while at < limit {
        match bytes[at] {
            b',' => return Some(at),
            b'#' if at == 0 || matches!(bytes[at - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                at = next_line(src, at);
            }
            b' ' | b'\t' | b'\r' | b'\n' => at += 1,
            _ => return None,
        }
    }
    None
}

/// Whether only blanks (and then a comment or nothing) follow `at` on its line.
fn rest_of_line_blank(src: &str, at: usize) -> bool {
    let rest = src[at..line_end(src, at)].trim_start_matches([' ', '\t']);
    rest.is_empty() || rest.starts_with('#')
}

/// Whether only blanks precede `at` on its line.
fn starts_line(doc: &Document<'_>, at: usize) -> bool {
    let start = doc.lines.line_start(doc.lines.line(at));
    doc.src[start..at].chars().all(|c| c == ' ' || c == '\t')
}

/// The byte edit that removes the entries `run` (consecutive indices) of flow mapping
/// `entries`. A multi-line flow mapping loses whole lines, and comments on other lines stay.
fn flow_removal(
    doc: &Document<'_>,
    entries: Entries<'_>,
    run: std::ops::RangeInclusive<usize>,
) -> Edit {
    let src = doc.src;
    let (a, b) = (*run.start(), *run.end());
    let start_a = key_lead(doc, entries[a].0);
    let end_b = entry_end(doc, entries[b].0, entries[b].1);
    if b + 1 < entries.len() {
        let next = key_lead(doc, entries[b + 1].0);
        // One entry per line: drop the lines, up to and with the comma after the run (and
        // a comment that follows it on its line).
        if let Some(comma) = comma_after(src, end_b, next) {
            if starts_line(doc, start_a)
                && doc.lines.line(comma) < doc.lines.line(next)
                && rest_of_line_blank(src, comma + 1)
            {
                let from = doc.lines.line_start(doc.lines.line(start_a));
                return Edit::new(from..next_line(src, comma), "");
            }
        }
        // `k: v, ` up to the next key.
        return Edit::new(start_a..next, "");
    }
    if a == 0 {
        // Every entry: `{}` stays.
        return Edit::new(start_a..end_b, "");
    }
    let prev_end = entry_end(doc, entries[a - 1].0, entries[a - 1].1);
    match comma_after(src, prev_end, start_a) {
        // The last entries on lines of their own: the comma after the entry before them
        // goes, and so do their lines; comment lines in between stay.
        Some(comma) if starts_line(doc, start_a) && rest_of_line_blank(src, end_b) => {
            let keep = &src[comma + 1..doc.lines.line_start(doc.lines.line(start_a))];
            // The entries' lines go, with a comment after the last one.
            let to = next_line(src, end_b);
            Edit::new(comma..to, keep)
        }
        Some(comma) if starts_line(doc, start_a) => {
            // `  last: v }`: keep the line and its indentation.
            let keep = &src[comma + 1..start_a];
            Edit::new(comma..end_b, keep)
        }
        // `, k: v` from the previous value's end.
        _ => Edit::new(prev_end..end_b, ""),
    }
}

/// Full-line comments right above the line at `line_start` (no blank line between), at the
/// entry's column, that clearly belong to the removed key `key`: they name it and no other
/// key of the mapping. Returns where they begin. Lines before `floor` (the end of the entry
/// before, whose multi-line quoted value may have a line that starts with `#`) are not looked at.
fn own_comment_above(
    doc: &Document<'_>,
    entries: Entries<'_>,
    line_start: usize,
    floor: usize,
    col: &str,
    key: &str,
) -> Option<usize> {
    let src = doc.src;
    let mut from = line_start;
    let mut text = String::new();
    while from > 0 {
        let prev = doc.lines.line_start(doc.lines.line(from - 1));
        if prev < floor {
            break;
        }
        let line = src[prev..from].trim_end_matches(['\n', '\r']);
        match line.strip_prefix(col) {
            Some(c) if c.starts_with('#') => {
                text.push_str(c);
                text.push('\n');
                from = prev;
            }
            _ => break,
        }
    }
    if from == line_start {
        return None;
    }
    let names = |k: &str| text.contains(k);
    let others = entries
        .iter()
        .filter_map(|&(k, _)| doc.scalar(k))
        .filter(|&k| k != key && !key.contains(k))
        .any(names);
    (names(key) && !others).then_some(from)
}

/// Remove the entry `key` from mapping `map`: in block style the whole lines it occupies
/// (including a comment on them, and full-line comments right above that name this key and
/// no other), in flow style the entry and one separating comma.
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
    let src = doc.src;
    let edit = match layout {
        Layout::Flow => flow_removal(doc, entries, idx..=idx),
        Layout::Block => {
            let lead = key_lead(doc, k);
            let line = doc.lines.line(lead);
            let start = doc.lines.line_start(line);
            if !src[start..lead].chars().all(|c| c == ' ') {
                return Err(unsupported(
                    doc,
                    lead,
                    format!("{key:?} shares its line with a list dash or other content"),
                ));
            }
            let last = entry_end(doc, k, v);
            let end = if last > 0 && src.as_bytes()[last - 1] == b'\n' {
                last
            } else {
                next_line(src, last)
            };
            let floor = match idx.checked_sub(1) {
                Some(i) => entry_end(doc, entries[i].0, entries[i].1),
                None => 0,
            };
            let start = own_comment_above(doc, entries, start, floor, &src[start..lead], key)
                .unwrap_or(start);
            if end == src.len() && start > 0 && !src.ends_with('\n') {
                // Last line without a final newline: drop the preceding line break instead.
                let prev = if src[..start].ends_with("\r\n") {
                    start - 2
                } else {
                    start - 1
                };
                Edit::new(prev..end, "")
            } else {
                Edit::new(start..end, "")
            }
        }
    };
    Ok(Change {
        edit,
        intent: Intent::Remove { map, key: k },
    })
}

/// Join the removals of several entries of one flow mapping into one edit per run of
/// neighbouring entries: removed one by one, two neighbours would both claim the comma
/// between them. Other changes pass through.
pub fn join_flow_removals(
    doc: &Document<'_>,
    changes: Vec<(Edit, Intent)>,
) -> (Vec<Edit>, Vec<Intent>) {
    use std::collections::HashMap;
    let mut per_map: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    for (_, intent) in &changes {
        if let Intent::Remove { map, key } = *intent {
            if matches!(
                doc.kind(map),
                NodeKind::Mapping {
                    layout: Layout::Flow,
                    ..
                }
            ) {
                per_map.entry(map).or_default().push(key);
            }
        }
    }
    per_map.retain(|_, keys| keys.len() > 1);
    let mut edits = Vec::with_capacity(changes.len());
    let mut intents = Vec::with_capacity(changes.len());
    for (edit, intent) in changes {
        let joined = matches!(intent, Intent::Remove { map, .. } if per_map.contains_key(&map));
        if !joined {
            edits.push(edit);
        }
        intents.push(intent);
    }
    for (map, keys) in per_map {
        let entries = doc.entries(map).unwrap_or(&[]);
        let mut removed: Vec<usize> = keys
            .iter()
            .filter_map(|&key| entries.iter().position(|&(k, _)| k == key))
            .collect();
        removed.sort_unstable();
        removed.dedup();
        let mut i = 0;
        while i < removed.len() {
            let mut j = i;
            while j + 1 < removed.len() && removed[j + 1] == removed[j] + 1 {
                j += 1;
            }
            edits.push(flow_removal(doc, entries, removed[i]..=removed[j]));
            i = j + 1;
        }
    }
    (edits, intents)
}

/// Full-line and trailing comments inside `range` that are not part of a scalar of the
/// subtree `k`/`v` (a `#` in a quoted or block scalar is text, not a comment).
fn comments_in<'a>(
    doc: &Document<'a>,
    k: NodeId,
    v: NodeId,
    range: std::ops::Range<usize>,
) -> Vec<&'a str> {
    let src = doc.src;
    let mut spans: Vec<std::ops::Range<usize>> = std::iter::once(k)
        .chain(doc.post_order(v))
        .filter(|&n| matches!(doc.kind(n), NodeKind::Scalar { .. }))
        .map(|n| doc.node(n).span())
        .filter(|s| !s.is_empty())
        .collect();
    spans.sort_by_key(|s| s.start);
    let in_scalar = |at: usize| {
        let i = spans.partition_point(|s| s.start <= at);
        i > 0 && spans[i - 1].end > at
    };
    let mut out = Vec::new();
    let mut at = range.start;
    while at < range.end {
        let end = line_end(src, at).min(range.end);
        let bytes = src.as_bytes();
        if let Some(hash) = (at..end).find(|&i| {
            bytes[i] == b'#'
                && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n'))
                && !in_scalar(i)
        }) {
            out.push(src[hash..end].trim_end());
        }
        at = next_line(src, end);
    }
    out
}

/// Replace the entry `old_key` of mapping `map` by `new_key: value`, in the same place (the
/// old entry's lines are rewritten; its comments move above the new entry, and comments on
/// other lines stay).
pub fn replace_entry(
    doc: &Document<'_>,
    map: NodeId,
    old_key: &str,
    new_key: &str,
    value: &NewValue,
) -> Result<Change, EditError> {
    let (layout, entries) = mapping(doc, map)?;
    let (k, v) = entries[entry_index(doc, map, entries, old_key)?];
    let lead = key_lead(doc, k);
    let end = entry_end(doc, k, v);
    let (range, text) = match layout {
        Layout::Flow => {
            let json = json_style(doc, map, entries);
            let entry = format!("{}: {}", flow_key(new_key, json), value.flow(json));
            let comments = comments_in(doc, k, v, lead..end);
            let nl = doc.newline;
            let line_start = doc.lines.line_start(doc.lines.line(lead));
            let text = if comments.is_empty() {
                entry
            } else if starts_line(doc, lead) {
                // Comments inside the old value go on lines of their own above the new entry.
                let pad = &doc.src[line_start..lead];
                let above: String = comments.iter().map(|c| format!("{c}{nl}{pad}")).collect();
                format!("{above}{entry}")
            } else {
                // The entry shares its line: the comments follow it, and what came after the
                // old value continues on the next line, indented past the line's own start.
                let indent = doc.src[line_start..lead].len()
                    - doc.src[line_start..lead].trim_start_matches(' ').len();
                let pad = " ".repeat(indent + 2);
                let mut after = String::new();
                for (i, c) in comments.iter().enumerate() {
                    after.push_str(&if i == 0 {
                        format!(" {c}")
                    } else {
                        format!("{nl}{pad}{c}")
                    });
                }
                format!("{entry}{after}{nl}{pad}")
            };
            (lead..end, text)
        }
        Layout::Block => {
            let key_text = render_scalar(new_key, Style::Plain).0;
            let start = doc.lines.line_start(doc.lines.line(lead));
            let indent = lead - start;
            if !doc.src[start..lead].chars().all(|c| c == ' ') && explicit_key(doc, k) {
                return Err(unsupported(
                    doc,
                    lead,
                    format!("{old_key:?} shares its line with a list dash"),
                ));
            }
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
            let pad = " ".repeat(indent);
            let comments: String = comments_in(doc, k, v, lead..end)
                .into_iter()
                .map(|c| format!("{c}{}{pad}", doc.newline))
                .collect();
            (lead..end, format!("{comments}{key_text}:{body}"))
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

/// Where the properties (`!!tag`, `&anchor`) written before the node at `at` begin, on its
/// line.
fn props_start(doc: &Document<'_>, at: usize) -> usize {
    let line_start = doc.lines.line_start(doc.lines.line(at));
    let mut start = at;
    loop {
        let before = doc.src[line_start..start].trim_end_matches([' ', '\t']);
        let tok = before
            .rfind([' ', '\t', '{', ',', '[', ':', '-', '?'])
            .map_or(0, |i| i + 1);
        if before[tok..].starts_with(['!', '&']) && tok < before.len() {
            start = line_start + tok;
        } else {
            return start;
        }
    }
}

/// Every alias of the text by the node it refers to, in document order (built once per
/// file, in one pass).
pub fn alias_index(doc: &Document<'_>) -> std::collections::HashMap<NodeId, Vec<NodeId>> {
    let mut out: std::collections::HashMap<NodeId, Vec<NodeId>> = Default::default();
    if !doc.has_aliases() {
        return out;
    }
    for id in 0..doc.len() as NodeId {
        if let NodeKind::Alias { target } = doc.kind(id) {
            out.entry(target).or_default().push(id);
        }
    }
    for aliases in out.values_mut() {
        aliases.sort_by_key(|&a| doc.node(a).span().start);
    }
    out
}

/// An entry removal takes an anchor (`&t`) with it that aliases elsewhere still use: the
/// first alias that stays is written out as the anchored value, anchor and tag included
/// (`*t` becomes `&t true`), so every alias still reads the same value and the later ones
/// still resolve. `removed` holds every byte range the patch deletes (an alias inside one
/// goes too). Only single-line scalars move this way; anything else is refused with why.
pub fn rehome_anchors(
    doc: &Document<'_>,
    aliases: &std::collections::HashMap<NodeId, Vec<NodeId>>,
    key: NodeId,
    value: NodeId,
    removed: &[std::ops::Range<usize>],
) -> Result<Vec<Change>, EditError> {
    let mut out = Vec::new();
    if aliases.is_empty() {
        return Ok(out);
    }
    let gone = |at: usize| removed.iter().any(|r| r.start <= at && at < r.end);
    for node in std::iter::once(key).chain(doc.post_order(value)) {
        let Some(name) = doc.anchor(node) else {
            continue;
        };
        let Some(used) = aliases.get(&node) else {
            continue;
        };
        let Some(&first) = used.iter().find(|&&a| !gone(doc.node(a).span().start)) else {
            continue;
        };
        let span = doc.node(node).span();
        let refuse = |why: &str| {
            Err(unsupported(
                doc,
                span.start,
                format!(
                    "the removed value is anchored as &{name} and still used at line {} (*{name}); {why}: give that place its own copy of the value, then run kubefix again",
                    doc.position(doc.node(first).span().start).line
                ),
            ))
        };
        let text = match doc.kind(node) {
            NodeKind::Scalar {
                style: Style::Plain | Style::SingleQuoted | Style::DoubleQuoted,
                null: false,
                value,
            } => {
                let start = props_start(doc, span.start);
                let text = &doc.src[start..span.end];
                // Every property of the node must move with it: its anchor and its tag
                // written before it on its own line (`&t !!binary …`), not on a line above,
                // where `props_start` does not look (a value holding `&` or `!` proves nothing).
                let props = &doc.src[start..span.start];
                let anchor_here = doc
                    .anchor_span(node)
                    .is_some_and(|r| start <= r.start && r.end <= span.start);
                let tag_here =
                    !doc.is_tagged(node) || props.split_whitespace().any(|t| t.starts_with('!'));
                if !anchor_here || !tag_here {
                    return refuse("its anchor or tag is written on a line above the value");
                }
                if text.contains(['\n', '\r']) || value.contains([',', '[', ']', '{', '}', '#']) {
                    return refuse("kubefix moves only a one-line value to the alias");
                }
                text
            }
            _ => return refuse("kubefix moves only a one-line value to the alias"),
        };
        let at = doc.node(first).span();
        let after = doc.src[at.end..].trim_start_matches([' ', '\t']);
        if after.starts_with(':') {
            return refuse("the alias is a mapping key");
        }
        out.push(Change {
            edit: Edit::new(at, text),
            intent: Intent::Inline { alias: first },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::super::{equivalent, Patch};
    use super::*;

    /// `src` with `changes` applied (flow removals joined, as the plan does), checked to
    /// mean the original plus exactly the changes.
    fn apply(src: &str, changes: impl FnOnce(&Document<'_>) -> Vec<Change>) -> String {
        let doc = Document::parse(src).unwrap();
        let changes = changes(&doc);
        let (edits, intents) = join_flow_removals(
            &doc,
            changes.into_iter().map(|c| (c.edit, c.intent)).collect(),
        );
        let mut patch = Patch::new();
        edits.into_iter().for_each(|e| patch.push(e));
        let out = patch.apply(src).unwrap();
        let new = Document::parse(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        equivalent(&doc, &new, &intents).unwrap_or_else(|e| panic!("{e}\n{out}"));
        out
    }

    fn at(doc: &Document<'_>, path: &[&str]) -> NodeId {
        path.iter()
            .fold(doc.root.unwrap(), |n, k| doc.get(n, k).unwrap())
    }

    fn mode() -> NewValue {
        NewValue::str("IfAvailable")
    }

    #[test]
    fn inserts_beside_explicit_keys_and_empty_values() {
        let src = "exec:\n  ? apiVersion\n  : v1\n  command: aws\n";
        let out = apply(src, |d| {
            vec![insert_entry(d, at(d, &["exec"]), "interactiveMode", &mode()).unwrap()]
        });
        assert_eq!(out, format!("{src}  interactiveMode: IfAvailable\n"));
        let src = "exec:\n  apiVersion: v1\n  ? command\n";
        let out = apply(src, |d| {
            vec![insert_entry(d, at(d, &["exec"]), "interactiveMode", &mode()).unwrap()]
        });
        assert_eq!(out, format!("{src}  interactiveMode: IfAvailable\n"));
        let src = "exec: {apiVersion: v1, command: aws,\n  env: }\n";
        let out = apply(src, |d| {
            vec![insert_entry(d, at(d, &["exec"]), "interactiveMode", &mode()).unwrap()]
        });
        assert_eq!(
            out,
            "exec: {apiVersion: v1, command: aws,\n  env:, interactiveMode: IfAvailable }\n"
        );
    }

    #[test]
    fn json_stays_json() {
        let src = "{\"exec\": {\"apiVersion\": \"v1\"}, \"auth-provider\": {\"name\": \"gcp\"}}\n";
        let value = NewValue::Map(vec![
            ("command".into(), NewValue::str("p")),
            ("on".into(), NewValue::Bool(true)),
        ]);
        let out = apply(src, |d| {
            vec![
                insert_entry(d, at(d, &["exec"]), "interactiveMode", &mode()).unwrap(),
                replace_entry(d, d.root.unwrap(), "auth-provider", "exec2", &value).unwrap(),
            ]
        });
        assert_eq!(out, "{\"exec\": {\"apiVersion\": \"v1\", \"interactiveMode\": \"IfAvailable\"}, \"exec2\": {\"command\": \"p\", \"on\": true}}\n");
        serde_json::from_str::<serde_json::Value>(&out).unwrap();
    }

    #[test]
    fn replaces_an_explicit_key_and_keeps_its_comments() {
        let src = "user:\n  ? auth-provider  # legacy\n  : name: gcp\n    # cached\n    config: {}\n  token: t\n";
        let value = NewValue::Map(vec![("command".into(), NewValue::str("p"))]);
        let out = apply(src, |d| {
            vec![replace_entry(d, at(d, &["user"]), "auth-provider", "exec", &value).unwrap()]
        });
        assert_eq!(
            out,
            "user:\n  # legacy\n  # cached\n  exec:\n    command: p\n  token: t\n"
        );
    }

    #[test]
    fn neighbouring_flow_removals_join() {
        let src = "c: {server: s, data: d, insecure: true, file: /x}\n";
        let out = apply(src, |d| {
            let c = at(d, &["c"]);
            vec![
                remove_entry(d, c, "insecure").unwrap(),
                remove_entry(d, c, "file").unwrap(),
            ]
        });
        assert_eq!(out, "c: {server: s, data: d}\n");
        let src = "c: {insecure: true, file: /x, server: s}\n";
        let out = apply(src, |d| {
            let c = at(d, &["c"]);
            vec![
                remove_entry(d, c, "insecure").unwrap(),
                remove_entry(d, c, "file").unwrap(),
            ]
        });
        assert_eq!(out, "c: {server: s}\n");
    }

    #[test]
    fn removing_the_last_line_of_a_flow_map_keeps_the_comment_above_it() {
        let src = "c: {\n  server: s,\n  # the CA file\n  file: /x\n}\n";
        let out = apply(src, |d| {
            vec![remove_entry(d, at(d, &["c"]), "file").unwrap()]
        });
        assert_eq!(out, "c: {\n  server: s\n  # the CA file\n}\n");
    }

    #[test]
    fn a_comment_above_goes_only_when_it_names_the_removed_key_alone() {
        let src =
            "c:\n  server: s\n  # insecure: until the CA is fixed\n  insecure: true\n  file: /x\n";
        let out = apply(src, |d| {
            vec![remove_entry(d, at(d, &["c"]), "insecure").unwrap()]
        });
        assert_eq!(out, "c:\n  server: s\n  file: /x\n");
        let src = "c:\n  server: s\n  # TLS: insecure and file\n  insecure: true\n  file: /x\n";
        let out = apply(src, |d| {
            vec![remove_entry(d, at(d, &["c"]), "insecure").unwrap()]
        });
        assert_eq!(
            out,
            "c:\n  server: s\n  # TLS: insecure and file\n  file: /x\n"
        );
    }

    /// A line of the value before that starts with `#` (a double-quoted scalar over two
    /// lines) is not a comment: it stays, and so does the value.
    #[test]
    fn a_quoted_value_line_that_looks_like_a_comment_stays() {
        let src = "c:\n  name: \"kube\n  # insecure-skip-tls-verify\"\n  insecure-skip-tls-verify: true\n  file: /x\n";
        let out = apply(src, |d| {
            vec![remove_entry(d, at(d, &["c"]), "insecure-skip-tls-verify").unwrap()]
        });
        assert_eq!(
            out,
            "c:\n  name: \"kube\n  # insecure-skip-tls-verify\"\n  file: /x\n"
        );
    }

    #[test]
    fn a_removed_anchor_moves_to_its_first_remaining_alias() {
        let src = "a:\n  x: &t !!bool true\n  y: 1\nb:\n  x: *t\nc: [*t]\n";
        let out = apply(src, |d| {
            let a = at(d, &["a"]);
            let mut changes = vec![remove_entry(d, a, "x").unwrap()];
            let key = d.get_key(a, "x").unwrap();
            let removed = [changes[0].edit.range.clone()];
            changes.extend(
                rehome_anchors(d, &alias_index(d), key, d.get(a, "x").unwrap(), &removed).unwrap(),
            );
            changes
        });
        assert_eq!(out, "a:\n  y: 1\nb:\n  x: &t !!bool true\nc: [*t]\n");
        // A mapping anchor is not moved: the removal is refused with a reason.
        let doc = Document::parse("a:\n  x: &m {k: v}\n  y: 1\nb: *m\n").unwrap();
        let a = at(&doc, &["a"]);
        let (key, value) = (doc.get_key(a, "x").unwrap(), doc.get(a, "x").unwrap());
        let e = rehome_anchors(&doc, &alias_index(&doc), key, value, &[]).unwrap_err();
        assert!(e.to_string().contains("anchored as &m"), "{e}");
    }

    /// The anchor or tag of a moved value written on the line above it stays behind with
    /// the removed lines: the alias would lose its anchor (`*t` after it no longer resolves)
    /// or its tag (`!!binary` decoded by kubectl, the raw text after the move). Refused.
    #[test]
    fn a_removed_anchor_with_properties_on_the_line_above_is_not_moved() {
        for src in [
            "a:\n  x: &t\n    v&w\n  y: 1\nb: *t\nc: *t\n",
            "a:\n  x: !!binary\n    &t aGk=\n  y: 1\nb: *t\n",
            "a:\n  x: !!str\n    &t true\n  y: 1\nb: *t\n",
        ] {
            let doc = Document::parse(src).unwrap();
            let a = at(&doc, &["a"]);
            let (key, value) = (doc.get_key(a, "x").unwrap(), doc.get(a, "x").unwrap());
            let removed = [remove_entry(&doc, a, "x").unwrap().edit.range];
            let e = rehome_anchors(&doc, &alias_index(&doc), key, value, &removed).expect_err(src);
            assert!(e.to_string().contains("anchored as &t"), "{e}");
        }
        // On the value's own line, tag and anchor move with it.
        let src = "a:\n  x: &t !!binary aGk=\n  y: 1\nb: *t\n";
        let out = apply(src, |d| {
            let a = at(d, &["a"]);
            let mut changes = vec![remove_entry(d, a, "x").unwrap()];
            let key = d.get_key(a, "x").unwrap();
            let removed = [changes[0].edit.range.clone()];
            changes.extend(
                rehome_anchors(d, &alias_index(d), key, d.get(a, "x").unwrap(), &removed).unwrap(),
            );
            changes
        });
        assert_eq!(out, "a:\n  y: 1\nb: &t !!binary aGk=\n");
    }
}
