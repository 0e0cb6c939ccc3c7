//! `exec-command`: exec credential plugins kubectl cannot start.
//!
//! What the user saw (verified with kubectl 1.32):
//! - `command must be specified for USER to use exec authentication plugin`
//! - `env variable name must be specified for USER to use exec authentication plugin`
//! - `getting credentials: exec: executable NAME not found` (then the plugin's installHint).
//!
//! Detection: a bare command name is looked up on `$PATH` as Go's `exec.LookPath` does —
//! empty and relative `PATH` entries are skipped (Go refuses a program found through them);
//! the plugin is never run. A command with a `/` is not looked up here. With
//! `--probe-exec`, `exec-plugin-version` runs plugins and reports a missing one itself, so
//! this rule leaves those users to it. Reported with the plugin's `installHint`.
//!
//! Fix (`exec-renamed`): two plugins that were renamed, with the same arguments, are pointed
//! at their new name when that name is on `PATH` (looked up, never run):
//! `heptio-authenticator-aws` → `aws-iam-authenticator` (the project's rename, 2018) and
//! `aws2` → `aws` (AWS CLI v2's preview binary; the released v2 is `aws`). When the new name
//! is not on `PATH` either, the finding says to install it.

use super::support::view::{key_line, set_value};
use super::support::{Context, Finding, Rule, Severity};

rule!(
    ExecCommandRule,
    "exec-command",
    reports,
    "exec plugins without command, with an env entry without name, or whose command is not on PATH"
);

rule!(
/// The PATH half (`exec: executable NAME not found`): the plugin is looked up, never run.
ExecOnPathRule as PATH_ID, "exec-on-path", reports, "exec plugins whose command is not on PATH (looked up, never run)");

rule!(
/// The renamed plugins: `exec: executable heptio-authenticator-aws not found` where
/// `aws-iam-authenticator` is installed. A rule of its own because it fixes: the fixers run
/// again on the repaired text, and a missing plugin another rule's fix names (kubelogin after
/// an azure conversion) is a finding to report, not a fix that failed.
ExecRenamedRule as RENAMED_ID, "exec-renamed", fixes, "exec plugins under an old name (heptio-authenticator-aws, aws2) not on PATH, pointed at the new name (aws-iam-authenticator, aws) when that is on PATH");

/// Plugins renamed with the same command line: old name, new name.
const RENAMED: [(&str, &str); 2] = [
    ("heptio-authenticator-aws", "aws-iam-authenticator"),
    ("aws2", "aws"),
];

/// API versions `exec-plugin-version` probes under `--probe-exec`.
const PROBED: [&str; 3] = [
    "client.authentication.k8s.io/v1alpha1",
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1",
];

/// `name` on the given PATH value, absolute entries only.
pub fn look_path(name: &str, path: &std::ffi::OsStr) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

impl Rule for ExecCommandRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, Half::Structure, out)
    }
}

impl Rule for ExecOnPathRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, Half::OnPath, out)
    }
}

impl Rule for ExecRenamedRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, Half::Renamed, out)
    }
}

/// Which findings [`check`] makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Half {
    /// No command, an env entry without name (`exec-command`).
    Structure,
    /// Not on PATH (`exec-on-path`), except what `exec-renamed` fixes.
    OnPath,
    /// An old name not on PATH whose new name is (`exec-renamed`).
    Renamed,
}

