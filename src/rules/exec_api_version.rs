//! `exec-api-version`: exec credential plugins configured with an API version kubectl rejects.
//!
//! What breaks: `client.authentication.k8s.io/v1alpha1` was removed in Kubernetes 1.24, and
//! kubeconfigs written by old `aws eks update-kubeconfig`, eksctl or aws-iam-authenticator
//! still ask for it. kubectl prints
//! `error: exec plugin: invalid apiVersion "client.authentication.k8s.io/v1alpha1"`.
//!
//! Detection: every `users[].user.exec.apiVersion`.
//!
//! Fix: v1alpha1 becomes v1beta1 (or v1 with `--exec-api-version v1`, which also adds
//! `interactiveMode: IfAvailable` where missing: client-go defaults it only for v1beta1).
//! A v1 entry without `interactiveMode` gets it added. Unknown versions and a missing
//! apiVersion are reported with kubectl's message; we do not guess what was meant.

use super::support::{Context, Finding, Rule, Severity};
use crate::yaml::{insert_entry, replace_scalar, Document, NewValue, NodeId};

rule!(ExecApiVersionRule, "exec-api-version", fixes, "exec credential plugins asking for an API version kubectl no longer accepts (v1alpha1), or none");

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const V1BETA1: &str = "client.authentication.k8s.io/v1beta1";
const V1: &str = "client.authentication.k8s.io/v1";
const MODES: [&str; 3] = ["Never", "IfAvailable", "Always"];

impl Rule for ExecApiVersionRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let doc = kc.doc;
        for user in &kc.users {
            let Some(body) = user.body else { continue };
            let Some(exec) = kc.get(body, "exec") else {
                continue;
            };
            let exec = doc.resolve(exec);
            if doc.entries(exec).is_none() {
                continue;
            }
            let name = user.name.as_deref().unwrap_or("");
            let api_node = kc.get(exec, "apiVersion");
            let api = set_value(doc, api_node);
            let mode_node = kc.get(exec, "interactiveMode");
            let mode = set_value(doc, mode_node);
            // What kubectl says; formatted only where it is said.
            let missing_mode_msg = || {
                format!(
                    "interactiveMode must be specified for {name} to use exec authentication plugin"
                )
            };

            match api {
                Some(V1ALPHA1) => {
                    let api_node = api_node.expect("scalar implies node");
                    let target = cx.options.exec_api_version.api_version();
                    let also_mode = target == V1 && mode.is_none();
                    let finding = Finding::new(
                        ID,
                        Severity::Error,
                        kc.line(api_node),
                        format!(
                            "exec plugin asks for {V1ALPHA1}, which was removed in Kubernetes 1.24"
                        ),
                    )
                    .entry(user)
                    .kubectl_says(format!("exec plugin: invalid apiVersion \"{V1ALPHA1}\""));
                    let mut title = format!("set apiVersion to {target}");
                    if also_mode {
                        title.push_str(" and set interactiveMode: IfAvailable (v1 requires it)");
                    }
                    let changes =
                        replace_scalar(doc, doc.resolve(api_node), target).and_then(|c| {
                            let mut changes = vec![c];
                            if also_mode {
                                changes.push(set_mode(doc, exec, mode_node)?);
                            }
                            Ok(changes)
                        });
                    out.push(finding.fix_or_hint(title.clone(), changes, title));
                }
                Some(V1BETA1) => check_mode_value(cx, user, mode_node, mode, out),
                Some(V1) => {
                    if mode.is_none() {
                        let mut f = Finding::new(
                            ID,
                            Severity::Error,
                            kc.line(exec),
                            format!("exec plugin uses {V1} but has no interactiveMode, which v1 requires"),
                        )
                        .entry(user)
                        .kubectl_says(missing_mode_msg());
                        match set_mode(doc, exec, mode_node) {
                            Ok(c) => f = f.fix("set interactiveMode: IfAvailable", vec![c]),
                            Err(e) => {
                                f = f.hint(format!(
                                    "set interactiveMode to Never, IfAvailable or Always ({e})"
                                ))
                            }
                        }
                        out.push(f);
                    } else {
                        check_mode_value(cx, user, mode_node, mode, out);
                    }
                }
                Some(other) => {
                    let said = if mode.is_none() {
                        missing_mode_msg()
                    } else {
                        format!("exec plugin: invalid apiVersion \"{other}\"")
                    };
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Error,
                            kc.line(api_node.expect("scalar implies node")),
                            format!("exec plugin asks for unknown API version {other:?}"),
                        )
                        .entry(user)
                        .kubectl_says(said)
                        .hint(format!(
                            "use {V1BETA1} (or {V1} with interactiveMode) if the plugin supports it; check the plugin's documentation"
                        )),
                    );
                }
                None => {
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Error,
                            kc.line(api_node.unwrap_or(exec)),
                            "exec plugin has no apiVersion".to_string(),
                        )
                        .entry(user)
                        .kubectl_says(format!(
                            "apiVersion must be specified for {name} to use exec authentication plugin"
                        ))
                        .hint(format!(
                            "add `apiVersion: {V1BETA1}` to the exec section (most plugins, including `aws eks get-token`, support it)"
                        )),
                    );
                }
            }
        }
    }
}

