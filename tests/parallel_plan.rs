//! Big files are planned on two threads (the repaired text is verified on one while the schema
//! check and the report-only rules run on the other); small ones on one. Both must give the
//! same answer. Each sample in `testdata/` is planned as it is and with a comment block in
//! front of it that takes it over the two-thread threshold: the findings, errors and repaired
//! text must be the same, shifted by the padding.

use std::path::{Path, PathBuf};

use kubefix::error::Error;
use kubefix::plan::{plan_bytes, FilePlan};
use kubefix::rules::RuleOptions;

/// Lines of padding: 4,608 lines of 64 bytes is 288 KiB, over the 256 KiB threshold.
const PAD_LINES: usize = 4608;

fn padding(newline: &str) -> String {
    let line = format!("# {}.{newline}", "padding ".repeat(7).trim_end());
    let line = format!("{}{line}", " ".repeat(64 - line.len()));
    assert_eq!(line.len(), 64);
    line.repeat(PAD_LINES)
}

/// The padding for `text`, in its own line ending (kubefix writes new lines in the file's).
fn padding_for(text: &[u8]) -> String {
    let crlf = text
        .iter()
        .position(|&b| b == b'\n')
        .is_some_and(|i| i > 0 && text[i - 1] == b'\r');
    padding(if crlf { "\r\n" } else { "\n" })
}

/// `text` with the padding in front (after a byte-order mark, which must stay first).
fn padded(text: &[u8]) -> Vec<u8> {
    let bom = if text.starts_with("\u{feff}".as_bytes()) {
        3
    } else {
        0
    };
    let mut out = text[..bom].to_vec();
    out.extend_from_slice(padding_for(text).as_bytes());
    out.extend_from_slice(&text[bom..]);
    out
}

fn samples() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["testdata", "testdata/bad"] {
        for e in std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yaml") {
                files.push(p);
            }
        }
    }
    files.sort();
    assert!(files.len() > 20, "the samples were not found");
    files
}

/// What a plan says, with line numbers and byte offsets shifted back by the padding.
fn summary(plan: &FilePlan, lines: usize, bytes: usize) -> String {
    // Findings about the whole file (its mode) sit on line 1 in both.
    let line = |l: usize| if l > lines { l - lines } else { l };
    let mut out = String::new();
    for f in &plan.findings {
        out += &format!(
            "{} {:?} {:?} {} line {} fix={}\n",
            f.rule,
            f.code,
            f.entry.as_ref().map(|e| e.to_string()),
            shift_lines(&f.message, lines),
            line(f.line),
            f.fix.is_some()
        );
    }
    for (label, spans) in [("old", &plan.secrets_old), ("new", &plan.secrets_new)] {
        let shifted: Vec<_> = spans
            .iter()
            .map(|r| r.start - bytes..r.end - bytes)
            .collect();
        out += &format!("secrets {label} {shifted:?}\n");
    }
    for row in &plan.expiry {
        out += &format!(
            "expiry {} {:?} line {} {:?} {:?} {:?} {:?}\n",
            row.entry,
            row.kind,
            line(row.line),
            row.status,
            row.expires,
            row.renewed_until,
            row.detail
        );
    }
    out += &format!("mode {:?} -> {:?}\n", plan.old_mode, plan.new_mode);
    out
}

fn error_summary(e: &Error, lines: usize) -> String {
    let text = match e {
        Error::Invalid {
            line,
            column,
            message,
            ..
        } => format!("invalid {}:{column}: {message}", line - lines),
        other => other.to_string(),
    };
    shift_lines(&text, lines)
}

/// `text` with every "line N" in it shifted back by `lines` (messages name other lines
/// too: "first defined at line 17").
fn shift_lines(text: &str, lines: usize) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("line ") {
        out += &rest[..i + 5];
        rest = &rest[i + 5..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if let Ok(n) = rest[..digits].parse::<usize>() {
            out += &n.saturating_sub(lines).to_string();
            rest = &rest[digits..];
        }
    }
    out + rest
}

fn compare(path: &Path, options: &RuleOptions) -> usize {
    let text = std::fs::read(path).unwrap();
    let big = padded(&text);
    let pad = padding_for(&text);
    let small = plan_bytes(path, &text, options);
    let large = plan_bytes(path, &big, options);
    match (small, large) {
        (Ok(s), Ok(l)) => {
            assert_eq!(
                summary(&s, 0, 0),
                summary(&l, PAD_LINES, pad.len()),
                "{}",
                path.display()
            );
            let expected = s.new_text.as_ref().map(|t| {
                let t = t.as_bytes();
                String::from_utf8(padded(t)).unwrap()
            });
            let differ_at =
                |a: &str, b: &str| a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
            match (&expected, &l.new_text) {
                (Some(a), Some(b)) => assert!(
                    a == b,
                    "{}: the repaired texts differ from byte {}",
                    path.display(),
                    differ_at(a, b)
                ),
                (a, b) => assert_eq!(a.is_some(), b.is_some(), "{}", path.display()),
            }
            s.fixable()
        }
        (Err(s), Err(l)) => {
            // An empty file padded with comments is still empty of content, but it is no
            // longer blank, so the two are reported differently; both are errors.
            if !path.ends_with("empty.yaml") && !path.ends_with("whitespace.yaml") {
                assert_eq!(
                    error_summary(&s, 0),
                    error_summary(&l, PAD_LINES),
                    "{}",
                    path.display()
                );
            }
            0
        }
        (s, l) => panic!(
            "{}: small and big plans disagree: {:?} vs {:?}",
            path.display(),
            s.map(|p| p.findings.len()),
            l.map(|p| p.findings.len())
        ),
    }
}

#[test]
fn every_sample_plans_the_same_on_one_thread_and_on_two() {
    let fixable: usize = samples()
        .iter()
        .map(|p| compare(p, &RuleOptions::default()))
        .sum();
    // The comparison covered repairs, not just reports.
    assert!(fixable >= 10, "only {fixable} fixes among the samples");
}

#[test]
fn with_exec_v1_too() {
    let options = RuleOptions {
        exec_api_version: kubefix::rules::ExecApiVersion::V1,
        ..RuleOptions::default()
    };
    for p in samples() {
        compare(&p, &options);
    }
}

/// An invalid file is reported as invalid even when it also holds a fixable entry, and even
/// though the repair is verified on another thread at the same time.
#[test]
fn an_invalid_big_file_is_an_error_not_a_repair() {
    let text = format!(
        "{}apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\ncurrent-context: [not, a, string]\nusers:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n",
        padding("\n")
    );
    let err = plan_bytes(
        Path::new("big.yaml"),
        text.as_bytes(),
        &RuleOptions::default(),
    )
    .expect_err("an invalid kubeconfig must not be planned");
    match &err {
        Error::Invalid { line, message, .. } => {
            assert_eq!(*line, PAD_LINES + 5, "{err}");
            assert!(message.contains("not a valid kubeconfig"), "{err}");
        }
        other => panic!("expected an invalid-file error, got {other}"),
    }
}
