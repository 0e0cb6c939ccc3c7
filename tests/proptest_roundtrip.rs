//! Property tests: generated kubeconfigs with random formatting (indentation, sequence style,
//! quoting, flow or block exec, comments, blank lines, CRLF, final newline, BOM). For each:
//! the plan succeeds, every byte outside the edited spans is unchanged, the result carries no
//! v1alpha1 exec, and a second run changes nothing.

use std::path::Path;

use kubefix::plan::plan_bytes;
use kubefix::rules::{ExecApiVersion, RuleOptions};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Format {
    indent: usize,
    indented_seq: bool,
    crlf: bool,
    final_newline: bool,
    bom: bool,
    comments: bool,
}

#[derive(Debug, Clone)]
struct UserSpec {
    version: u8, // 0 = v1alpha1, 1 = v1beta1, 2 = v1 with mode, 3 = v1 without mode
    quote: u8,   // 0 plain, 1 single, 2 double
    flow: bool,
    args: bool,
    comment_after: bool,
}

fn user_spec() -> impl Strategy<Value = UserSpec> {
    (0u8..4, 0u8..3, any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(version, quote, flow, args, comment_after)| UserSpec {
            version,
            quote,
            flow,
            args,
            comment_after,
        },
    )
}

fn format() -> impl Strategy<Value = Format> {
    (
        prop_oneof![Just(2usize), Just(4usize), Just(3usize)],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(indent, indented_seq, crlf, final_newline, bom, comments)| Format {
                indent,
                indented_seq,
                crlf,
                final_newline,
                bom,
                comments,
            },
        )
}

fn quote(s: &str, q: u8) -> String {
    match q {
        1 => format!("'{s}'"),
        2 => format!("\"{s}\""),
        _ => s.to_string(),
    }
}

fn render(f: &Format, users: &[UserSpec]) -> String {
    let i = " ".repeat(f.indent);
    let dash = if f.indented_seq {
        format!("{i}- ")
    } else {
        "- ".to_string()
    };
    // Column of keys inside a sequence item.
    let item = " ".repeat(dash.len());
    let mut s = String::new();
    if f.comments {
        s.push_str("# generated kubeconfig\n\n");
    }
    s.push_str("apiVersion: v1\nkind: Config\nclusters:\n");
    s.push_str(&format!(
        "{dash}name: c\n{item}cluster:\n{item}{i}server: https://127.0.0.1:6443\n"
    ));
    s.push_str("contexts:\n");
    for (n, _) in users.iter().enumerate() {
        s.push_str(&format!(
            "{dash}name: ctx{n}\n{item}context:\n{item}{i}cluster: c\n{item}{i}user: u{n}\n"
        ));
    }
    s.push_str("current-context: ctx0\n");
    if f.comments {
        s.push_str("\n# users follow\n");
    }
    s.push_str("users:\n");
    for (n, u) in users.iter().enumerate() {
        let version = match u.version {
            0 => "client.authentication.k8s.io/v1alpha1",
            1 => "client.authentication.k8s.io/v1beta1",
            _ => "client.authentication.k8s.io/v1",
        };
        let v = quote(version, u.quote);
        let comment = if u.comment_after && f.comments {
            "  # note"
        } else {
            ""
        };
        s.push_str(&format!("{dash}name: u{n}\n{item}user:\n"));
        if u.flow {
            let mut parts = vec![format!("apiVersion: {v}"), "command: aws".to_string()];
            if u.args {
                parts.push("args: [eks, get-token, --cluster-name, demo]".into());
            }
            if u.version == 2 {
                parts.push("interactiveMode: Never".into());
            }
            s.push_str(&format!(
                "{item}{i}exec: {{{}}}{comment}\n",
                parts.join(", ")
            ));
        } else {
            let b = format!("{item}{i}{i}");
            s.push_str(&format!(
                "{item}{i}exec:\n{b}apiVersion: {v}{comment}\n{b}command: aws\n"
            ));
            if u.args {
                let seq = if f.indented_seq {
                    format!("{b}{i}- ")
                } else {
                    format!("{b}- ")
                };
                s.push_str(&format!("{b}args:\n{seq}eks\n{seq}get-token\n"));
            }
            if u.version == 2 {
                s.push_str(&format!("{b}interactiveMode: Never\n"));
            }
        }
        if f.comments && n % 2 == 0 {
            s.push('\n');
        }
    }
    if !f.final_newline {
        while s.ends_with('\n') {
            s.pop();
        }
    }
    if f.crlf {
        s = s.replace('\n', "\r\n");
    }
    if f.bom {
        s.insert(0, '\u{feff}');
    }
    s
}

fn check(src: &str, target: ExecApiVersion) -> Result<(), TestCaseError> {
    let options = RuleOptions {
        exec_api_version: target,
        ..RuleOptions::default()
    };
    let plan = plan_bytes(Path::new("gen.yaml"), src.as_bytes(), &options)
        .map_err(|e| TestCaseError::fail(format!("plan failed: {e}\n{src}")))?;
    let Some(new) = plan.new_text.as_deref() else {
        prop_assert!(!src.contains("v1alpha1"), "v1alpha1 left unfixed:\n{src}");
        return Ok(());
    };
    // Bytes outside the edits are identical, in order.
    let mut at_old = 0;
    let mut at_new = 0;
    for e in &plan.edits {
        let keep = &src[at_old..e.range.start];
        prop_assert_eq!(&new[at_new..at_new + keep.len()], keep);
        at_new += keep.len();
        prop_assert_eq!(
            &new[at_new..at_new + e.replacement.len()],
            e.replacement.as_str()
        );
        at_new += e.replacement.len();
        at_old = e.range.end;
    }
    prop_assert_eq!(&new[at_new..], &src[at_old..]);
    prop_assert!(!new.contains("v1alpha1"));
    if src.contains("\r\n") {
        prop_assert_eq!(new.matches('\n').count(), new.matches("\r\n").count());
    }
    prop_assert_eq!(new.starts_with('\u{feff}'), src.starts_with('\u{feff}'));
    prop_assert_eq!(new.ends_with('\n'), src.ends_with('\n'));
    // Idempotent.
    let again = plan_bytes(Path::new("gen.yaml"), new.as_bytes(), &options)
        .map_err(|e| TestCaseError::fail(format!("re-plan failed: {e}\n{new}")))?;
    prop_assert!(again.new_text.is_none(), "second run changed:\n{}", new);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn random_formatting_survives_repair(f in format(), users in prop::collection::vec(user_spec(), 1..5)) {
        let src = render(&f, &users);
        check(&src, ExecApiVersion::V1beta1)?;
        check(&src, ExecApiVersion::V1)?;
    }
}
