//! Hostile and broken input never panics, never hangs and never writes: each case gets a
//! clear message (with `file:line:column` where there is a position) and exit 2. Also: no
//! secret value in any error message, no stack overflow at the parser's nesting limits, and
//! the fuzzing oracle (`fuzz/oracle.rs`) over the fuzz regression corpus
//! (`tests/fuzz_regressions/`), every fixture, and generated mutations of them.

mod support;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use proptest::prelude::*;
use support::{dir_names as names, testdata};

#[path = "../fuzz/oracle.rs"]
mod oracle;

fn kubefix() -> Command {
    let mut cmd = Command::cargo_bin("kubefix").unwrap();
    cmd.env_remove("KUBECONFIG")
        .env_remove("SUDO_USER")
        .env("HOME", "/nonexistent/kubefix-hostile-test-home")
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(30));
    cmd
}

/// Does `text` contain `<path>:<line>:<column>:`?
fn has_position(text: &str, path: &str) -> bool {
    let needle = format!("{path}:");
    text.match_indices(&needle).any(|(i, _)| {
        let mut parts = text[i + needle.len()..].splitn(3, ':');
        let (Some(l), Some(c), Some(_)) = (parts.next(), parts.next(), parts.next()) else {
            return false;
        };
        !l.is_empty()
            && !c.is_empty()
            && l.bytes().all(|b| b.is_ascii_digit())
            && c.bytes().all(|b| b.is_ascii_digit())
    })
}

const KUBECONFIG_HEAD: &str = "apiVersion: v1\nkind: Config\n";

/// A kubeconfig whose user needs the exec fix, with `extra` appended at the top level.
fn fixable_with(extra: &str) -> String {
    format!(
        "{KUBECONFIG_HEAD}clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n\
         users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n      command: aws\n\
         contexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\n{extra}"
    )
}

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// A piece of the expected message.
    says: &'static str,
    /// Whether the message carries `file:line:column`.
    positioned: bool,
}

fn case(
    name: &'static str,
    bytes: impl Into<Vec<u8>>,
    says: &'static str,
    positioned: bool,
) -> Case {
    Case {
        name,
        bytes: bytes.into(),
        says,
        positioned,
    }
}

