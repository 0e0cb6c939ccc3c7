//! `exec-plugin-version`: the installed exec plugin answers in another API version than the
//! kubeconfig asks for, or is not installed.
//!
//! What the user saw: an aws-cli older than 1.23.9 (v1) or 2.6.3 (v2) returns
//! `client.authentication.k8s.io/v1alpha1` from `aws eks get-token` whatever it is asked
//! for. kubectl 1.22–1.23 printed `exec plugin is configured to use API version
//! client.authentication.k8s.io/v1beta1, plugin returned version
//! client.authentication.k8s.io/v1alpha1`; kubectl ≥ 1.24 (verified with 1.32) no longer
//! knows v1alpha1 and prints `getting credentials: decoding stdout: no kind "ExecCredential"
//! is registered for version "client.authentication.k8s.io/v1alpha1" in scheme
//! "pkg/client/auth/exec/exec.go:62"`. A plugin answering another known version gets the
//! first message; a missing plugin `exec: executable NAME not found` plus its installHint.
//!
//! Detection: for exec users whose command is `aws`, the version of the aws-cli found on the
//! invoking user's `PATH`, read from its install layout (v2 installer, Homebrew, pyenv shim,
//! pip script: see `aws_version`). Nothing a kubeconfig names is run or inspected without
//! `--probe-exec`: a layout that does not tell the version, or a `command` naming a program by
//! path (`./aws`, `/opt/x/aws`), is an info finding saying `--probe-exec` would check it.
//! With `--probe-exec`, such an aws-cli is asked (`--version`), and every exec plugin is run as
//! client-go runs it (`KUBERNETES_EXEC_INFO`, the entry's env, stdin closed, killed after
//! 10 s) and the `apiVersion` it prints is compared with the configured one (for v1alpha1
//! entries, with the version `exec-api-version` moves them to). Started as root on a file
//! that belongs to someone else (or for a program another user could replace), both run as
//! that user, with a minimal environment (`plugin::run_as`).
//!
//! Fix: none; the plugin has to be upgraded or installed. Report only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::support::{Context, Finding, Rule, Severity};
use crate::kubeconfig::{Entry, Kubeconfig, Section};
use crate::plugins::{self as plugin, Probe, Ran, PROBE_TIMEOUT};
use crate::privilege::Owner;
use crate::yaml::NodeId;

rule!(ExecPluginVersionRule, "exec-plugin-version", reports, "exec plugins that answer in another API version than configured (old aws-cli), or are missing (--probe-exec)");

const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";
const KNOWN: [&str; 2] = [
    "client.authentication.k8s.io/v1beta1",
    "client.authentication.k8s.io/v1",
];

/// What the info findings about an unchecked aws-cli suggest.
const PROBE_HINT: &str = "kubefix --probe-exec runs it (`--version`) to check (as the file's owner when root checks another user's file)";

/// Does this aws-cli always answer v1alpha1?
pub fn aws_too_old((major, minor, patch): (u32, u32, u32)) -> bool {
    match major {
        1 => (minor, patch) < (23, 9),
        2 => (minor, patch) < (6, 3),
        _ => major < 1,
    }
}

/// What kubectl prints when the plugin answers `returned` to a request for `wanted`.
pub fn kubectl_mismatch(wanted: &str, returned: &str) -> String {
    if returned == V1ALPHA1 {
        format!("getting credentials: decoding stdout: no kind \"ExecCredential\" is registered for version \"{V1ALPHA1}\" in scheme \"pkg/client/auth/exec/exec.go:62\"")
    } else {
        format!("getting credentials: exec plugin is configured to use API version {wanted}, plugin returned version {returned}")
    }
}

/// `KUBERNETES_EXEC_INFO` as client-go sets it (spec.cluster only with provideClusterInfo).
fn exec_info(kc: &Kubeconfig<'_, '_>, user: &Entry, api: &str, cluster_info: bool) -> String {
    let mut spec = serde_json::Map::new();
    if cluster_info {
        let cluster = user
            .name
            .as_deref()
            .and_then(|name| kc.contexts_using(Section::Users, name).next())
            .and_then(|c| kc.str_of(c.body?, "cluster"))
            .and_then(|name| kc.entry(Section::Clusters, name))
            .and_then(|e| e.body);
        if let Some(body) = cluster {
            let mut c = serde_json::Map::new();
            for key in [
                "server",
                "tls-server-name",
                "certificate-authority-data",
                "proxy-url",
            ] {
                if let Some(v) = kc.str_of(body, key) {
                    c.insert(key.into(), v.into());
                }
            }
            if kc.str_of(body, "insecure-skip-tls-verify") == Some("true") {
                c.insert("insecure-skip-tls-verify".into(), true.into());
            }
            c.insert("config".into(), serde_json::Value::Null);
            spec.insert("cluster".into(), c.into());
        }
    }
    spec.insert("interactive".into(), false.into());
    serde_json::json!({"kind": "ExecCredential", "apiVersion": api, "spec": spec}).to_string()
}

