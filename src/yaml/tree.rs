//! One parse of the source into a tree of nodes that remember their exact byte spans.
//!
//! The tree is built from granit-parser's event stream, whose spans are UTF-8 byte ranges into
//! the original text. Nothing here copies the source: scalar values borrow from it where the
//! parser could (plain and unescaped quoted scalars), and every node points back at its bytes.
//! Aliases stay aliases (a reference to the anchored node), so an "alias bomb" costs one node
//! per alias, never an expansion.

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Options, Parser, ScalarStyle, StructureStyle};

use super::{LineIndex, Position, YamlError};

/// Index of a node in [`Document::nodes`].
pub type NodeId = usize;

/// How a scalar was written in the source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

impl From<ScalarStyle> for Style {
    fn from(s: ScalarStyle) -> Self {
        match s {
            ScalarStyle::Plain => Style::Plain,
            ScalarStyle::SingleQuoted => Style::SingleQuoted,
            ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
            ScalarStyle::Literal => Style::Literal,
            ScalarStyle::Folded => Style::Folded,
        }
    }
}

/// Block (`key: value` on lines) or flow (`{key: value}`) notation of a collection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    Block,
    Flow,
}

#[derive(Debug)]
pub enum NodeKind<'a> {
    /// A scalar. `value` is the decoded text. `null` marks YAML's null: an empty plain scalar
    /// (`key:` with nothing after it, recorded with an empty span at the end of the key and
    /// an empty `value`) or a plain `null` / `~`.
    Scalar {
        value: Cow<'a, str>,
        style: Style,
        null: bool,
    },
    Mapping {
        layout: Layout,
        entries: Vec<(NodeId, NodeId)>,
    },
    Sequence {
        layout: Layout,
        items: Vec<NodeId>,
    },
    /// `*name`: refers to the node that carries `&name`.
    Alias {
        target: NodeId,
    },
}

#[derive(Debug)]
pub struct Node<'a> {
    pub kind: NodeKind<'a>,
    /// Source bytes of the node's content. For block collections this runs from the first
    /// child to the end of the last child; for flow collections it includes the brackets.
    /// Anchors and tags are not part of it.
    pub span: Range<usize>,
    /// For a mapping value: the node id of its key (`u32::MAX` otherwise). Kept compact:
    /// a 13 MB kubeconfig has ~200k nodes.
    key_of: u32,
}

impl Node<'_> {
    /// The key node this node is the value of, if it is a mapping value.
    pub fn key(&self) -> Option<NodeId> {
        (self.key_of != u32::MAX).then_some(self.key_of as NodeId)
    }
}

/// A parsed single-document YAML text.
#[derive(Debug)]
pub struct Document<'a> {
    pub src: &'a str,
    pub nodes: Vec<Node<'a>>,
    /// The top node; `None` for a document with no content (empty or only comments).
    pub root: Option<NodeId>,
    pub lines: LineIndex,
    /// The line break the file uses: `"\r\n"` when its first line break is CRLF, else `"\n"`.
    pub newline: &'static str,
    /// `&name` written on a node, and the span of that token (few nodes have one, so they
    /// live here rather than in every node).
    pub anchors: HashMap<NodeId, (Cow<'a, str>, Range<usize>)>,
}

enum Open {
    Mapping {
        id: NodeId,
        pending_key: Option<NodeId>,
    },
    Sequence {
        id: NodeId,
    },
}

/// Limits that keep hostile input cheap. Nesting limits come from the parser itself.
pub const MAX_NODES: usize = 5_000_000;