/// The findings of one [`Half`].
fn check(cx: &Context<'_, '_, '_>, half: Half, out: &mut Vec<Finding>) {
    let on_path = half != Half::Structure;
    {
        let kc = cx.config;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut found: std::collections::HashMap<String, bool> = Default::default();
        for user in &kc.users {
            let Some(body) = user.body else { continue };
            let Some(exec) = kc.get(body, "exec").map(|e| kc.doc.resolve(e)) else {
                continue;
            };
            if kc.doc.entries(exec).is_none() {
                continue;
            }
            let name = user.name.as_deref().unwrap_or("");
            let env_nameless = kc
                .get(exec, "env")
                .and_then(|e| kc.doc.items(e))
                .unwrap_or(&[])
                .iter()
                .find(|&&i| kc.str_of(i, "name").is_none_or(str::is_empty));
            if let (false, Some(&item)) = (on_path, env_nameless) {
                out.push(
                    Finding::new(ID, Severity::Error, kc.line(item), "an env entry of the exec plugin has no name".into())
                        .entry(user)
                        .code("env-without-name")
                        .kubectl_says(format!("env variable name must be specified for {name} to use exec authentication plugin"))
                        .hint("give every env entry a name (- name: VAR, value: …) or remove it"),
                );
            }
            let Some(command) = kc.str_of(exec, "command").filter(|c| !c.is_empty()) else {
                if on_path {
                    continue;
                }
                out.push(
                    Finding::new(ID, Severity::Error, key_line(kc, body, "exec"), "exec plugin without command".into())
                        .entry(user)
                        .code("no-command")
                        .kubectl_says(format!("command must be specified for {name} to use exec authentication plugin"))
                        .hint("add command: the credential plugin to run (aws, gke-gcloud-auth-plugin, kubelogin, …)"),
                );
                continue;
            };
            if !on_path || command.contains('/') {
                continue;
            }
            let probed = cx.options.probe_exec
                && kc
                    .str_of(exec, "apiVersion")
                    .is_some_and(|a| PROBED.contains(&a));
            if probed {
                continue;
            }
            let here = *found
                .entry(command.to_string())
                .or_insert_with(|| look_path(command, &path).is_some());
            if here {
                continue;
            }
            let renamed = RENAMED
                .iter()
                .find(|(old, _)| *old == command)
                .map(|&(old, new)| {
                    let here = *found
                        .entry(new.to_string())
                        .or_insert_with(|| look_path(new, &path).is_some());
                    (old, new, here)
                });
            let fixable = renamed.is_some_and(|(_, _, here)| here);
            if fixable != (half == Half::Renamed) {
                continue;
            }
            let hint = crate::rules::support::view::install_hint(kc, exec, command);
            let f = Finding::new(
                if fixable { RENAMED_ID } else { PATH_ID },
                Severity::Error,
                key_line(kc, exec, "command"),
                format!("exec plugin {command:?} is not installed (not found on PATH)"),
            )
            .entry(user)
            .code("not-on-path")
            .kubectl_says(format!(
                "getting credentials: exec: executable {command} not found"
            ));
            out.push(match renamed {
                Some((old, new, true)) => f.fix_or_hint(
                    format!("use {new} ({old} was renamed; same arguments)"),
                    set_value(kc, exec, "command", new).map(|c| vec![c]),
                    format!("change command to {new}"),
                ),
                Some((old, new, false)) => f.hint(format!(
                    "{old} was renamed {new} (same arguments): install {new} and change command to {new}; {hint}"
                )),
                None => f.hint(hint),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, rule_findings};
    use super::super::support::RuleOptions;
    use super::*;
    use std::path::Path;

    #[test]
    fn look_path_skips_relative_entries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("kubefix-fake-plugin");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        let abs = std::env::join_paths([Path::new("/nonexistent"), dir.path()]).unwrap();
        assert_eq!(look_path("kubefix-fake-plugin", &abs), Some(p.clone()));
        // The same directory named relatively (from its parent) is not searched.
        let rel = std::env::join_paths([Path::new(dir.path().file_name().unwrap())]).unwrap();
        assert_eq!(look_path("kubefix-fake-plugin", &rel), None);
        std::fs::remove_file(&p).unwrap();
        assert_eq!(look_path("kubefix-fake-plugin", &abs), None);
    }

    #[test]
    fn reports_missing_command_env_name_and_plugin() {
        let src = "apiVersion: v1
kind: Config
users:
- name: gone
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubefix-no-such-plugin-3f2a
      installHint: brew install it
- name: nocmd
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1}
- name: env
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: sh
      env:
      - value: x
- name: here
  user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: sh}}
";
        let mut f = rule_findings(&ExecOnPathRule, src, &RuleOptions::default());
        f.extend(
            findings(src, &RuleOptions::default())
                .into_iter()
                .filter(|f| f.rule == ID),
        );
        let got: Vec<_> = f
            .iter()
            .map(|f| {
                (
                    f.line,
                    f.kubectl_error.as_deref().unwrap(),
                    f.hint.as_deref().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got[0],
            (
                8,
                "getting credentials: exec: executable kubefix-no-such-plugin-3f2a not found",
                "brew install it"
            )
        );
        assert_eq!(got[1].0, 12);
        assert_eq!(
            got[1].1,
            "command must be specified for nocmd to use exec authentication plugin"
        );
        assert_eq!(got[2].0, 19);
        assert_eq!(
            got[2].1,
            "env variable name must be specified for env to use exec authentication plugin"
        );
        assert_eq!(got.len(), 3);
        // Under --probe-exec the missing plugin is exec-plugin-version's to report.
        let probe = RuleOptions {
            probe_exec: true,
            ..RuleOptions::default()
        };
        assert!(rule_findings(&ExecOnPathRule, src, &probe).is_empty());
        let f = findings(src, &probe);
        assert!(f
            .iter()
            .any(|f| f.rule == "exec-plugin-version" && f.line == 8));
    }
}
