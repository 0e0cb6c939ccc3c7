//! The fuzzing oracle, shared by the cargo-fuzz target (`fuzz/fuzz_targets/plan.rs`, nightly)
//! and the stable regression harness (`tests/hostile.rs`).
//!
//! For any input: no panic; the YAML layer either errors or yields nodes whose spans are
//! in bounds and on character boundaries; the whole plan either errors with a message, or
//! yields a repaired text that (a) equals the input outside the edited byte ranges, exactly,
//! (b) plans again without error, and (c) needs no further fix.

use std::path::Path;

use kubefix::rules::{ExecApiVersion, RuleOptions};

pub fn check(data: &[u8]) {
    // The YAML layer on its own.
    if let Ok(text) = kubefix::yaml::decode(data) {
        if let Ok(doc) = kubefix::yaml::Document::parse(text) {
            for id in 0..doc.len() as kubefix::yaml::NodeId {
                // Reading the kind slices the children arena and the value's bytes: it
                // panics if either is out of range.
                let _ = doc.kind(id);
                let s = &doc.node(id).span();
                assert!(
                    s.start <= s.end && s.end <= text.len(),
                    "span {s:?} out of bounds"
                );
                assert!(
                    text.is_char_boundary(s.start) && text.is_char_boundary(s.end),
                    "span {s:?} splits a character"
                );
            }
            let _ = kubefix::schema::check(&doc);
        }
    }
    // The whole plan: parse -> rules -> patch -> verify.
    for exec in [ExecApiVersion::V1beta1, ExecApiVersion::V1] {
        let options = RuleOptions {
            exec_api_version: exec,
            ..RuleOptions::default()
        };
        let path = Path::new("fuzz.yaml");
        let plan = match kubefix::plan::plan_bytes(path, data, &options) {
            Ok(p) => p,
            Err(e) => {
                assert!(!e.to_string().is_empty());
                continue;
            }
        };
        let Some(new) = &plan.new_text else { continue };
        let old = plan.original.as_bytes();
        let new_b = new.as_bytes();
        // (a) Same bytes outside the edits, in order; the edits are sorted and disjoint.
        let (mut o, mut n) = (0usize, 0usize);
        for e in &plan.edits {
            assert!(e.range.start >= o, "edits overlap or are unsorted");
            let keep = &old[o..e.range.start];
            assert_eq!(
                &new_b[n..n + keep.len()],
                keep,
                "bytes outside the edits changed"
            );
            n += keep.len();
            let rep = e.replacement.as_bytes();
            assert_eq!(
                &new_b[n..n + rep.len()],
                rep,
                "replacement not where it belongs"
            );
            n += rep.len();
            o = e.range.end;
        }
        assert_eq!(&new_b[n..], &old[o..], "tail after the last edit changed");
        // (b) and (c): the result is a kubeconfig kubefix has nothing more to fix in.
        let again = kubefix::plan::plan_bytes(path, new_b, &options)
            .unwrap_or_else(|e| panic!("the repaired text does not plan: {e}"));
        assert!(
            again.new_text.is_none(),
            "a second run would change the file again"
        );
    }
}
