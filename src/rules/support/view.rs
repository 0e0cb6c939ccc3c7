//! Small questions about the kubeconfig view that several rules ask, answered as kubectl
//! (go-yaml) would.

use crate::kubeconfig::Kubeconfig;
use crate::yaml::NodeId;

/// YAML 1.1 true, as go-yaml (and so kubectl) reads a plain scalar.
pub fn is_true(kc: &Kubeconfig<'_, '_>, node: NodeId) -> bool {
    matches!(
        kc.doc.scalar(node),
        Some("true" | "True" | "TRUE" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "y" | "Y")
    )
}

/// A key whose value is a non-empty scalar.
pub fn has(kc: &Kubeconfig<'_, '_>, map: NodeId, key: &str) -> bool {
    kc.str_of(map, key).is_some_and(|v| !v.is_empty())
}

/// The line of `key` in `map` (its key node), or of the mapping.
pub fn key_line(kc: &Kubeconfig<'_, '_>, map: NodeId, key: &str) -> usize {
    kc.line(
        kc.doc
            .get_key(map, key)
            .or_else(|| kc.get(map, key))
            .unwrap_or(map),
    )
}

/// What to tell a user whose exec plugin `command` is missing: the exec section's own
/// `installHint`, else a generic line.
pub fn install_hint(kc: &Kubeconfig<'_, '_>, exec: NodeId, command: &str) -> String {
    kc.str_of(exec, "installHint")
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| format!("install {command}, or point command at it"))
}

/// Set the scalar value of `key` in `map` to `value`, in the file's quoting style: a flow
/// scalar in place ([`replace_scalar`](crate::yaml::replace_scalar), through an alias to its
/// anchor), a block scalar (`|`, `>`) by rewriting the entry as `key: value`.
pub fn set_value(
    kc: &Kubeconfig<'_, '_>,
    map: NodeId,
    key: &str,
    value: &str,
) -> Result<crate::yaml::Change, crate::yaml::EditError> {
    use crate::yaml::{NodeKind, Style};
    let doc = kc.doc;
    let node = doc.resolve(doc.get(map, key).unwrap_or(map));
    match doc.kind(node) {
        NodeKind::Scalar {
            style: Style::Literal | Style::Folded,
            ..
        } if doc.anchor(node).is_none() => crate::yaml::replace_entry(
            doc,
            map,
            key,
            key,
            &crate::yaml::NewValue::Str(value.to_string()),
        ),
        _ => crate::yaml::replace_scalar(doc, node, value),
    }
}
