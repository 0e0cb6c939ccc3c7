//! The lossless promise, tested through the library: a repair changes exactly the bytes of the
//! repaired values, whatever the file's style. Each case gives the whole expected output.

use std::path::Path;

use kubefix::plan::plan_bytes;
use kubefix::rules::{ExecApiVersion, RuleOptions, Severity};

fn fix_with(src: &str, target: ExecApiVersion) -> String {
    let options = RuleOptions {
        exec_api_version: target,
        ..RuleOptions::default()
    };
    let plan = plan_bytes(Path::new("test.yaml"), src.as_bytes(), &options)
        .unwrap_or_else(|e| panic!("plan failed: {e}\n{src}"));
    plan.new_text.unwrap_or_else(|| src.to_string())
}

fn fix(src: &str) -> String {
    fix_with(src, ExecApiVersion::V1beta1)
}

/// A kubeconfig with the given `users:` section (everything else fixed).
fn with_users(users: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n{users}"
    )
}

#[test]
fn plain_value_with_trailing_comment() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1   # old\n      command: aws\n",
    );
    let want = src.replace("v1alpha1   # old", "v1beta1   # old");
    assert_eq!(fix(&src), want);
}

#[test]
fn double_and_single_quotes_are_kept() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: \"client.authentication.k8s.io/v1alpha1\"\n      command: aws\n- name: v\n  user:\n    exec:\n      apiVersion: 'client.authentication.k8s.io/v1alpha1'\n      command: aws\n",
    );
    let want = src
        .replace(
            "\"client.authentication.k8s.io/v1alpha1\"",
            "\"client.authentication.k8s.io/v1beta1\"",
        )
        .replace(
            "'client.authentication.k8s.io/v1alpha1'",
            "'client.authentication.k8s.io/v1beta1'",
        );
    assert_eq!(fix(&src), want);
}

#[test]
fn flow_mapping_exec() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws, args: [eks, get-token]}\n",
    );
    let want = src.replace("v1alpha1,", "v1beta1,");
    assert_eq!(fix(&src), want);
}

#[test]
fn flow_mapping_gets_interactive_mode_for_v1() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: aws}  # keep me\n",
    );
    let want = src.replace(
        "{apiVersion: client.authentication.k8s.io/v1alpha1, command: aws}",
        "{apiVersion: client.authentication.k8s.io/v1, command: aws, interactiveMode: IfAvailable}",
    );
    assert_eq!(fix_with(&src, ExecApiVersion::V1), want);
}

#[test]
fn block_mapping_insert_uses_sibling_indentation_and_skips_comment() {
    let src = with_users(
        "users:\n  -   name: u\n      user:\n          exec:\n              apiVersion: client.authentication.k8s.io/v1alpha1\n              command: aws # the cli\n\n# trailing comment\n",
    );
    let want = src.replace("v1alpha1\n", "v1\n").replace(
        "command: aws # the cli\n",
        "command: aws # the cli\n              interactiveMode: IfAvailable\n",
    );
    assert_eq!(fix_with(&src, ExecApiVersion::V1), want);
}

#[test]
fn insert_after_nested_sequence_value() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: aws\n      args:\n      - eks\n      - get-token\nextra: 1\n",
    );
    let want = src.replace(
        "      - get-token\n",
        "      - get-token\n      interactiveMode: IfAvailable\n",
    );
    assert_eq!(fix(&src), want);
}

#[test]
fn crlf_bom_and_no_final_newline() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      command: aws\n      apiVersion: client.authentication.k8s.io/v1",
    )
    .replace('\n', "\r\n");
    let src = format!("\u{feff}{src}");
    let want = format!("{src}\r\n      interactiveMode: IfAvailable");
    let got = fix(&src);
    assert_eq!(got, want);
    assert!(got.starts_with('\u{feff}'));
    assert!(!got.contains("\r\r"));
    // Every line break is still CRLF.
    assert_eq!(got.matches('\n').count(), got.matches("\r\n").count());
}

