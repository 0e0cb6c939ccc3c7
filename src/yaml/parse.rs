//! The parse: granit-parser's event stream turned into a [`Document`], then the checks that
//! refuse what kubectl refuses (alias bombs, excessive aliasing).
//!
//! What go-yaml v2 (and so kubectl) reads, this reads the same way: the first document of a
//! stream only (the rest is recorded, never parsed), duplicate keys (recorded; the last one
//! wins, see [`Document::get`]), and explicit tags (recorded per scalar, see [`TagClass`]).
//!
//! Each event is handled by one [`Builder`] method. A new node is pushed onto the node list
//! and attached to the innermost open collection; a collection's children are moved into the
//! shared arena when it closes (see [`super::tree`] for the layout).

use std::borrow::Cow;
use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Options, Parser, ScalarStyle, StructureStyle, Tag as YamlTag};

use super::tree::{Node, Tag, TagClass, FLOW, MERGE, NULL, OWNED, TAGGED};
use super::{Document, Layout, LineIndex, NodeId, NodeKind, Style, YamlError};

enum Open {
    Mapping {
        id: NodeId,
        /// Where this mapping's entries start on the pending-pairs stack.
        mark: usize,
        pending_key: Option<NodeId>,
    },
    Sequence {
        id: NodeId,
        mark: usize,
    },
}

/// Limits that keep hostile input cheap. Nesting limits come from the parser itself.
pub const MAX_NODES: usize = 5_000_000;

/// Where a new node goes: the node list, and the open collection it is a child of.
struct Builder<'a> {
    src: &'a str,
    lines: LineIndex,
    nodes: Vec<Node>,
    pairs: Vec<(NodeId, NodeId)>,
    items: Vec<NodeId>,
    owned: Vec<String>,
    stack: Vec<Open>,
    /// Children of the collections still open (moved to `pairs` / `items` when they close).
    open_pairs: Vec<(NodeId, NodeId)>,
    open_items: Vec<NodeId>,
    root: Option<NodeId>,
    has_merge_keys: bool,
    has_aliases: bool,
    /// Anchor id (the parser's) -> node id.
    anchor_ids: HashMap<usize, NodeId>,
    /// Node id -> anchor name and the span of `&name`.
    anchors: HashMap<NodeId, (Cow<'a, str>, Range<usize>)>,
    documents: usize,
    /// Explicit tags on scalars (few nodes have one).
    tags: HashMap<NodeId, TagClass>,
    /// Where a second document starts (`---`): kubectl reads only the first.
    rest: Option<usize>,
}

fn err_at(lines: &LineIndex, byte: usize, message: String) -> YamlError {
    YamlError {
        position: lines.position(byte),
        message,
    }
}

fn blank(tag: Tag, range: &Range<usize>) -> Node {
    Node {
        start: range.start as u32,
        end: range.end as u32,
        key_of: u32::MAX,
        a: 0,
        b: 0,
        tag,
        style: Style::Plain,
        flags: 0,
    }
}

impl<'a> Builder<'a> {
    fn err_at(&self, byte: usize, message: String) -> YamlError {
        err_at(&self.lines, byte, message)
    }

    /// [`Builder::push`], or the error for a document over [`MAX_NODES`].
    fn push_at(&mut self, node: Node, at: usize) -> Result<NodeId, YamlError> {
        self.push(node).ok_or_else(|| {
            self.err_at(
                at,
                format!("more than {MAX_NODES} YAML nodes; refusing to process"),
            )
        })
    }