fn cases() -> Vec<Case> {
    let n = 10_000;
    let mut block_map = String::from(KUBECONFIG_HEAD);
    block_map.push_str("preferences:\n");
    for i in 1..=n {
        block_map.push_str(&" ".repeat(i));
        block_map.push_str("a:\n");
    }
    let mut merge_bomb = String::from(KUBECONFIG_HEAD);
    merge_bomb.push_str("a0: &a0 {x: 1}\n");
    for i in 1..40 {
        merge_bomb.push_str(&format!("a{i}: &a{i} {{<<: [*a{}, *a{}]}}\n", i - 1, i - 1));
    }
    merge_bomb.push_str("users:\n- name: u\n  user:\n    <<: *a39\n");
    vec![
        // Empty, blank, BOM-only and comment-only files are read as kubectl reads them (an
        // empty config; tests/cli.rs); a tab starting a blank line is refused, as by kubectl.
        case(
            "whitespace-with-tab",
            " \n\t\n   \r\n",
            "yaml: line 2: found character that cannot start any token",
            true,
        ),
        case(
            "nul",
            format!("{KUBECONFIG_HEAD}users: []\0\n"),
            "NUL byte",
            true,
        ),
        case(
            "invalid-utf8",
            [KUBECONFIG_HEAD.as_bytes(), b"users: \xff\xfe\n"].concat(),
            "not valid UTF-8",
            true,
        ),
        case(
            "flow-seq-10000",
            format!(
                "{KUBECONFIG_HEAD}users: {}{}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
            "recursion limit",
            true,
        ),
        case(
            "flow-map-10000",
            format!(
                "{KUBECONFIG_HEAD}users: {}1{}\n",
                "{a: ".repeat(n),
                "}".repeat(n)
            ),
            "recursion limit",
            true,
        ),
        case(
            "block-seq-10000",
            format!("{KUBECONFIG_HEAD}users:\n{}x\n", "- ".repeat(n)),
            "recursion limit",
            true,
        ),
        case("block-map-10000", block_map, "recursion limit", true),
        case(
            "alias-bomb",
            fs::read(testdata("bad/alias-bomb.yaml")).unwrap(),
            "alias bomb",
            true,
        ),
        case("merge-key-bomb", merge_bomb, "alias bomb", true),
        case(
            "recursive-alias",
            format!("{KUBECONFIG_HEAD}users: &x\n- name: u\n  user: {{<<: *x}}\n"),
            "recursive alias",
            true,
        ),
        case(
            "unknown-alias",
            format!("{KUBECONFIG_HEAD}users: *nope\n"),
            "unknown anchor",
            true,
        ),
        // Duplicate keys and later YAML documents are read as kubectl reads them (the last
        // key wins, the first document only; tests/parity.rs). A tag go-yaml cannot decode
        // fails kubectl wherever it is.
        case(
            "undecodable-tag",
            format!("{KUBECONFIG_HEAD}x-unread: !!bool maybe\n"),
            "cannot decode !!str `…` as a !!bool",
            true,
        ),
        case(
            "tabs",
            format!("{KUBECONFIG_HEAD}users:\n- name: u\n\tuser: {{}}\n"),
            "tab",
            true,
        ),
        case(
            "deployment",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n",
            "not a kubeconfig",
            true,
        ),
        case("top-level-scalar", "hello\n", "top level", true),
        case("top-level-list", "- a\n- b\n", "top level", true),
        case(
            "clusters-is-a-map",
            format!("{KUBECONFIG_HEAD}clusters: {{a: 1}}\n"),
            "must be a list",
            true,
        ),
        case(
            "server-is-a-number",
            format!("{KUBECONFIG_HEAD}clusters:\n- name: c\n  cluster:\n    server: 6443\n"),
            "must be a string",
            true,
        ),
        case(
            "unterminated-quote",
            format!("{KUBECONFIG_HEAD}current-context: \"abc\n"),
            "",
            true,
        ),
        case(
            "control-character",
            format!("{KUBECONFIG_HEAD}current-context: a\u{7}b\n"),
            "",
            true,
        ),
    ]
}

#[track_caller]
fn expect_refused(out: &Output, name: &str, file: &Path, case: &Case) {
    let se = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {se}");
    assert!(se.starts_with("kubefix: error: "), "{name}: {se}");
    assert!(!se.contains("panicked"), "{name}: {se}");
    assert!(
        se.contains(case.says),
        "{name}: wanted {:?} in: {se}",
        case.says
    );
    if case.positioned {
        assert!(
            has_position(&se, &file.display().to_string()),
            "{name}: no position: {se}"
        );
    }
}

#[test]
fn hostile_inputs_are_refused_cleanly_and_nothing_is_written() {
    let cases = cases();
    let start = Instant::now();
    for c in &cases {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        fs::write(&file, &c.bytes).unwrap();
        for mode in ["--dry-run", "--check", "--apply"] {
            let t = Instant::now();
            let out = kubefix()
                .arg("--kubeconfig")
                .arg(&file)
                .arg(mode)
                .output()
                .unwrap();
            expect_refused(&out, c.name, &file, c);
            assert!(t.elapsed() < Duration::from_secs(10), "{}: slow", c.name);
        }
        let out = kubefix()
            .arg("--kubeconfig")
            .arg(&file)
            .args(["--apply", "-o", "json"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", c.name);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{}: stdout is not JSON: {e}", c.name));
        assert_eq!(v["errors"].as_array().unwrap().len(), 1, "{}", c.name);
        assert_eq!(
            fs::read(&file).unwrap(),
            c.bytes,
            "{}: file changed",
            c.name
        );
        assert_eq!(
            names(dir.path()),
            ["config"],
            "{}: something written",
            c.name
        );
    }
    eprintln!(
        "{} hostile inputs x 4 runs in {:?}",
        cases.len(),
        start.elapsed()
    );
}

/// Over the size limit: refused before reading (a sparse 300 MB file reads nothing), with
/// the limit in the message; a device that never ends is cut off at the limit.
#[test]
fn files_over_256_mib_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    let f = fs::File::create(&file).unwrap();
    f.set_len(300 * 1024 * 1024).unwrap();
    drop(f);
    for mode in ["--dry-run", "--apply"] {
        let t = Instant::now();
        let out = kubefix()
            .arg("--kubeconfig")
            .arg(&file)
            .arg(mode)
            .output()
            .unwrap();
        let se = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{se}");
        assert!(se.contains("300.0 MiB") && se.contains("256 MiB"), "{se}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "read it anyway? {:?}",
            t.elapsed()
        );
    }
    assert_eq!(names(dir.path()), ["config"]);
    // Under the limit, 100 MB of NUL bytes is read and refused as binary, nothing written.
    fs::File::create(&file)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let out = kubefix()
        .arg("--kubeconfig")
        .arg(&file)
        .arg("--apply")
        .output()
        .unwrap();
    let se = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{se}");
    assert!(se.contains("NUL byte") && se.contains(":1:1:"), "{se}");
    assert_eq!(names(dir.path()), ["config"]);
    if Path::new("/dev/zero").exists() {
        let out = kubefix()
            .args(["--kubeconfig", "/dev/zero"])
            .output()
            .unwrap();
        let se = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{se}");
        assert!(se.contains("256 MiB"), "{se}");
    }
}