#[test]
fn anchored_exec_shared_by_two_users_is_fixed_once() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec: &eks\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n- name: v\n  user:\n    exec: *eks\n",
    );
    let want = src.replace("v1alpha1", "v1beta1");
    assert_eq!(fix(&src), want);
    let plan = plan_bytes(Path::new("t"), src.as_bytes(), &RuleOptions::default()).unwrap();
    // Both users are reported, one edit is made.
    assert_eq!(machine_independent(&plan.findings).len(), 2);
    assert_eq!(plan.edits.len(), 1);
}

#[test]
fn anchored_scalar_keeps_its_anchor() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: &ver client.authentication.k8s.io/v1alpha1\n      command: aws\n- name: v\n  user:\n    exec:\n      apiVersion: *ver\n      command: aws\n",
    );
    let want = src.replace(
        "&ver client.authentication.k8s.io/v1alpha1",
        "&ver client.authentication.k8s.io/v1beta1",
    );
    assert_eq!(fix(&src), want);
}

#[test]
fn non_ascii_text_before_the_edit_does_not_shift_it() {
    // Multi-byte characters (and a block scalar holding them) before the value: byte spans
    // must stay exact where character counts would drift.
    let src = with_users(
        "# Größe: ☸ Kubernetes — ünïcödé\nusers:\n- name: ☸-prod\n  user:\n    exec:\n      installHint: |\n        Installez « aws » — ça marche ✓\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n",
    );
    let want = src.replace("v1alpha1", "v1beta1");
    assert_eq!(fix(&src), want);
}

#[test]
fn tagged_value_and_document_markers() {
    let src = format!(
        "---\n{}...\n",
        with_users(
            "users:\n- name: u\n  user:\n    exec:\n      apiVersion: !!str client.authentication.k8s.io/v1alpha1\n      command: aws\n",
        )
    );
    let want = src.replace(
        "!!str client.authentication.k8s.io/v1alpha1",
        "!!str client.authentication.k8s.io/v1beta1",
    );
    assert_eq!(fix(&src), want);
}

#[test]
fn healthy_file_is_untouched() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: aws\n",
    );
    let plan = plan_bytes(Path::new("t"), src.as_bytes(), &RuleOptions::default()).unwrap();
    assert!(plan.new_text.is_none());
    assert!(machine_independent(&plan.findings).is_empty());
}

/// The findings, less the info that this machine's aws-cli (on the test's PATH) has a version
/// its install layout does not tell (issue #12: kubefix no longer runs `aws --version`).
fn machine_independent(findings: &[kubefix::rules::Finding]) -> Vec<&kubefix::rules::Finding> {
    findings
        .iter()
        .filter(|f| !(f.rule == "exec-plugin-version" && f.severity == Severity::Info))
        .collect()
}

#[test]
fn second_run_is_a_noop() {
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n",
    );
    let once = fix_with(&src, ExecApiVersion::V1);
    let plan = plan_bytes(
        Path::new("t"),
        once.as_bytes(),
        &RuleOptions {
            exec_api_version: ExecApiVersion::V1,
            ..RuleOptions::default()
        },
    )
    .unwrap();
    assert!(plan.new_text.is_none(), "second run changed:\n{once}");
}

#[test]
fn empty_interactive_mode_value_is_filled_in_place() {
    // client-go treats `interactiveMode:` (null) like a missing key; v1 requires one.
    let src = with_users(
        "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      interactiveMode:\n      command: aws\n",
    );
    let want = src.replace("interactiveMode:\n", "interactiveMode: IfAvailable\n");
    assert_eq!(fix(&src), want);
}

mod structural_edits {
    use kubefix::yaml::{
        equivalent, insert_entry, remove_entry, replace_entry, Document, NewValue, Patch,
    };