    /// One event of the stream, handed to its handler.
    fn event(&mut self, event: Event<'a>, range: Range<usize>) -> Result<(), YamlError> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Ok(()),
            Event::DocumentStart(..) => self.document_start(&range),
            Event::Scalar(value, style, anchor_id, tag) => {
                self.scalar(value, style, anchor_id, tag, range)
            }
            Event::Anchor(anchor_id, name) => {
                self.anchor(anchor_id, name, range);
                Ok(())
            }
            Event::Alias(anchor_id) => self.alias(anchor_id, &range),
            Event::UnresolvedAlias(name) => {
                Err(self.err_at(range.start, format!("alias *{name} refers to no anchor")))
            }
            Event::SequenceStart(style, anchor_id, _) => {
                self.collection_start(Tag::Sequence, style, anchor_id, &range)
            }
            Event::MappingStart(style, anchor_id, _) => {
                self.collection_start(Tag::Mapping, style, anchor_id, &range)
            }
            Event::SequenceEnd | Event::MappingEnd => self
                .close(range.end)
                .ok_or_else(|| self.err_at(range.start, "unbalanced collection end".into())),
            // Comments (disabled in `parse`) and any event kinds a newer parser adds carry no
            // data we need.
            _ => Ok(()),
        }
    }

    /// A second document ends the parse: go-yaml v2's `Unmarshal` (and so kubectl) decodes
    /// the first document of a stream and never looks at the rest.
    fn document_start(&mut self, range: &Range<usize>) -> Result<(), YamlError> {
        self.documents += 1;
        if self.documents > 1 {
            self.rest = Some(range.start);
        }
        Ok(())
    }

    fn scalar(
        &mut self,
        value: Cow<'a, str>,
        style: ScalarStyle,
        anchor_id: usize,
        tag: Option<Cow<'a, YamlTag>>,
        range: Range<usize>,
    ) -> Result<(), YamlError> {
        // YAML's null: nothing at all (`key:`), or a plain `null` / `~`, which
        // client-go reads as unset too.
        let plain = style == ScalarStyle::Plain;
        let empty = plain && range.is_empty();
        let class = match &tag {
            None => TagClass::None,
            Some(t) => TagClass::of(t.suffix_in_namespace("tag:yaml.org,2002:").as_deref()),
        };
        let null_word = empty || matches!(value.as_ref(), "" | "null" | "Null" | "NULL" | "~");
        // An explicit tag decides: `!!str ~` is the string "~", `!!null ""` is null.
        let null = match class {
            TagClass::None => plain && null_word,
            TagClass::Null => null_word,
            _ => false,
        };
        let is_key = matches!(
            self.stack.last(),
            Some(Open::Mapping {
                pending_key: None,
                ..
            })
        );
        let merge = is_key
            && value == "<<"
            && match &tag {
                None => plain,
                Some(t) => t.suffix_in_namespace("tag:yaml.org,2002:").as_deref() == Some("merge"),
            };
        self.has_merge_keys |= merge;
        let mut node = blank(Tag::Scalar, &range);
        // A block scalar's span runs up to the next token; end it after its last
        // line break instead, so it does not own the next line's indentation.
        if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
            let bytes = self.src.as_bytes();
            let mut end = range.end;
            while end > range.start && bytes[end - 1] == b' ' {
                end -= 1;
            }
            node.end = end as u32;
        }
        // The parser reports an empty value as "~"; keep the source's own text.
        let (a, len, owned) = if empty {
            (range.start as u32, 0, 0)
        } else if class == TagClass::Binary {
            // go-yaml v2 decodes `!!binary` (base64) and hands on the bytes as a string.
            let decoded = decode_binary(&value).ok_or_else(|| {
                self.err_at(
                    range.start,
                    "kubectl refuses the file: yaml: !!binary value contains invalid base64 data"
                        .into(),
                )
            })?;
            self.value(Cow::Owned(decoded))
        } else {
            self.value(value)
        };
        node.a = a;
        node.b = len;
        node.style = style.into();
        let tagged = if tag.is_some() { TAGGED } else { 0 };
        node.flags = owned | if null { NULL } else { 0 } | if merge { MERGE } else { 0 } | tagged;
        let id = self.push_at(node, range.start)?;
        if class != TagClass::None {
            self.tags.insert(id, class);
        }
        if anchor_id != 0 {
            self.anchor_ids.insert(anchor_id, id);
        }
        Ok(())
    }

    fn anchor(&mut self, anchor_id: usize, name: Cow<'a, str>, range: Range<usize>) {
        if let Some(&node) = self.anchor_ids.get(&anchor_id) {
            self.anchors.insert(node, (name, range));
        }
    }

    fn alias(&mut self, anchor_id: usize, range: &Range<usize>) -> Result<(), YamlError> {
        let Some(&target) = self.anchor_ids.get(&anchor_id) else {
            return Err(self.err_at(range.start, "alias of an unknown anchor".into()));
        };
        let mut node = blank(Tag::Alias, range);
        node.a = target;
        self.has_aliases = true;
        self.push_at(node, range.start)?;
        Ok(())
    }

    fn collection_start(
        &mut self,
        tag: Tag,
        style: StructureStyle,
        anchor_id: usize,
        range: &Range<usize>,
    ) -> Result<(), YamlError> {
        let mut node = blank(tag, range);
        if style == StructureStyle::Flow {
            node.flags = FLOW;
        }
        let id = self.push_at(node, range.start)?;
        if anchor_id != 0 {
            self.anchor_ids.insert(anchor_id, id);
        }
        let open = if tag == Tag::Mapping {
            Open::Mapping {
                id,
                mark: self.open_pairs.len(),
                pending_key: None,
            }
        } else {
            Open::Sequence {
                id,
                mark: self.open_items.len(),
            }
        };
        self.stack.push(open);
        Ok(())
    }
    fn push(&mut self, mut node: Node) -> Option<NodeId> {
        if self.nodes.len() >= MAX_NODES {
            return None;
        }
        let id = self.nodes.len() as NodeId;
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Open::Sequence { .. }) => self.open_items.push(id),
            Some(Open::Mapping { pending_key, .. }) => match pending_key.take() {
                None => *pending_key = Some(id),
                Some(key) => {
                    self.open_pairs.push((key, id));
                    node.key_of = key;
                }
            },
        }
        self.nodes.push(node);
        Some(id)
    }

    /// Where a scalar's decoded value lives: a range of the source when the parser borrowed
    /// it from there, else a new owned string. granit-parser borrows only from the text it
    /// was given; the bounds check makes anything else an owned copy rather than a bad range.
    fn value(&mut self, value: Cow<'a, str>) -> (u32, u32, u8) {
        if let Cow::Borrowed(s) = value {
            let base = self.src.as_ptr() as usize;
            let at = (s.as_ptr() as usize).wrapping_sub(base);
            if at <= self.src.len() && s.len() <= self.src.len() - at {
                return (at as u32, s.len() as u32, 0);
            }
        }
        self.owned.push(value.into_owned());
        ((self.owned.len() - 1) as u32, 0, OWNED)
    }

    /// Close the innermost collection: move its children into the arena and end its span.
    fn close(&mut self, end_of_flow: usize) -> Option<()> {
        let open = self.stack.pop()?;
        let (id, children_end, last_key_end) = match open {
            Open::Mapping { id, mark, .. } => {
                let children = &self.open_pairs[mark..];
                let ends = children
                    .last()
                    .map(|&(k, v)| (self.nodes[v as usize].end, self.nodes[k as usize].end));
                let at = self.pairs.len() as u32;
                self.pairs.extend_from_slice(children);
                self.open_pairs.truncate(mark);
                let node = &mut self.nodes[id as usize];
                node.a = at;
                node.b = (self.pairs.len() as u32) - at;
                (id, ends.map(|e| e.0), ends.map(|e| e.1))
            }
            Open::Sequence { id, mark } => {
                let children = &self.open_items[mark..];
                let end = children.last().map(|&v| self.nodes[v as usize].end);
                let at = self.items.len() as u32;
                self.items.extend_from_slice(children);
                self.open_items.truncate(mark);
                let node = &mut self.nodes[id as usize];
                node.a = at;
                node.b = (self.items.len() as u32) - at;
                (id, end, None)
            }
        };
        let node = &mut self.nodes[id as usize];
        // A block collection's span ends where its last child ends; an empty null value sits
        // at a position that may precede its key's end, so take the max.
        node.end = match node.layout() {
            Layout::Flow => end_of_flow as u32,
            Layout::Block => children_end
                .unwrap_or(node.start)
                .max(last_key_end.unwrap_or(0))
                .max(node.start),
        };
        Some(())
    }
}

