//! Helpers for the rules' unit tests: plan a YAML text exactly as the CLI does.

use std::path::Path;

use super::{Finding, RuleOptions};
use crate::plan::plan_bytes;

/// Where test texts pretend to live (relative paths in them resolve here).
pub const PATH: &str = "/nonexistent-kubefix-test/config";

/// Every finding of every rule on `src`.
pub fn findings(src: &str, options: &RuleOptions) -> Vec<Finding> {
    plan_bytes(Path::new(PATH), src.as_bytes(), options)
        .expect("plan")
        .findings
}

/// The verified repaired text (panics when nothing changes).
pub fn fixed(src: &str, options: &RuleOptions) -> String {
    plan_bytes(Path::new(PATH), src.as_bytes(), options)
        .expect("plan")
        .new_text
        .expect("a fix")
}

/// The findings of one rule alone on `src` (also for rules not in the registry yet).
pub fn rule_findings(rule: &dyn super::Rule, src: &str, options: &RuleOptions) -> Vec<Finding> {
    let doc = crate::yaml::Document::parse(src).expect("parse");
    let view = crate::kubeconfig::Kubeconfig::new(&doc).expect("kubeconfig");
    let cx = super::Context::new(Path::new(PATH), &view, options);
    let mut out = Vec::new();
    rule.check(&cx, &mut out);
    out
}
