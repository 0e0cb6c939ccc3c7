//! Lossless YAML: a tree with exact byte spans, byte-range edits, and a single-pass splice.
//!
//! This module knows nothing about Kubernetes. It exists because a kubeconfig must be repaired
//! without touching anything the repair does not need to change: comments, key order, quoting,
//! indentation, blank lines, CRLF line endings, a byte-order mark, a missing final newline.
//! Re-serializing a parsed document (what kubectl does) loses all of that, so instead every
//! change is an [`Edit`] of a byte range of the original text, and a [`Patch`] applies all edits
//! of one file in one linear pass.

mod edit;
mod emit;
mod parse;
mod patch;
mod tree;
mod verify;

pub use edit::{
    alias_index, insert_entry, join_flow_removals, rehome_anchors, remove_entry, replace_entry,
    replace_scalar, Change, EditError,
};
pub use emit::{render_scalar, NewValue};
pub use patch::{splice, Edit, Patch, PatchError};
pub use tree::{Document, Layout, Node, NodeId, NodeKind, Style, TagClass};
pub use verify::{equivalent, occurrences, Intent, Occurrence, Step};

use std::fmt;

/// A 1-based line and column (column counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A YAML syntax error or a structure kubefix refuses to edit, with its position.
#[derive(Debug, Clone, thiserror::Error)]
#[error("line {}, column {}: {message}", position.line, position.column)]
pub struct YamlError {
    pub position: Position,
    pub message: String,
}

/// Byte offset -> line/column, built once per text in O(n).
#[derive(Debug, Clone)]
pub struct LineIndex {
    /// Byte offset of each line start (u32: inputs are far below 4 GiB; see the size limit).
    starts: Vec<u32>,
    src_len: usize,
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let mut starts = Vec::with_capacity(src.len() / 40 + 1);
        starts.push(0);
        starts.extend(memchr_newlines(src.as_bytes()).map(|i| (i + 1) as u32));
        LineIndex {
            starts,
            src_len: src.len(),
        }
    }

    /// Line (1-based) of a byte offset.
    pub fn line(&self, byte: usize) -> usize {
        match self.starts.binary_search(&(byte.min(self.src_len) as u32)) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }

    /// Byte offset where the 1-based `line` starts.
    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.saturating_sub(1).min(self.starts.len() - 1)] as usize
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// Position with a byte-based column; use [`Document::position`] when the text is at hand
    /// for a character-based column.
    pub fn position(&self, byte: usize) -> Position {
        let line = self.line(byte);
        Position {
            line,
            column: byte.min(self.src_len) - self.line_start(line) + 1,
        }
    }

    /// Position with the column counted in characters.
    pub fn position_in(&self, src: &str, byte: usize) -> Position {
        let byte = byte.min(src.len());
        let line = self.line(byte);
        let start = self.line_start(line);
        let column = src
            .get(start..byte)
            .map(|s| s.chars().count())
            .unwrap_or(byte - start)
            + 1;
        Position { line, column }
    }
}

fn memchr_newlines(bytes: &[u8]) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(b'\n', bytes)
}

/// Decode file bytes to text, rejecting what no YAML parser should be handed: invalid UTF-8
/// and NUL bytes. The BOM, if any, stays in the text (the parser skips it) so spans remain
/// offsets into the file's own bytes.
pub fn decode(bytes: &[u8]) -> Result<&str, YamlError> {
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(bytes, e))?;
    check_text(text)?;
    Ok(text)
}

/// [`decode`] for bytes the caller owns: the text keeps the same buffer.
pub fn decode_owned(bytes: Vec<u8>) -> Result<String, YamlError> {
    let text = String::from_utf8(bytes).map_err(|e| not_utf8(e.as_bytes(), e.utf8_error()))?;
    check_text(&text)?;
    Ok(text)
}