impl<'a> Document<'a> {
    /// Parse `src` (text that passed [`super::check_text`]).
    pub fn parse(src: &'a str) -> Result<Document<'a>, YamlError> {
        let lines = LineIndex::new(src);
        if src.len() > u32::MAX as usize {
            return Err(err_at(&lines, 0, "the text is over 4 GiB".into()));
        }
        let newline = detect_newline(src);
        let mut options = Options::default();
        options.emit_anchor_events = true;
        options.emit_comments = false;
        let parser = Parser::new_from_str_with_options(src, options);

        // Size the node list up front (every `key: value` is two nodes): growing it by
        // doubling would briefly hold two copies of a big array on a big kubeconfig.
        let colons = memchr::memchr_iter(b':', src.as_bytes()).count();
        let estimate = colons * 2 + memchr::memchr_iter(b'-', src.as_bytes()).count() / 2 + 16;
        let mut b = Builder {
            src,
            lines,
            nodes: Vec::with_capacity(estimate.min(MAX_NODES)),
            pairs: Vec::with_capacity((colons + 16).min(MAX_NODES)),
            items: Vec::new(),
            owned: Vec::new(),
            stack: Vec::new(),
            open_pairs: Vec::new(),
            open_items: Vec::new(),
            root: None,
            has_merge_keys: false,
            has_aliases: false,
            anchor_ids: HashMap::new(),
            anchors: HashMap::new(),
            documents: 0,
            tags: HashMap::new(),
            rest: None,
        };
        for item in parser {
            if b.rest.is_some() {
                break;
            }
            let (event, span) = match item {
                Ok(pair) => pair,
                Err(e) => {
                    let m = e.marker();
                    let byte = m.byte_offset().unwrap_or(0).min(src.len());
                    let mut position = b.lines.position(byte);
                    // Trust the parser's own line number where it has one.
                    position.line = m.line().max(1);
                    return Err(YamlError {
                        position,
                        message: e.info().to_string(),
                    });
                }
            };
            b.event(event, span.byte_range().unwrap_or(0..0))?;
        }
        let Builder {
            lines,
            mut nodes,
            mut pairs,
            mut items,
            owned,
            root,
            has_merge_keys,
            has_aliases,
            anchors,
            tags,
            rest,
            ..
        } = b;
        // The estimates above are generous; give the rest back.
        nodes.shrink_to_fit();
        pairs.shrink_to_fit();
        items.shrink_to_fit();
        let mut doc = Document {
            src,
            nodes,
            pairs,
            items,
            owned,
            root,
            lines,
            newline,
            anchors,
            has_merge_keys,
            has_aliases,
            tags,
            rest,
            duplicates: Vec::new(),
        };
        if let Some(root) = root {
            doc.duplicates = doc.duplicate_keys();
            doc.check_alias_expansion(root)?;
            doc.check_alias_ratio(root)?;
        }
        Ok(doc)
    }
}

impl Document<'_> {
    /// Every key written again in its mapping, with the entry before it of the same key
    /// (`(earlier, later)` key nodes, in document order). go-yaml v2 (and so kubectl) reads
    /// such a mapping without complaint, the last entry winning; merge keys (`<<`) are not
    /// keys of the mapping but instructions, applied in order, and are not listed.
    fn duplicate_keys(&self) -> Vec<(NodeId, NodeId)> {
        let mut out = Vec::new();
        let mut seen: HashMap<&str, NodeId> = HashMap::new();
        for node in &self.nodes {
            if node.tag != Tag::Mapping || node.b < 2 {
                continue;
            }
            let entries = &self.pairs[node.a as usize..(node.a + node.b) as usize];
            let key = |k: NodeId| {
                let n = &self.nodes[k as usize];
                (n.flags & (MERGE | NULL) == 0)
                    .then(|| self.key_text(k))
                    .flatten()
            };
            // Kubeconfig mappings are small: compare pairwise there, hash only big ones.
            if entries.len() <= 12 {
                for (i, &(k, _)) in entries.iter().enumerate() {
                    let Some(text) = key(k) else { continue };
                    if let Some(&(f, _)) = entries[..i]
                        .iter()
                        .rev()
                        .find(|&&(f, _)| key(f) == Some(text))
                    {
                        out.push((f, k));
                    }
                }
            } else {
                seen.clear();
                for &(k, _) in entries {
                    let Some(text) = key(k) else { continue };
                    if let Some(f) = seen.insert(text, k) {
                        out.push((f, k));
                    }
                }
            }
        }
        out.sort_unstable_by_key(|&(_, k)| self.nodes[k as usize].start);
        out
    }

