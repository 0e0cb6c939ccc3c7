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

pub use edit::{insert_entry, remove_entry, replace_entry, replace_scalar, Change, EditError};
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
    let idx = LineIndex::new(std::str::from_utf8(&bytes[..at]).unwrap_or(""));
    YamlError {
        position: idx.position(at),
        message: "the file is not valid UTF-8 text".into(),
    }
}

/// Text no YAML parser should be handed: a NUL byte means a binary file.
pub fn check_text(text: &str) -> Result<(), YamlError> {
    match memchr::memchr(0, text.as_bytes()) {
        Some(at) => Err(YamlError {
            position: LineIndex::new(text).position(at),
            message: "the file contains a NUL byte; it is binary, not YAML".into(),
        }),
        None => Ok(()),
    }
}