fn check_mode_value(
    cx: &Context<'_, '_, '_>,
    user: &crate::kubeconfig::Entry,
    mode_node: Option<crate::yaml::NodeId>,
    mode: Option<&str>,
    out: &mut Vec<Finding>,
) {
    let (Some(node), Some(mode)) = (mode_node, mode) else {
        return;
    };
    if !MODES.contains(&mode) {
        let name = user.name.as_deref().unwrap_or("");
        out.push(
            Finding::new(
                ID,
                Severity::Error,
                cx.config.line(node),
                format!("interactiveMode {mode:?} is not one of Never, IfAvailable, Always"),
            )
            .entry(user)
            .kubectl_says(format!("invalid interactiveMode for {name}: {mode:?}"))
            .hint("set interactiveMode to Never, IfAvailable or Always"),
        );
    }
}

/// A scalar's text as client-go sees it: YAML null (`null`, `~`, nothing) and the empty
/// string mean "not set".
fn set_value<'d>(doc: &'d Document<'_>, node: Option<NodeId>) -> Option<&'d str> {
    doc.scalar(node?).filter(|v| !v.is_empty())
}

/// `interactiveMode: IfAvailable`: replace an unset value in place, or add the key.
fn set_mode(
    doc: &Document<'_>,
    exec: NodeId,
    mode_node: Option<NodeId>,
) -> Result<crate::yaml::Change, crate::yaml::EditError> {
    match mode_node {
        Some(node) => replace_scalar(doc, doc.resolve(node), "IfAvailable"),
        None => insert_entry(doc, exec, "interactiveMode", &NewValue::str("IfAvailable")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{fixed, rule_findings};
    use super::super::support::{ExecApiVersion, RuleOptions};
    use super::*;

    fn ours(src: &str, options: &RuleOptions) -> Vec<Finding> {
        rule_findings(&ExecApiVersionRule, src, options)
    }

    const OLD: &str = "apiVersion: v1
kind: Config
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1alpha1 # from aws-cli 1.16
      command: aws
      args: [eks, get-token, --cluster-name, prod]
";

    #[test]
    fn v1alpha1_becomes_v1beta1() {
        let f = ours(OLD, &RuleOptions::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].rule, "exec-api-version");
        assert_eq!(f[0].severity, Severity::Error);
        assert_eq!(f[0].line, 7);
        assert_eq!(
            f[0].message,
            "exec plugin asks for client.authentication.k8s.io/v1alpha1, which was removed in Kubernetes 1.24"
        );
        assert_eq!(
            f[0].kubectl_error.as_deref(),
            Some("exec plugin: invalid apiVersion \"client.authentication.k8s.io/v1alpha1\"")
        );
        assert_eq!(
            f[0].fix.as_ref().map(|x| x.title.as_str()),
            Some("set apiVersion to client.authentication.k8s.io/v1beta1")
        );
        assert_eq!(
            fixed(OLD, &RuleOptions::default()),
            OLD.replace("/v1alpha1 #", "/v1beta1 #")
        );
    }

    #[test]
    fn v1alpha1_to_v1_also_sets_interactive_mode() {
        let options = RuleOptions {
            exec_api_version: ExecApiVersion::V1,
            ..RuleOptions::default()
        };
        let f = ours(OLD, &options);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].fix.as_ref().map(|x| x.title.as_str()),
            Some("set apiVersion to client.authentication.k8s.io/v1 and set interactiveMode: IfAvailable (v1 requires it)")
        );
        assert_eq!(
            fixed(OLD, &options),
            OLD.replace("/v1alpha1 #", "/v1 #")
                .replace("prod]\n", "prod]\n      interactiveMode: IfAvailable\n")
        );
    }

    #[test]
    fn v1_without_interactive_mode_gets_it() {
        let src = "apiVersion: v1
kind: Config
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: plugin}
";
        let f = ours(src, &RuleOptions::default());
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 6);
        assert_eq!(
            f[0].kubectl_error.as_deref(),
            Some("interactiveMode must be specified for u to use exec authentication plugin")
        );
        assert_eq!(
            fixed(src, &RuleOptions::default()),
            src.replace("plugin}", "plugin, interactiveMode: IfAvailable}")
        );
    }

    #[test]
    fn unknown_missing_and_bad_mode_are_reported_without_a_fix() {
        let src = "apiVersion: v1
kind: Config
users:
- name: future
  user:
    exec: {apiVersion: client.authentication.k8s.io/v2, command: p, interactiveMode: Never}
- name: none
  user:
    exec: {command: p}
- name: badmode
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: p, interactiveMode: Sometimes}
";
        let f = ours(src, &RuleOptions::default());
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.line, f.message.as_str(), f.fix.is_some()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    6,
                    "exec plugin asks for unknown API version \"client.authentication.k8s.io/v2\"",
                    false
                ),
                (9, "exec plugin has no apiVersion", false),
                (
                    12,
                    "interactiveMode \"Sometimes\" is not one of Never, IfAvailable, Always",
                    false
                ),
            ]
        );
        assert_eq!(
            f[1].kubectl_error.as_deref(),
            Some("apiVersion must be specified for none to use exec authentication plugin")
        );
    }

    #[test]
    fn accepted_versions_and_users_without_exec_are_silent() {
        let src = "apiVersion: v1
kind: Config
users:
- name: beta
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: p}
- name: v1
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1, command: p, interactiveMode: IfAvailable}
- name: token
  user: {token: abc}
";
        assert!(ours(src, &RuleOptions::default()).is_empty());
    }
}