fn not_utf8(bytes: &[u8], e: std::str::Utf8Error) -> YamlError {
    let at = e.valid_up_to();
    // go-yaml reads in order: a NUL before the bad byte (UTF-16 without a BOM) is the error.
    if let Some(Err(nul)) = std::str::from_utf8(&bytes[..at]).ok().map(check_text) {
        return nul;
    }
    let idx = LineIndex::new(std::str::from_utf8(&bytes[..at]).unwrap_or(""));
    YamlError {
        position: idx.position(at),
        message: "the file is not valid UTF-8 text".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, le: bool) -> Vec<u8> {
        let mut out = if le {
            vec![0xFF, 0xFE]
        } else {
            vec![0xFE, 0xFF]
        };
        for u in text.encode_utf16() {
            out.extend(if le { u.to_le_bytes() } else { u.to_be_bytes() });
        }
        out
    }

    #[test]
    fn utf16_with_a_bom_decodes_and_encodes_back_to_the_same_bytes() {
        let text = "kind: Config # caf\u{e9} \u{1f600}\r\nclusters: []\n";
        for (le, enc) in [(true, Encoding::Utf16Le), (false, Encoding::Utf16Be)] {
            let bytes = utf16(text, le);
            let (decoded, e) = decode_file(bytes.clone()).unwrap();
            assert_eq!(e, enc);
            assert_eq!(decoded, format!("\u{feff}{text}"));
            assert_eq!(e.encode(&decoded).as_ref(), bytes.as_slice());
        }
        let (plain, e) = decode_file(b"kind: Config\n".to_vec()).unwrap();
        assert_eq!((plain.as_str(), e), ("kind: Config\n", Encoding::Utf8));
    }

    #[test]
    fn broken_utf16_is_refused_with_go_yamls_words() {
        let mut odd = utf16("kind: Config\n", true);
        odd.push(b'x');
        let e = decode_file(odd).unwrap_err();
        assert!(
            e.message.ends_with("yaml: incomplete UTF-16 character"),
            "{}",
            e.message
        );
        let mut lone = utf16("kind: x", true);
        lone.extend([0x00, 0xD8, b'\n', 0]);
        let e = decode_file(lone).unwrap_err();
        assert!(
            e.message.ends_with("yaml: expected low surrogate area"),
            "{}",
            e.message
        );
        // Without a BOM, UTF-16 has NUL bytes: refused as kubectl refuses it.
        let e = decode_file(
            "kind: Config\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        )
        .unwrap_err();
        assert!(
            e.message
                .ends_with("yaml: control characters are not allowed"),
            "{}",
            e.message
        );
    }
}

/// Text no YAML parser should be handed: a NUL byte means a binary file (or UTF-16 or
/// UTF-32 without a byte-order mark, which go-yaml cannot tell from one either).
pub fn check_text(text: &str) -> Result<(), YamlError> {
    match memchr::memchr(0, text.as_bytes()) {
        Some(at) => Err(YamlError {
            position: LineIndex::new(text).position(at),
            message: "the file contains a NUL byte; it is binary, not YAML (or UTF-16/UTF-32 text without a byte-order mark); kubectl refuses it: yaml: control characters are not allowed".into(),
        }),
        None => Ok(()),
    }
}

/// How a kubeconfig's text is encoded in its file. go-yaml v2 (and so kubectl) reads UTF-8,
/// and UTF-16 when the file starts with a UTF-16 byte-order mark (PowerShell's `>` writes
/// UTF-16 LE with one).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    #[serde(rename = "utf-16le")]
    Utf16Le,
    #[serde(rename = "utf-16be")]
    Utf16Be,
}

impl Encoding {
    /// The file's bytes for `text` (decoded by [`decode_file`], the BOM included): UTF-16
    /// text is encoded back as it was read, so bytes outside an edit stay the same.
    pub fn encode(self, text: &str) -> std::borrow::Cow<'_, [u8]> {
        let units = text.encode_utf16();
        match self {
            Encoding::Utf8 => std::borrow::Cow::Borrowed(text.as_bytes()),
            Encoding::Utf16Le => units.flat_map(u16::to_le_bytes).collect(),
            Encoding::Utf16Be => units.flat_map(u16::to_be_bytes).collect(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
        }
    }
}

/// Decode a kubeconfig file's bytes as go-yaml v2 does: UTF-16 (little or big endian) when
/// they start with its byte-order mark, else UTF-8 ([`decode_owned`]). The text keeps the
/// BOM (as U+FEFF), so [`Encoding::encode`] gives back the file's exact bytes.
pub fn decode_file(bytes: Vec<u8>) -> Result<(String, Encoding), YamlError> {
    let encoding = match bytes.as_slice() {
        [0xFF, 0xFE, ..] => Encoding::Utf16Le,
        [0xFE, 0xFF, ..] => Encoding::Utf16Be,
        _ => return decode_owned(bytes).map(|text| (text, Encoding::Utf8)),
    };
    let unit = |c: &[u8]| match encoding {
        Encoding::Utf16Le => u16::from_le_bytes([c[0], c[1]]),
        _ => u16::from_be_bytes([c[0], c[1]]),
    };
    let mut text = String::with_capacity(bytes.len());
    // go-yaml v2's (reader.go) words for each defect.
    let fail = |text: &str, what: &str| {
        YamlError {
        position: LineIndex::new(text).position(text.len()),
        message: format!(
            "the file starts with a {} byte-order mark but is not valid UTF-16; kubectl refuses it: yaml: {what}",
            encoding.label()
        ),
    }
    };
    for c in char::decode_utf16(bytes.chunks_exact(2).map(unit)) {
        match c {
            Ok(c) => text.push(c),
            Err(e) if e.unpaired_surrogate() < 0xDC00 => {
                return Err(fail(&text, "expected low surrogate area"))
            }
            Err(_) => return Err(fail(&text, "unexpected low surrogate area")),
        }
    }
    if !bytes.len().is_multiple_of(2) {
        return Err(fail(&text, "incomplete UTF-16 character"));
    }
    check_text(&text)?;
    Ok((text, encoding))
}