    /// Refuse alias bombs and aliases that contain themselves, before anything walks the tree.
    ///
    /// Sizes are computed bottom-up in one iterative pass (no recursion, so any nesting depth
    /// is safe): a scalar is 1, a collection 1 plus its children, an alias the size of its
    /// target. An alias is resolved after its target in document order, so a target still
    /// open at that point is an ancestor: a recursive alias. This bound also bounds every
    /// merge-key lookup, which visits at most the expanded size of the mapping it starts from.
    fn check_alias_expansion(&self, root: NodeId) -> Result<(), YamlError> {
        if !self.has_aliases {
            // Without aliases every node is counted once: nothing can expand.
            return Ok(());
        }
        let limit = self.nodes.len() as u64 + MAX_ALIAS_EXPANSION;
        // Nodes are not all: one 2 MB scalar aliased 2,000 times is few nodes but 4 GB of
        // names once entries are read. Scalar bytes (their source spans) are bounded too.
        let byte_limit = self.src.len() as u64 + MAX_ALIAS_EXPANDED_BYTES;
        let mut size = vec![0u64; self.nodes.len()];
        let mut bytes = vec![0u64; self.nodes.len()];
        for id in self.post_order(root) {
            let (s, b) = match self.kind(id) {
                NodeKind::Scalar { .. } => (1, self.node(id).span().len() as u64),
                NodeKind::Alias { target } => {
                    if size[target as usize] == 0 {
                        return Err(YamlError {
                            position: self.lines.position(self.node(id).start as usize),
                            message:
                                "this alias refers to a node that contains it (a recursive alias)"
                                    .into(),
                        });
                    }
                    (size[target as usize], bytes[target as usize])
                }
                NodeKind::Mapping { entries, .. } => {
                    entries.iter().fold((1u64, 0u64), |(n, b), &(k, v)| {
                        (
                            n.saturating_add(size[k as usize])
                                .saturating_add(size[v as usize]),
                            b.saturating_add(bytes[k as usize])
                                .saturating_add(bytes[v as usize]),
                        )
                    })
                }
                NodeKind::Sequence { items, .. } => {
                    items.iter().fold((1u64, 0u64), |(n, b), &i| {
                        (
                            n.saturating_add(size[i as usize]),
                            b.saturating_add(bytes[i as usize]),
                        )
                    })
                }
            };
            if b > byte_limit {
                return Err(YamlError {
                    position: self.lines.position(self.node(id).start as usize),
                    message: format!(
                        "aliases here expand to over {} MiB of text (an alias bomb of long values); refusing to read it",
                        MAX_ALIAS_EXPANDED_BYTES >> 20
                    ),
                });
            }
            if s > limit {
                return Err(YamlError {
                    position: self.lines.position(self.node(id).start as usize),
                    message: format!(
                        "aliases here expand to over {MAX_ALIAS_EXPANSION} nodes (an alias bomb, \"billion laughs\"); refusing to read it (kubectl refuses it too: excessive aliasing)"
                    ),
                });
            }
            size[id as usize] = s;
            bytes[id as usize] = b;
        }
        Ok(())
    }