    fn apply(src: &str, f: impl Fn(&Document<'_>) -> kubefix::yaml::Change) -> String {
        let doc = Document::parse(src).unwrap();
        let change = f(&doc);
        let mut p = Patch::new();
        p.push(change.edit.clone());
        let out = p.apply(src).unwrap();
        let new = Document::parse(&out).unwrap_or_else(|e| panic!("{e}\n{out}"));
        equivalent(&doc, &new, &[change.intent]).unwrap_or_else(|e| panic!("{e}\n{out}"));
        out
    }

    fn exec_value() -> NewValue {
        NewValue::Map(vec![
            (
                "apiVersion".into(),
                NewValue::str("client.authentication.k8s.io/v1beta1"),
            ),
            ("command".into(), NewValue::str("gke-gcloud-auth-plugin")),
            ("args".into(), NewValue::List(vec![NewValue::str("--flag")])),
            (
                "env".into(),
                NewValue::List(vec![NewValue::Map(vec![
                    ("name".into(), NewValue::str("A")),
                    ("value".into(), NewValue::str("true")),
                ])]),
            ),
            ("provideClusterInfo".into(), NewValue::Bool(true)),
        ])
    }

    #[test]
    fn replace_block_entry_in_place_keeps_neighbours_and_comments() {
        let src = "users:\n- name: gke\n  user:\n    # legacy\n    auth-provider:\n      config:\n        access-token: x\n        cmd-path: /usr/bin/gcloud\n      name: gcp  # old\n    username: me\n";
        let out = apply(src, |doc| {
            let users = doc.get(doc.root.unwrap(), "users").unwrap();
            let item = doc.items(users).unwrap()[0];
            let user = doc.get(item, "user").unwrap();
            replace_entry(doc, user, "auth-provider", "exec", &exec_value()).unwrap()
        });
        assert_eq!(
            out,
            // The comment inside the replaced block (`# old`) moves above the new one.
            "users:\n- name: gke\n  user:\n    # legacy\n    # old\n    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: gke-gcloud-auth-plugin\n      args:\n      - --flag\n      env:\n      - name: A\n        value: \"true\"\n      provideClusterInfo: true\n    username: me\n"
        );
    }

    #[test]
    fn replace_flow_entry() {
        let src = "u: {auth-provider: {name: gcp}, username: me}\n";
        let out = apply(src, |doc| {
            let u = doc.get(doc.root.unwrap(), "u").unwrap();
            replace_entry(doc, u, "auth-provider", "exec", &exec_value()).unwrap()
        });
        assert_eq!(
            out,
            "u: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: gke-gcloud-auth-plugin, args: [--flag], env: [{name: A, value: \"true\"}], provideClusterInfo: true}, username: me}\n"
        );
    }

    #[test]
    fn insert_nested_block_with_four_space_indentation() {
        let src = "user:\n    token: x\n    extra:\n        a: 1\n";
        let out = apply(src, |doc| {
            let u = doc.get(doc.root.unwrap(), "user").unwrap();
            insert_entry(
                doc,
                u,
                "exec",
                &NewValue::Map(vec![("command".into(), NewValue::str("kubelogin"))]),
            )
            .unwrap()
        });
        assert_eq!(out, "user:\n    token: x\n    extra:\n        a: 1\n    exec:\n        command: kubelogin\n");
    }

    #[test]
    fn remove_entry_block_flow_and_last_line() {
        let src = "c:\n  insecure-skip-tls-verify: true # why\n  server: https://x\n";
        let out = apply(src, |doc| {
            let c = doc.get(doc.root.unwrap(), "c").unwrap();
            remove_entry(doc, c, "insecure-skip-tls-verify").unwrap()
        });
        assert_eq!(out, "c:\n  server: https://x\n");
        let src = "c:\n  server: https://x\n  insecure-skip-tls-verify: true";
        let out = apply(src, |doc| {
            let c = doc.get(doc.root.unwrap(), "c").unwrap();
            remove_entry(doc, c, "insecure-skip-tls-verify").unwrap()
        });
        assert_eq!(out, "c:\n  server: https://x");
        let src = "c: {server: https://x, insecure-skip-tls-verify: true}\n";
        let out = apply(src, |doc| {
            let c = doc.get(doc.root.unwrap(), "c").unwrap();
            remove_entry(doc, c, "insecure-skip-tls-verify").unwrap()
        });
        assert_eq!(out, "c: {server: https://x}\n");
        let src = "c: {insecure-skip-tls-verify: true, server: https://x}\n";
        let out = apply(src, |doc| {
            let c = doc.get(doc.root.unwrap(), "c").unwrap();
            remove_entry(doc, c, "insecure-skip-tls-verify").unwrap()
        });
        assert_eq!(out, "c: {server: https://x}\n");
    }
}