impl<'a> Document<'a> {
    /// Parse `src` (which must not start with a BOM-less NUL byte etc.; see [`super::check_text`]).
    pub fn parse(src: &'a str) -> Result<Document<'a>, YamlError> {
        let lines = LineIndex::new(src);
        let newline = detect_newline(src);
        let mut options = Options::default();
        options.emit_anchor_events = true;
        options.emit_comments = false;
        let parser = Parser::new_from_str_with_options(src, options);

        // Size the node list up front (every `key: value` is two nodes): growing it by
        // doubling would briefly hold two copies of a 10 MB array on a big kubeconfig.
        let estimate = memchr::memchr_iter(b':', src.as_bytes()).count() * 2
            + memchr::memchr_iter(b'-', src.as_bytes()).count() / 2
            + 16;
        let mut nodes: Vec<Node<'a>> = Vec::with_capacity(estimate.min(MAX_NODES));
        let mut stack: Vec<Open> = Vec::new();
        let mut root: Option<NodeId> = None;
        // anchor id (parser's) -> node id, and node id -> anchor name
        let mut anchor_ids: HashMap<usize, NodeId> = HashMap::new();
        let mut anchors: HashMap<NodeId, (Cow<'a, str>, Range<usize>)> = HashMap::new();
        let mut documents = 0usize;

        let err_at = |lines: &LineIndex, byte: usize, message: String| YamlError {
            position: lines.position(byte),
            message,
        };

        for item in parser {
            let (event, span) = match item {
                Ok(pair) => pair,
                Err(e) => {
                    let m = e.marker();
                    let byte = m.byte_offset().unwrap_or(0).min(src.len());
                    let mut position = lines.position(byte);
                    // Trust the parser's own line number where it has one.
                    position.line = m.line().max(1);
                    return Err(YamlError {
                        position,
                        message: e.info().to_string(),
                    });
                }
            };
            let range = span.byte_range().unwrap_or(0..0);
            // Which node does a new node attach to?
            let new_node = |kind: NodeKind<'a>,
                            range: Range<usize>,
                            nodes: &mut Vec<Node<'a>>,
                            stack: &mut Vec<Open>|
             -> Result<NodeId, YamlError> {
                if nodes.len() >= MAX_NODES {
                    return Err(err_at(
                        &lines,
                        range.start,
                        format!("more than {MAX_NODES} YAML nodes; refusing to process"),
                    ));
                }
                let id = nodes.len();
                let mut key_of = u32::MAX;
                match stack.last_mut() {
                    None => {}
                    Some(Open::Sequence { id: parent }) => {
                        if let NodeKind::Sequence { items, .. } = &mut nodes[*parent].kind {
                            items.push(id);
                        }
                    }
                    Some(Open::Mapping {
                        id: parent,
                        pending_key,
                    }) => match pending_key.take() {
                        None => *pending_key = Some(id),
                        Some(key) => {
                            if let NodeKind::Mapping { entries, .. } = &mut nodes[*parent].kind {
                                entries.push((key, id));
                            }
                            key_of = key as u32;
                        }
                    },
                }
                nodes.push(Node {
                    kind,
                    span: range,
                    key_of,
                });
                Ok(id)
            };

            match event {
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
                Event::DocumentStart(..) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(err_at(
                            &lines,
                            range.start,
                            "more than one YAML document in the file; a kubeconfig is a single document"
                                .into(),
                        ));
                    }
                }
                Event::Scalar(value, style, anchor_id, _tag) => {
                    // YAML's null: nothing at all (`key:`), or a plain `null` / `~`, which
                    // client-go reads as unset too.
                    let empty = style == ScalarStyle::Plain && range.is_empty();
                    let null = empty
                        || (style == ScalarStyle::Plain
                            && matches!(value.as_ref(), "null" | "Null" | "NULL" | "~"));
                    // A block scalar's span runs up to the next token; end it after its last
                    // line break instead, so it does not own the next line's indentation.
                    let mut range = range;
                    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                        let bytes = src.as_bytes();
                        while range.end > range.start && bytes[range.end - 1] == b' ' {
                            range.end -= 1;
                        }
                    }
                    // The parser reports an empty value as "~"; keep the source's own text.
                    let value = if empty { Cow::Borrowed("") } else { value };
                    let id = new_node(
                        NodeKind::Scalar {
                            value,
                            style: style.into(),
                            null,
                        },
                        range,
                        &mut nodes,
                        &mut stack,
                    )?;
                    if anchor_id != 0 {
                        anchor_ids.insert(anchor_id, id);
                    }
                    if stack.is_empty() {
                        root = Some(id);
                    }
                }
                Event::Anchor(anchor_id, name) => {
                    if let Some(&node) = anchor_ids.get(&anchor_id) {
                        anchors.insert(node, (name, range));
                    }
                }
                Event::Alias(anchor_id) => {
                    let Some(&target) = anchor_ids.get(&anchor_id) else {
                        return Err(err_at(
                            &lines,
                            range.start,
                            "alias of an unknown anchor".into(),
                        ));
                    };
                    let id = new_node(NodeKind::Alias { target }, range, &mut nodes, &mut stack)?;
                    if stack.is_empty() {
                        root = Some(id);
                    }
                }
                Event::UnresolvedAlias(name) => {
                    return Err(err_at(
                        &lines,
                        range.start,
                        format!("alias *{name} refers to no anchor"),
                    ));
                }
                Event::SequenceStart(style, anchor_id, _)
                | Event::MappingStart(style, anchor_id, _) => {
                    let layout = match style {
                        StructureStyle::Block => Layout::Block,
                        StructureStyle::Flow => Layout::Flow,
                    };
                    let is_map = matches!(event, Event::MappingStart(..));
                    let kind = if is_map {
                        NodeKind::Mapping {
                            layout,
                            entries: Vec::new(),
                        }
                    } else {
                        NodeKind::Sequence {
                            layout,
                            items: Vec::new(),
                        }
                    };
                    let id = new_node(kind, range, &mut nodes, &mut stack)?;
                    if anchor_id != 0 {
                        anchor_ids.insert(anchor_id, id);
                    }
                    if stack.is_empty() {
                        root = Some(id);
                    }
                    stack.push(if is_map {
                        Open::Mapping {
                            id,
                            pending_key: None,
                        }
                    } else {
                        Open::Sequence { id }
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(open) = stack.pop() else {
                        return Err(err_at(
                            &lines,
                            range.start,
                            "unbalanced collection end".into(),
                        ));
                    };
                    let id = match open {
                        Open::Mapping { id, .. } | Open::Sequence { id } => id,
                    };
                    let end = match &nodes[id].kind {
                        NodeKind::Mapping {
                            layout: Layout::Flow,
                            ..
                        }
                        | NodeKind::Sequence {
                            layout: Layout::Flow,
                            ..
                        } => range.end,
                        NodeKind::Mapping { entries, .. } => entries
                            .last()
                            .map(|&(_, v)| nodes[v].span.end)
                            .unwrap_or(nodes[id].span.start),
                        NodeKind::Sequence { items, .. } => items
                            .last()
                            .map(|&v| nodes[v].span.end)
                            .unwrap_or(nodes[id].span.start),
                        _ => unreachable!(),
                    };
                    // A block collection's span ends where its last child ends; an empty null
                    // value sits at a position that may precede its key's end, so take the max.
                    let start = nodes[id].span.start;
                    nodes[id].span = start..end.max(start);
                    if let (NodeKind::Mapping { .. }, Some(last)) =
                        (&nodes[id].kind, last_entry_key_end(&nodes, id))
                    {
                        if last > nodes[id].span.end {
                            nodes[id].span.end = last;
                        }
                    }
                }
                // Comments (disabled above) and any event kinds a newer parser adds carry no
                // data we need.
                _ => {}
            }
        }
        if let Some(root) = root {
            check_duplicate_keys(&nodes, &lines)?;
            check_alias_expansion(&nodes, root, &lines)?;
        }
        // The estimate above is generous; give the rest back (shrinking does not copy).
        nodes.shrink_to_fit();
        Ok(Document {
            src,
            nodes,
            root,
            lines,
            newline,
            anchors,
        })
    }

    /// The anchor name written on a node (`&name`), if any.
    pub fn anchor(&self, id: NodeId) -> Option<&str> {
        self.anchors.get(&id).map(|(name, _)| name.as_ref())
    }

    pub fn node(&self, id: NodeId) -> &Node<'a> {
        &self.nodes[id]
    }