    /// Refuse what go-yaml v2 (and so kubectl) refuses as "excessive aliasing".
    ///
    /// go-yaml v2 (`decode.go`) counts every node it decodes (the document node included),
    /// and every node decoded inside an alias, and fails as soon as more than 100 aliased
    /// nodes make up more than [`allowed_alias_ratio`] of more than 1,000 decoded ones. The
    /// check runs after every node, so the order of decoding matters: it is replayed here
    /// (keys before values, a merge key's value decoded in its place, a merge list from its
    /// last item to its first). [`Document::check_alias_expansion`] has already bounded the
    /// expanded size, so the replay ends.
    fn check_alias_ratio(&self, root: NodeId) -> Result<(), YamlError> {
        if !self.has_aliases {
            return Ok(());
        }
        const NONE: NodeId = NodeId::MAX;
        // (node, the outermost alias it is read through or NONE, decoded as a merge value)
        let mut stack = vec![(root, NONE, false)];
        let (mut decoded, mut aliased) = (1u64, 0u64); // the document node
        while let Some((id, via, merge)) = stack.pop() {
            let kind = self.kind(id);
            if merge {
                if let NodeKind::Sequence { items, .. } = kind {
                    // `<<: [*a, *b]`: the list itself is not decoded, its items are, last first.
                    stack.extend(items.iter().map(|&i| (i, via, true)));
                    continue;
                }
            }
            decoded += 1;
            if via != NONE {
                aliased += 1;
            }
            if aliased > 100
                && decoded > 1000
                && aliased as f64 / decoded as f64 > allowed_alias_ratio(decoded)
            {
                let at = if via != NONE { via } else { id };
                return Err(YamlError {
                    position: self.lines.position(self.node(at).start as usize),
                    message: format!(
                        "aliases make up too much of this document ({aliased} of the first {decoded} nodes kubectl decodes are read through an alias); kubectl refuses it: \"yaml: {EXCESSIVE_ALIASING}\""
                    ),
                });
            }
            match kind {
                NodeKind::Scalar { .. } => {}
                NodeKind::Alias { target } => {
                    stack.push((target, if via == NONE { id } else { via }, false))
                }
                NodeKind::Sequence { items, .. } => {
                    stack.extend(items.iter().rev().map(|&i| (i, via, false)))
                }
                NodeKind::Mapping { entries, .. } => {
                    for &(k, v) in entries.iter().rev() {
                        if self.is_merge_key(k) {
                            stack.push((v, via, true));
                        } else {
                            stack.push((v, via, false));
                            stack.push((k, via, false));
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// go-yaml v2's error for a document that is mostly aliases.
pub const EXCESSIVE_ALIASING: &str = "document contains excessive aliasing";

/// go-yaml v2's `allowedAliasRatio(decodeCount)`: 0.99 up to 400,000 decoded nodes, 0.10
/// from 4,000,000, linear in between.
fn allowed_alias_ratio(decoded: u64) -> f64 {
    const LOW: u64 = 400_000;
    const HIGH: u64 = 4_000_000;
    if decoded <= LOW {
        0.99
    } else if decoded >= HIGH {
        0.10
    } else {
        0.99 - 0.89 * ((decoded - LOW) as f64 / (HIGH - LOW) as f64)
    }
}

/// How many nodes aliases may add when the document is read the way kubectl reads it (every
/// alias and merge key expanded). Plain documents add none; the "billion laughs" adds
/// hundreds of millions. kubectl refuses such a file ("excessive aliasing") too.
pub const MAX_ALIAS_EXPANSION: u64 = 2_000_000;

/// How many bytes of scalar text aliases may add when expanded. A kubeconfig that reuses a
/// certificate through an alias a few hundred times adds a few MiB; 2,000 copies of a 2 MB
/// name add 4 GB, which kubefix would hold as entry names and findings.
pub const MAX_ALIAS_EXPANDED_BYTES: u64 = 256 << 20;

/// go-yaml v2's `!!binary`: Go's standard base64, which skips line breaks (`\r`, `\n`)
/// and nothing else; bytes that are not UTF-8 reach kubectl's JSON decoder as U+FFFD.
fn decode_binary(value: &str) -> Option<String> {
    use base64::Engine;
    let compact: String = value.chars().filter(|&c| c != '\r' && c != '\n').collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn detect_newline(src: &str) -> &'static str {
    match src.find('\n') {
        Some(i) if i > 0 && src.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Few nodes, much text: a 1 MiB scalar aliased 300 times expands to 300 MiB of names.
    #[test]
    fn alias_bomb_of_long_values_is_refused() {
        let long = "x".repeat(1 << 20);
        let mut text = format!("a: &n {long}\nb:\n");
        for _ in 0..300 {
            text.push_str("- *n\n");
        }
        let Err(e) = Document::parse(&text) else {
            panic!("an alias bomb of long values was read")
        };
        assert!(e.message.contains("MiB of text"), "{}", e.message);
        // The same anchor aliased a few times (a shared certificate) is fine.
        let mut ok = format!("a: &n {long}\nb:\n");
        for _ in 0..20 {
            ok.push_str("- *n\n");
        }
        assert!(Document::parse(&ok).is_ok());
    }

    /// `x: [&u {k0: v, …}, *u, *u, …]` with `m` keys and `k` aliases, after a mapping of `p`
    /// plain entries.
    fn aliased(m: usize, k: usize, p: usize) -> String {
        let inner: Vec<String> = (0..m).map(|i| format!("k{i}: v")).collect();
        let plain: Vec<String> = (0..p).map(|i| format!("p{i}: v")).collect();
        format!(
            "apiVersion: v1\nkind: Config\nx-plain: {{{}}}\nx: [&u {{{}}}, {}]\n",
            plain.join(", "),
            inner.join(", "),
            vec!["*u"; k].join(", ")
        )
    }

    /// go-yaml v2's aliasing limit, at the boundaries kubectl v1.32.4 showed (`kubectl config
    /// view` on each file: the second of each pair fails with "yaml: document contains
    /// excessive aliasing", the first is read): below 400,000 decoded nodes (ratio 0.99) and
    /// in the linear range above it.
    #[test]
    fn excessive_aliasing_is_refused_where_go_yaml_refuses_it() {
        for (m, last_read, p) in [
            (60, 589, 0),
            (50, 3923, 0),
            (10, 24709, 0),
            (30, 14993, 100_000),
        ] {
            let read = aliased(m, last_read, p);
            assert!(Document::parse(&read).is_ok(), "m={m} k={last_read} p={p}");
            let Err(e) = Document::parse(&aliased(m, last_read + 1, p)) else {
                panic!("m={m} k={} p={p} was read", last_read + 1)
            };
            assert!(e.message.contains(EXCESSIVE_ALIASING), "{}", e.message);
        }
    }

    #[test]
    fn allowed_alias_ratio_is_go_yamls() {
        assert_eq!(allowed_alias_ratio(1000), 0.99);
        assert_eq!(allowed_alias_ratio(400_000), 0.99);
        assert!((allowed_alias_ratio(2_200_000) - 0.545).abs() < 1e-9);
        assert_eq!(allowed_alias_ratio(4_000_000), 0.10);
        assert_eq!(allowed_alias_ratio(9_000_000), 0.10);
    }
}