fn list_of_str(kc: &Kubeconfig<'_, '_>, node: Option<NodeId>) -> Vec<String> {
    node.and_then(|n| kc.doc.items(n))
        .unwrap_or(&[])
        .iter()
        .filter_map(|&i| kc.doc.scalar(i).map(str::to_string))
        .collect()
}

fn first_line(s: &str) -> &str {
    let l = s
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    match l.char_indices().nth(200) {
        Some((i, _)) => &l[..i],
        None => l,
    }
}

impl Rule for ExecPluginVersionRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let doc = kc.doc;
        let probe_exec = cx.options.probe_exec;
        // Thousands of users usually share a handful of commands: resolve each once, and
        // decide once whom its probes run as. Without --probe-exec nothing is resolved against
        // the kubeconfig: only a bare `aws` is looked up, on the invoking user's PATH.
        type Resolved = (Option<PathBuf>, Option<Owner>);
        let mut resolved: HashMap<&str, Resolved> = HashMap::new();
        for user in &kc.users {
            let Some(body) = user.body else { continue };
            let Some(exec) = kc.get(body, "exec").map(|e| doc.resolve(e)) else {
                continue;
            };
            let Some(cmd_node) = kc.get(exec, "command") else {
                continue;
            };
            let Some(command) = doc.scalar(cmd_node).filter(|c| !c.is_empty()) else {
                continue;
            };
            let line = kc.line(cmd_node);
            let by_path = plugin::has_path_component(command);
            let (program, owner) = resolved
                .entry(command)
                .or_insert_with(|| {
                    let program = if probe_exec {
                        plugin::resolve_command(command, cx.path)
                    } else if by_path {
                        None
                    } else {
                        plugin::find_on_path(command)
                    };
                    let owner = if probe_exec {
                        plugin::run_identity(cx.path, program.as_deref())
                    } else {
                        None
                    };
                    (program, owner)
                })
                .clone();
            let base = Path::new(command).file_name().and_then(|n| n.to_str());
            if base == Some("aws") {
                let version = match (&program, by_path, probe_exec) {
                    (_, true, false) => {
                        out.push(
                            Finding::new(
                                ID,
                                Severity::Info,
                                line,
                                format!("the aws-cli version of {command:?} is not checked: kubefix does not run or inspect a program a kubeconfig names by path"),
                            )
                            .entry(user)
                            .hint(PROBE_HINT),
                        );
                        None
                    }
                    (Some(prog), true, true) => plugin::aws_version_probed(prog, owner.as_ref()),
                    (Some(prog), false, _) => {
                        match plugin::aws_version::aws_version_from_layout(prog) {
                            Some(v) => Some(v),
                            None if probe_exec => plugin::aws_version_probed(prog, owner.as_ref()),
                            None => {
                                out.push(
                                Finding::new(
                                    ID,
                                    Severity::Info,
                                    line,
                                    format!("the version of aws-cli {} is unknown: its install layout does not tell it, and kubefix runs no program without --probe-exec", prog.display()),
                                )
                                .entry(user)
                                .hint(PROBE_HINT),
                            );
                                None
                            }
                        }
                    }
                    (None, _, _) => None,
                };
                if let (Some(v), Some(prog)) = (version.filter(|&v| aws_too_old(v)), &program) {
                    let wanted = match kc.str_of(exec, "apiVersion") {
                        Some(a) if KNOWN.contains(&a) => a,
                        _ => cx.options.exec_api_version.api_version(),
                    };
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Error,
                            line,
                            format!(
                                "aws-cli {}.{}.{} ({}) always returns {V1ALPHA1} from `aws eks get-token`, which kubectl 1.24+ rejects",
                                v.0, v.1, v.2, prog.display()
                            ),
                        )
                        .entry(user)
                        .kubectl_says(kubectl_mismatch(wanted, V1ALPHA1))
                        .hint("upgrade aws-cli to 1.23.9 or later (v1) or 2.6.3 or later (v2): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"),
                    );
                }
            }
            if !cx.options.probe_exec {
                continue;
            }
            let api = match kc.str_of(exec, "apiVersion") {
                Some(V1ALPHA1) => cx.options.exec_api_version.api_version(),
                Some(a) if KNOWN.contains(&a) => a,
                _ => continue, // exec-api-version reports it
            };
            let Some(program) = program else {
                let hint = crate::rules::support::view::install_hint(kc, exec, command);
                out.push(
                    Finding::new(
                        ID,
                        Severity::Error,
                        line,
                        format!("exec plugin {command:?} is not installed (not found on PATH)"),
                    )
                    .entry(user)
                    .kubectl_says(format!(
                        "getting credentials: exec: executable {command} not found"
                    ))
                    .hint(hint),
                );
                continue;
            };
            let env = kc
                .get(exec, "env")
                .and_then(|e| doc.items(e))
                .unwrap_or(&[])
                .iter()
                .filter_map(|&i| {
                    Some((
                        kc.str_of(i, "name")?.to_string(),
                        kc.str_of(i, "value").unwrap_or("").to_string(),
                    ))
                })
                .collect();
            let probe = Probe {
                program,
                args: list_of_str(kc, kc.get(exec, "args")),
                env,
                exec_info: exec_info(
                    kc,
                    user,
                    api,
                    kc.str_of(exec, "provideClusterInfo") == Some("true"),
                ),
            };
            let problem: Option<(Severity, String, Option<String>)> = match plugin::probe(&probe, owner.as_ref(), PROBE_TIMEOUT) {
                Ran::NotStarted(e) => Some((Severity::Error, format!("exec plugin {command:?} could not be started: {e}"), None)),
                Ran::TimedOut => Some((
                    Severity::Warning,
                    format!("exec plugin {command:?} did not answer within {} s (it may be waiting for a login); it was stopped", PROBE_TIMEOUT.as_secs()),
                    None,
                )),
                Ran::Exited { code, stderr, .. } if code != Some(0) => Some((
                    Severity::Error,
                    format!(
                        "exec plugin {command:?} failed ({}){}",
                        code.map_or("killed by a signal".to_string(), |c| format!("exit code {c}")),
                        // Its stderr is not quoted: a plugin may print a token there.
                        if first_line(&stderr).is_empty() { String::new() } else { format!("; it wrote {} bytes to stderr (not shown: it may hold a credential; run the plugin yourself to read it)", stderr.len()) }
                    ),
                    code.map(|c| format!("getting credentials: exec: executable {command} failed with exit code {c}")),
                )),
                Ran::Exited { stdout, .. } => {
                    match serde_json::from_str::<serde_json::Value>(&stdout) {
                        _ if stdout.trim().is_empty() => Some((
                            Severity::Error,
                            format!("exec plugin {command:?} printed nothing"),
                            Some(format!("getting credentials: exec plugin is configured to use API version {api}, plugin returned version client.authentication.k8s.io/__internal")),
                        )),
                        Ok(v) => match v.get("apiVersion").and_then(|a| a.as_str()) {
                            Some(got) if got == api => None,
                            Some(got) => Some((
                                Severity::Error,
                                format!("exec plugin {command:?} is asked for {api} but returns {got}"),
                                Some(kubectl_mismatch(api, got)),
                            )),
                            None => Some((
                                Severity::Error,
                                format!("exec plugin {command:?} printed JSON without apiVersion"),
                                None,
                            )),
                        },
                        Err(_) => Some((
                            Severity::Error,
                            format!("exec plugin {command:?} printed something that is not an ExecCredential (not JSON)"),
                            Some("getting credentials: decoding stdout: couldn't get version/kind; json parse error: …".into()),
                        )),
                    }
                }
            };
            if let Some((severity, message, said)) = problem {
                let mut f = Finding::new(ID, severity, line, message)
                    .entry(user)
                    .hint("run the plugin by hand with KUBERNETES_EXEC_INFO set, and upgrade it or fix its args");
                f.kubectl_error = said;
                out.push(f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::findings;
    use super::super::support::RuleOptions;
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn aws_thresholds() {
        assert!(aws_too_old((1, 22, 99)));
        assert!(aws_too_old((1, 23, 8)));
        assert!(!aws_too_old((1, 23, 9)));
        assert!(!aws_too_old((1, 45, 11)));
        assert!(aws_too_old((2, 6, 2)));
        assert!(!aws_too_old((2, 6, 3)));
        assert!(!aws_too_old((2, 15, 0)));
    }

    #[test]
    fn mismatch_messages_are_kubectls() {
        assert_eq!(
            kubectl_mismatch("client.authentication.k8s.io/v1beta1", "client.authentication.k8s.io/v1"),
            "getting credentials: exec plugin is configured to use API version client.authentication.k8s.io/v1beta1, plugin returned version client.authentication.k8s.io/v1"
        );
        assert!(kubectl_mismatch("x", V1ALPHA1).contains("no kind \"ExecCredential\" is registered for version \"client.authentication.k8s.io/v1alpha1\""));
    }

    /// A plugin given by absolute path (no PATH games in unit tests).
    fn config_for(plugin: &Path, api: &str) -> String {
        format!(
            "apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {{server: https://127.0.0.1:6443, insecure-skip-tls-verify: true}}
contexts:
- name: c
  context: {{cluster: c, user: u}}
users:
- name: u
  user:
    exec:
      apiVersion: {api}
      command: {}
      args: [--flag]
      env: [{{name: PROBE_ENV, value: from-entry}}]
      provideClusterInfo: true
",
            plugin.display()
        )
    }

    fn script(dir: &Path, name: &str, body: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn probe_compares_versions_and_passes_env_and_exec_info() {
        let dir = tempfile::tempdir().unwrap();
        let probe = RuleOptions {
            probe_exec: true,
            ..RuleOptions::default()
        };
        // Echoes what it was given, so the test sees args, env and KUBERNETES_EXEC_INFO.
        let good = script(
            dir.path(),
            "good",
            "[ \"$1\" = --flag ] && [ \"$PROBE_ENV\" = from-entry ] || exit 9\n\
             case \"$KUBERNETES_EXEC_INFO\" in *'\"server\":\"https://127.0.0.1:6443\"'*'\"interactive\":false'*) ;; *) exit 8;; esac\n\
             echo '{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"t\"}}'",
        );
        let f = findings(
            &config_for(&good, "client.authentication.k8s.io/v1beta1"),
            &probe,
        );
        assert!(f.is_empty(), "{f:?}");

        let alpha = script(dir.path(), "alpha", "echo '{\"apiVersion\":\"client.authentication.k8s.io/v1alpha1\",\"kind\":\"ExecCredential\"}'");
        let f = findings(
            &config_for(&alpha, "client.authentication.k8s.io/v1beta1"),
            &probe,
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!((f[0].rule, f[0].line), (ID, 14));
        assert_eq!(f[0].message, format!("exec plugin {:?} is asked for client.authentication.k8s.io/v1beta1 but returns client.authentication.k8s.io/v1alpha1", alpha.display().to_string()));

        // Without --probe-exec nothing runs.
        assert!(findings(
            &config_for(&alpha, "client.authentication.k8s.io/v1beta1"),
            &RuleOptions::default()
        )
        .is_empty());

        let garbage = script(dir.path(), "garbage", "echo not json");
        let f = findings(
            &config_for(&garbage, "client.authentication.k8s.io/v1beta1"),
            &probe,
        );
        assert!(
            f[0].message
                .ends_with("is not an ExecCredential (not JSON)"),
            "{f:?}"
        );
        let nothing = script(dir.path(), "nothing", "exit 0");
        let f = findings(
            &config_for(&nothing, "client.authentication.k8s.io/v1beta1"),
            &probe,
        );
        assert!(f[0].message.ends_with("printed nothing"));
        assert!(f[0]
            .kubectl_error
            .as_deref()
            .unwrap()
            .ends_with("plugin returned version client.authentication.k8s.io/__internal"));
        let failing = script(dir.path(), "failing", "echo 'no credentials' >&2; exit 3");
        let f = findings(
            &config_for(&failing, "client.authentication.k8s.io/v1beta1"),
            &probe,
        );
        // What the plugin wrote to stderr may be a credential: counted, never quoted.
        assert!(
            f[0].message
                .contains("failed (exit code 3); it wrote 15 bytes to stderr"),
            "{f:?}"
        );
        assert!(!f[0].message.contains("no credentials"), "{f:?}");
    }

    #[test]
    fn missing_plugin_reports_install_hint() {
        let src = "apiVersion: v1
kind: Config
users:
- name: u
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubefix-test-no-such-plugin
      installHint: |
        brew install no-such-plugin
";
        let probe = RuleOptions {
            probe_exec: true,
            ..RuleOptions::default()
        };
        let f = findings(src, &probe);
        assert_eq!(f.len(), 1);
        assert_eq!(
            f[0].kubectl_error.as_deref(),
            Some("getting credentials: exec: executable kubefix-test-no-such-plugin not found")
        );
        assert_eq!(f[0].hint.as_deref(), Some("brew install no-such-plugin"));
    }
}