    /// Follow aliases to the node that holds the content.
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        // An alias always points at an earlier, complete node, so this terminates.
        while let NodeKind::Alias { target } = self.nodes[id].kind {
            id = target;
        }
        id
    }

    /// The decoded text of a scalar (after resolving aliases); `None` for collections and null.
    pub fn scalar(&self, id: NodeId) -> Option<&str> {
        match &self.nodes[self.resolve(id)].kind {
            NodeKind::Scalar {
                value, null: false, ..
            } => Some(value),
            _ => None,
        }
    }

    /// Entries of a mapping (after resolving aliases), or `None` if the node is no mapping.
    pub fn entries(&self, id: NodeId) -> Option<&[(NodeId, NodeId)]> {
        match &self.nodes[self.resolve(id)].kind {
            NodeKind::Mapping { entries, .. } => Some(entries),
            _ => None,
        }
    }

    /// Items of a sequence (after resolving aliases), or `None` if the node is no sequence.
    pub fn items(&self, id: NodeId) -> Option<&[NodeId]> {
        match &self.nodes[self.resolve(id)].kind {
            NodeKind::Sequence { items, .. } => Some(items),
            _ => None,
        }
    }

    /// The value under `key` in mapping `map` (the first one; duplicate keys are rejected at
    /// parse time). Returns the value's node id (unresolved, so callers can see aliases).
    ///
    /// YAML merge keys are honoured as go-yaml (and so kubectl) reads them: keys written in
    /// the mapping itself win, then those of `<<: *a` or `<<: [*a, *b]` in order.
    pub fn get(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.get_depth(map, key, 0)
    }

    fn get_depth(&self, map: NodeId, key: &str, depth: usize) -> Option<NodeId> {
        let entries = self.entries(map)?;
        if let Some(&(_, v)) = entries.iter().find(|&&(k, _)| self.scalar(k) == Some(key)) {
            return Some(v);
        }
        if depth > 32 {
            return None;
        }
        let &(_, merged) = entries.iter().find(|&&(k, _)| {
            self.scalar(k) == Some("<<")
                && matches!(
                    &self.nodes[k].kind,
                    NodeKind::Scalar {
                        style: Style::Plain,
                        ..
                    }
                )
        })?;
        match self.items(merged) {
            Some(sources) => sources
                .iter()
                .find_map(|&s| self.get_depth(s, key, depth + 1)),
            None => self.get_depth(merged, key, depth + 1),
        }
    }

    /// The key node of the entry `key` in mapping `map`.
    pub fn get_key(&self, map: NodeId, key: &str) -> Option<NodeId> {
        self.entries(map)?
            .iter()
            .find(|&&(k, _)| self.scalar(k) == Some(key))
            .map(|&(k, _)| k)
    }

    /// 1-based line and character column of a byte offset.
    pub fn position(&self, byte: usize) -> Position {
        self.lines.position_in(self.src, byte)
    }

    /// Short name of what a node is, for messages ("a mapping", "a string", ...).
    pub fn describe(&self, id: NodeId) -> &'static str {
        match &self.nodes[self.resolve(id)].kind {
            NodeKind::Scalar { null: true, .. } => "empty (null)",
            NodeKind::Scalar { .. } => "a scalar",
            NodeKind::Mapping { .. } => "a mapping",
            NodeKind::Sequence { .. } => "a list",
            NodeKind::Alias { .. } => "an alias",
        }
    }
}