/// Secret values never appear in an error message, wherever the error is.
#[test]
fn secrets_never_appear_in_error_messages() {
    const S: &str = "84629175301846291753";
    let user = |body: &str| format!("{KUBECONFIG_HEAD}users:\n- name: u\n  user:\n{body}\n");
    let inputs = [
        user(&format!("    token: {S}")),
        user(&format!("    password: {S}")),
        user(&format!("    client-key-data: {S}")),
        user(&format!("    client-certificate-data: {S}")),
        user(&format!(
            "    auth-provider:\n      name: oidc\n      config:\n        client-secret: {S}\n        id-token: {S}1"
        )),
        user(&format!(
            "    exec:\n      apiVersion: client.authentication.k8s.io/v1beta1\n      command: x\n      env:\n      - name: A\n        value: {S}"
        )),
        // Syntax errors inside or right after a secret value.
        user(&format!("    token: \"{S}\\q\"")),
        user(&format!("    token: \"{S}")),
        user(&format!("    token: '{S}")),
        user(&format!("    token: {S}\n    token: {S}2")),
        user(&format!("    token: {S}: {S}")),
        user(&format!("    token: [{S}")),
        user(&format!("    password: {S}\n\t  x: 1")),
        user(&format!("    token: |\n      {S}\n     bad: {S}")),
        user(&format!("    token: *{S}")),
    ];
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config");
    for (i, input) in inputs.iter().enumerate() {
        fs::write(&file, input).unwrap();
        for extra in [
            &[][..],
            &["-o", "json"][..],
            &["--apply"][..],
            &["--show-secrets"][..],
        ] {
            let out = kubefix()
                .arg("--kubeconfig")
                .arg(&file)
                .args(extra)
                .output()
                .unwrap();
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(out.status.code(), Some(2), "input {i} {extra:?}: {all}");
            assert!(
                !all.contains(S),
                "input {i} {extra:?} leaks the secret:\n{input}\n---\n{all}"
            );
        }
    }
}

/// The verify walk (`yaml::verify::equivalent`) recurses through the tree, about 2 KiB of
/// stack per level in a debug build; the parser stops at 256 levels, so it needs at most
/// ~0.5 MiB. It must fit in 1 MiB (half of a default Rust thread, an eighth of the main
/// thread's 8 MiB), and one level past the parser's limit must be a clean error.
#[test]
fn deepest_accepted_nesting_fits_a_small_stack() {
    std::thread::Builder::new()
        .stack_size(1024 * 1024)
        .spawn(|| {
            let options = kubefix::rules::RuleOptions::default();
            let path = Path::new("deep.yaml");
            let mut accepted = 0;
            for depth in [100, 200, 240, 250, 254, 255, 256, 300, 1000] {
                for (open, close) in [("[", "]"), ("{a: ", "}")] {
                    let extra = format!("deep: {}x{}\n", open.repeat(depth), close.repeat(depth));
                    let text = fixable_with(&extra);
                    match kubefix::plan::plan_bytes(path, text.as_bytes(), &options) {
                        Ok(plan) => {
                            assert!(plan.new_text.is_some(), "depth {depth}: no fix?");
                            accepted = accepted.max(depth);
                        }
                        Err(e) => assert!(e.to_string().contains("recursion limit"), "{e}"),
                    }
                    oracle::check(text.as_bytes());
                }
                // Block style.
                let mut extra = String::from("deep:\n");
                for i in 1..=depth {
                    extra.push_str(&" ".repeat(i));
                    extra.push_str("a:\n");
                }
                let text = fixable_with(&extra);
                let _ = kubefix::plan::plan_bytes(path, text.as_bytes(), &options);
                oracle::check(text.as_bytes());
            }
            assert!(
                accepted >= 200,
                "deep but legal nesting refused ({accepted})"
            );
        })
        .unwrap()
        .join()
        .expect("no stack overflow or panic");
}

fn regression_inputs() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions"),
        testdata(""),
        testdata("bad"),
    ] {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_file() {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// Every saved fuzz input (crashes found, and the minimized corpus) and every fixture.
#[test]
fn fuzz_regressions_pass_the_oracle() {
    let inputs = regression_inputs();
    assert!(inputs.len() > 20);
    for (name, bytes) in &inputs {
        let r = std::panic::catch_unwind(|| oracle::check(bytes));
        assert!(r.is_ok(), "oracle failed on {name}");
    }
}

fn fixtures() -> Vec<Vec<u8>> {
    regression_inputs()
        .into_iter()
        .filter(|(n, _)| n.contains("/testdata/") && !n.contains("/bad/") && n.ends_with(".yaml"))
        .map(|(_, b)| b)
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, failure_persistence: None, ..ProptestConfig::default() })]

    /// Arbitrary bytes.
    #[test]
    fn oracle_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        oracle::check(&bytes);
    }

    /// Fixtures with a few bytes overwritten, inserted or deleted: mostly near-valid YAML,
    /// where the interesting paths are.
    #[test]
    fn oracle_on_mutated_fixtures(
        pick in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..6),
    ) {
        let all = fixtures();
        let mut bytes = all[pick.index(all.len())].clone();
        for (at, kind, b) in edits {
            if bytes.is_empty() { break; }
            let i = at.index(bytes.len());
            const ALPHABET: &[u8] = b" :-[]{}&*!|>'\"#\n\t,?x0";
            let b = ALPHABET[b as usize % ALPHABET.len()];
            match kind {
                0 => bytes[i] = b,
                1 => bytes.insert(i, b),
                _ => { bytes.remove(i); }
            }
        }
        oracle::check(&bytes);
    }
}
