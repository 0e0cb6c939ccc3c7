//! Byte-range edits and their single-pass application.

use std::ops::Range;

/// Replace `range` of the original text with `replacement`. An empty range is an insertion.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Edit {
    pub range: Range<usize>,
    pub replacement: String,
}

impl Edit {
    pub fn new(range: Range<usize>, replacement: impl Into<String>) -> Edit {
        Edit {
            range,
            replacement: replacement.into(),
        }
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PatchError {
    #[error("two edits overlap (bytes {a:?} and {b:?}); refusing to guess which one wins")]
    Overlap { a: Range<usize>, b: Range<usize> },
    #[error("edit at bytes {0:?} lies outside the text or splits a character")]
    OutOfBounds(Range<usize>),
}

/// All edits of one text. [`Patch::apply`] sorts them, drops exact duplicates (two findings may
/// fix the same shared node, e.g. one reached through a YAML alias), rejects overlaps and
/// splices everything in one pass: O(n + k log k) for a text of n bytes and k edits.
#[derive(Debug, Default, Clone)]
pub struct Patch {
    edits: Vec<Edit>,
}

impl Patch {
    pub fn new() -> Patch {
        Patch::default()
    }

    pub fn push(&mut self, edit: Edit) {
        self.edits.push(edit);
    }

    pub fn is_empty(&self) -> bool {
        self.edits.is_empty()
    }

    /// Sort, de-duplicate and check the edits; returns them in application order.
    pub fn normalized(&self, src: &str) -> Result<Vec<Edit>, PatchError> {
        let mut edits = self.edits.clone();
        // Stable sort: insertions at one point keep the order they were pushed in.
        edits.sort_by_key(|e| (e.range.start, e.range.end));
        edits.dedup();
        // Two deletions that share bytes (two neighbouring lines, each taking the line break
        // between them) delete their union.
        edits.dedup_by(|b, a| {
            let join = a.replacement.is_empty()
                && b.replacement.is_empty()
                && !a.range.is_empty()
                && !b.range.is_empty()
                && b.range.start < a.range.end;
            if join {
                a.range.end = a.range.end.max(b.range.end);
            }
            join
        });
        for e in &edits {
            if e.range.start > e.range.end
                || e.range.end > src.len()
                || !src.is_char_boundary(e.range.start)
                || !src.is_char_boundary(e.range.end)
            {
                return Err(PatchError::OutOfBounds(e.range.clone()));
            }
        }
        for pair in edits.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            // Two insertions at one point are fine; anything that shares bytes is not.
            let both_inserts = a.range.is_empty() && b.range.is_empty();
            if a.range.end > b.range.start
                || (!both_inserts && a.range.start == b.range.start && !a.range.is_empty())
            {
                return Err(PatchError::Overlap {
                    a: a.range.clone(),
                    b: b.range.clone(),
                });
            }
        }
        Ok(edits)
    }

    /// The new text: every edit applied in one pass over `src`.
    pub fn apply(&self, src: &str) -> Result<String, PatchError> {
        Ok(splice(src, &self.normalized(src)?))
    }
}

/// `src` with `edits` applied in one pass; `edits` as [`Patch::normalized`] returns them.
pub fn splice(src: &str, edits: &[Edit]) -> String {
    let grow: usize = edits.iter().map(|e| e.replacement.len()).sum();
    let mut out = String::with_capacity(src.len() + grow);
    let mut at = 0;
    for e in edits {
        out.push_str(&src[at..e.range.start]);
        out.push_str(&e.replacement);
        at = e.range.end;
    }
    out.push_str(&src[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn applies_in_one_pass_regardless_of_push_order() {
        let src = "a: 1\nb: 2\nc: 3\n";
        let mut p = Patch::new();
        p.push(Edit::new(13..14, "30"));
        p.push(Edit::new(3..4, "10"));
        p.push(Edit::new(14..14, " # new"));
        assert_eq!(p.apply(src).unwrap(), "a: 10\nb: 2\nc: 30 # new\n");
    }

    #[test]
    fn duplicate_edits_collapse() {
        let mut p = Patch::new();
        p.push(Edit::new(0..1, "x"));
        p.push(Edit::new(0..1, "x"));
        assert_eq!(p.apply("ab").unwrap(), "xb");
    }

    #[test]
    fn overlaps_are_rejected() {
        let mut p = Patch::new();
        p.push(Edit::new(0..3, "x"));
        p.push(Edit::new(2..4, "y"));
        assert!(matches!(p.apply("abcdef"), Err(PatchError::Overlap { .. })));
        let mut p = Patch::new();
        p.push(Edit::new(1..3, "x"));
        p.push(Edit::new(1..3, "y"));
        assert!(matches!(p.apply("abcdef"), Err(PatchError::Overlap { .. })));
    }

    #[test]
    fn insertions_at_one_point_keep_push_order() {
        let mut p = Patch::new();
        p.push(Edit::new(1..1, "1"));
        p.push(Edit::new(1..1, "2"));
        assert_eq!(p.apply("ab").unwrap(), "a12b");
    }

    #[test]
    fn out_of_bounds_and_char_splits_are_rejected() {
        let mut p = Patch::new();
        p.push(Edit::new(2..9, "x"));
        assert!(matches!(p.apply("abc"), Err(PatchError::OutOfBounds(_))));
        let mut p = Patch::new();
        p.push(Edit::new(1..2, "x"));
        assert!(matches!(p.apply("é"), Err(PatchError::OutOfBounds(_))));
    }
}