fn last_entry_key_end(nodes: &[Node<'_>], id: NodeId) -> Option<usize> {
    match &nodes[id].kind {
        NodeKind::Mapping { entries, .. } => entries.last().map(|&(k, _)| nodes[k].span.end),
        _ => None,
    }
}

/// Two equal scalar keys in one mapping make the document ambiguous (parsers disagree on which
/// wins), so kubefix refuses to edit it.
fn check_duplicate_keys(nodes: &[Node<'_>], lines: &LineIndex) -> Result<(), YamlError> {
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for node in nodes {
        if let NodeKind::Mapping { entries, .. } = &node.kind {
            if entries.len() < 2 {
                continue;
            }
            let key_of = |k: NodeId| match &nodes[k].kind {
                NodeKind::Scalar { value, .. } => Some(value.as_ref()),
                _ => None,
            };
            // Kubeconfig mappings are small: compare pairwise there, hash only big ones.
            let dup = if entries.len() <= 12 {
                entries.iter().enumerate().find_map(|(i, &(k, _))| {
                    let key = key_of(k)?;
                    entries[..i]
                        .iter()
                        .find(|&&(f, _)| key_of(f) == Some(key))
                        .map(|&(f, _)| (f, k, key))
                })
            } else {
                seen.clear();
                entries.iter().find_map(|&(k, _)| {
                    let key = key_of(k)?;
                    seen.insert(key, k).map(|f| (f, k, key))
                })
            };
            if let Some((first, k, key)) = dup {
                let p = lines.position(nodes[first].span.start);
                return Err(YamlError {
                    position: lines.position(nodes[k].span.start),
                    message: format!(
                        "duplicate key {key:?} (first defined at line {}); the file is ambiguous",
                        p.line
                    ),
                });
            }
        }
    }
    Ok(())
}

/// How many nodes aliases may add when the document is read the way kubectl reads it (every
/// alias and merge key expanded). Plain documents add none; the "billion laughs" adds
/// hundreds of millions. kubectl refuses such a file ("excessive aliasing") too.
pub const MAX_ALIAS_EXPANSION: u64 = 1_000_000;

/// Refuse alias bombs and aliases that contain themselves, before anything walks the tree.
///
/// Sizes are computed bottom-up in one iterative pass (no recursion, so any nesting depth is
/// safe): a scalar is 1, a collection 1 plus its children, an alias the size of its target.
/// An alias is resolved after its target in document order, so a target still open at that
/// point is an ancestor: a recursive alias. This bound also bounds every merge-key lookup,
/// which visits at most the expanded size of the mapping it starts from.
fn check_alias_expansion(
    nodes: &[Node<'_>],
    root: NodeId,
    lines: &LineIndex,
) -> Result<(), YamlError> {
    let limit = nodes.len() as u64 + MAX_ALIAS_EXPANSION;
    let mut size = vec![0u64; nodes.len()];
    let mut stack = vec![(root, false)];
    while let Some((id, children_done)) = stack.pop() {
        let s = match &nodes[id].kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Alias { target } => {
                if size[*target] == 0 {
                    return Err(YamlError {
                        position: lines.position(nodes[id].span.start),
                        message: "this alias refers to a node that contains it (a recursive alias)"
                            .into(),
                    });
                }
                size[*target]
            }
            NodeKind::Mapping { entries, .. } if !children_done => {
                stack.push((id, true));
                for &(k, v) in entries.iter().rev() {
                    stack.push((v, false));
                    stack.push((k, false));
                }
                continue;
            }
            NodeKind::Sequence { items, .. } if !children_done => {
                stack.push((id, true));
                stack.extend(items.iter().rev().map(|&i| (i, false)));
                continue;
            }
            NodeKind::Mapping { entries, .. } => entries.iter().fold(1u64, |acc, &(k, v)| {
                acc.saturating_add(size[k]).saturating_add(size[v])
            }),
            NodeKind::Sequence { items, .. } => items
                .iter()
                .fold(1u64, |acc, &i| acc.saturating_add(size[i])),
        };
        if s > limit {
            return Err(YamlError {
                position: lines.position(nodes[id].span.start),
                message: format!(
                    "aliases here expand to over {MAX_ALIAS_EXPANSION} nodes (an alias bomb, \"billion laughs\"); refusing to read it (kubectl refuses it too: excessive aliasing)"
                ),
            });
        }
        size[id] = s;
    }
    Ok(())
}

fn detect_newline(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}
