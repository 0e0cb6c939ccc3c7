//! The release layout (#14): `scripts/dist.sh` packages the already-built test binary (no
//! release build here) and the test checks the archive, its checksum, the completions and man
//! page inside, the filled krew manifest and the `cargo binstall` metadata.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubefix::yaml::Document;

const EPOCH: &str = "1700000000"; // 2023-11-14 22:13:20 UTC
const BASE_URL: &str = "https://releases.example.test/kubefix/v0.1.0";

fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

fn host() -> String {
    let o = Command::new("rustc").arg("-vV").output().unwrap();
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `scripts/dist.sh --binary <the test binary> --out OUT` with a fixed SOURCE_DATE_EPOCH.
fn dist(out: &Path, extra: &[&str]) -> Output {
    let o = Command::new("bash")
        .arg("scripts/dist.sh")
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_kubefix"))
        .arg("--out")
        .arg(out)
        .args(extra)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .output()
        .unwrap();
    assert!(o.status.success(), "dist.sh failed:\n{}", text(&o));
    o
}

fn run(cmd: &mut Command) -> Output {
    let o = cmd.output().unwrap();
    assert!(o.status.success(), "{cmd:?}:\n{}", text(&o));
    o
}

/// A value of the manifest by its path of map keys.
fn at<'a>(doc: &'a Document<'a>, node: kubefix::yaml::NodeId, path: &[&str]) -> &'a str {
    let mut id = node;
    for key in path {
        id = doc
            .get(id, key)
            .unwrap_or_else(|| panic!("manifest has no {path:?}"));
    }
    doc.scalar(id)
        .unwrap_or_else(|| panic!("{path:?} is not a scalar"))
}

#[test]
fn dist_builds_a_reproducible_archive_a_checksum_and_a_krew_manifest() {
    let host = host();
    let name = format!("kubefix-{}-{host}", version());
    let archive = format!("{name}.tar.gz");
    let out = tempfile::tempdir().unwrap();
    let o = dist(out.path(), &["--base-url", BASE_URL]);
    let listed: Vec<PathBuf> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(PathBuf::from)
        .collect();
    assert_eq!(
        listed,
        [
            out.path().join(&archive),
            out.path().join(format!("{archive}.sha256")),
            out.path().join("fix-kubeconfig.yaml"),
        ]
    );

    // The checksum file is in sha256sum's format and matches.
    let check = run(Command::new("sha256sum")
        .args(["-c", &format!("{archive}.sha256")])
        .current_dir(out.path()));
    assert_eq!(text(&check), format!("{archive}: OK\n"));
    let sum = std::fs::read_to_string(out.path().join(format!("{archive}.sha256"))).unwrap();
    let sha256 = sum.split_whitespace().next().unwrap().to_string();
    assert_eq!(sum, format!("{sha256}  {archive}\n"));

    // Every entry: sorted, owner 0/0, the one fixed date, under the top-level directory.
    let listing = run(Command::new("tar")
        .args([
            "--list",
            "--verbose",
            "--full-time",
            "--numeric-owner",
            "-zf",
        ])
        .arg(out.path().join(&archive))
        .env("TZ", "UTC"));
    let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
    let mut names = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[1], "0/0", "{line}");
        assert_eq!((fields[3], fields[4]), ("2023-11-14", "22:13:20"), "{line}");
        let mode = fields[0];
        let path = fields[5];
        let expect = if path.ends_with('/') {
            "drwxr-xr-x"
        } else if path.ends_with("/kubefix") {
            "-rwxr-xr-x"
        } else {
            "-rw-r--r--"
        };
        assert_eq!(mode, expect, "{line}");
        names.push(path.to_string());
    }
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "entries in name order");
    let expected: Vec<String> = [
        "",
        "CHANGELOG.md",
        "LICENSE-APACHE",
        "LICENSE-MIT",
        "README.md",
        "SECURITY.md",
        "complete/",
        "complete/_kubefix",
        "complete/_kubefix.ps1",
        "complete/kubefix.bash",
        "complete/kubefix.elv",
        "complete/kubefix.fish",
        "doc/",
        "doc/kubefix.1",
        "kubefix",
    ]
    .iter()
    .map(|p| format!("{name}/{p}"))
    .collect();
    assert_eq!(names, expected);

    // The same binary packaged again (another directory, a second later) is the same bytes.
    let again = tempfile::tempdir().unwrap();
    dist(again.path(), &["--base-url", BASE_URL]);
    assert_eq!(
        std::fs::read(again.path().join(&archive)).unwrap(),
        std::fs::read(out.path().join(&archive)).unwrap(),
        "the archive is not reproducible"
    );

    // What is inside.
    let unpacked = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(out.path().join(&archive))
        .arg("-C")
        .arg(unpacked.path()));
    let root = unpacked.path().join(&name);
    assert_eq!(
        std::fs::read(root.join("kubefix")).unwrap(),
        std::fs::read(env!("CARGO_BIN_EXE_kubefix")).unwrap()
    );
    for doc in [
        "README.md",
        "CHANGELOG.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "SECURITY.md",
    ] {
        assert_eq!(
            std::fs::read(root.join(doc)).unwrap(),
            std::fs::read(doc).unwrap(),
            "{doc}"
        );
    }
    check_completions(&root.join("complete"));
    check_man_page(&root.join("doc/kubefix.1"));
    check_krew_manifest(&out.path().join("fix-kubeconfig.yaml"), &host, &sha256);
    check_binstall_metadata(&host, &names);
}

/// The completion scripts are the binary's own, and each shell that is installed reads its
/// script without a syntax error.
fn check_completions(dir: &Path) {
    for (shell, file) in [
        ("bash", "kubefix.bash"),
        ("zsh", "_kubefix"),
        ("fish", "kubefix.fish"),
        ("powershell", "_kubefix.ps1"),
        ("elvish", "kubefix.elv"),
    ] {
        let generated =
            run(Command::new(env!("CARGO_BIN_EXE_kubefix")).args(["completions", shell]));
        let packed = std::fs::read(dir.join(file)).unwrap();
        assert_eq!(
            packed, generated.stdout,
            "{file} is not `completions {shell}`"
        );
        assert!(!packed.is_empty(), "{file} is empty");
    }
    for (shell, file) in [
        ("bash", "kubefix.bash"),
        ("zsh", "_kubefix"),
        ("fish", "kubefix.fish"),
    ] {
        let Some(bin) = support::require_or_skip(shell) else {
            continue;
        };
        run(Command::new(bin).arg("-n").arg(dir.join(file)));
    }
}

/// `doc/kubefix.1` is a man page: a `.TH` header, and `man` renders it without warnings.
fn check_man_page(page: &Path) {
    let roff = std::fs::read_to_string(page).unwrap();
    let th = roff
        .lines()
        .find(|l| l.starts_with(".TH "))
        .expect("a .TH header");
    assert!(th.starts_with(".TH kubefix 1"), "{th}");
    assert!(roff.contains(".SH \"EXIT STATUS\""), "{roff}");
    match support::which("man") {
        Some(man) => {
            let o = run(Command::new(man)
                .args(["-l", "--warnings"])
                .arg(page)
                .env("MANWIDTH", "80"));
            let shown = String::from_utf8_lossy(&o.stdout);
            assert!(shown.contains("EXIT STATUS"), "{shown}");
            assert!(
                o.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        None => eprintln!("skipping the man rendering: man is not installed"),
    }
}

/// The filled krew manifest: the plugin's name, version and texts, and one platform for this
/// archive with its uri, checksum, binary and files.
fn check_krew_manifest(path: &Path, host: &str, sha256: &str) {
    let yaml = std::fs::read_to_string(path).unwrap();
    assert!(!yaml.contains('@'), "a placeholder was left:\n{yaml}");
    let doc = Document::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let root = doc.root.expect("a document");
    assert_eq!(
        at(&doc, root, &["apiVersion"]),
        "krew.googlecontainertools.github.com/v1alpha2"
    );
    assert_eq!(at(&doc, root, &["kind"]), "Plugin");
    // krew's checks (internal/index/validation): the file is named after the plugin, the short
    // description is one line, every sha256 is 64 lowercase hex digits.
    let plugin = at(&doc, root, &["metadata", "name"]);
    assert_eq!(plugin, "fix-kubeconfig");
    assert_eq!(
        path.file_name().unwrap().to_str(),
        Some("fix-kubeconfig.yaml")
    );
    let spec = doc.get(root, "spec").unwrap();
    assert_eq!(at(&doc, spec, &["version"]), format!("v{}", version()));
    let short = at(&doc, spec, &["shortDescription"]);
    assert!(!short.is_empty() && !short.contains('\n'), "{short:?}");
    assert!(at(&doc, spec, &["description"]).contains("--apply"));
    let caveats = at(&doc, spec, &["caveats"]);
    assert!(
        caveats.contains("bin/kubectl_complete-fix_kubeconfig"),
        "{caveats}"
    );
    assert!(caveats.contains("bin/kubectl-fix\""), "{caveats}");
    // No homepage is known (Cargo.toml names no repository), so the line is left out.
    assert!(doc.get(spec, "homepage").is_none(), "{yaml}");

    let platforms = doc.items(doc.get(spec, "platforms").unwrap()).unwrap();
    assert_eq!(platforms.len(), 1, "{yaml}");
    let p = platforms[0];
    let arch = match host.split('-').next().unwrap() {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => panic!("no krew arch known for {other}"),
    };
    assert_eq!(at(&doc, p, &["selector", "matchLabels", "os"]), "linux");
    assert_eq!(at(&doc, p, &["selector", "matchLabels", "arch"]), arch);
    let name = format!("kubefix-{}-{host}", version());
    assert_eq!(at(&doc, p, &["uri"]), format!("{BASE_URL}/{name}.tar.gz"));
    assert_eq!(at(&doc, p, &["sha256"]), sha256);
    assert!(
        sha256.len() == 64
            && sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(at(&doc, p, &["bin"]), "kubefix");
    let files = doc.items(doc.get(p, "files").unwrap()).unwrap();
    let pairs: Vec<(&str, &str)> = files
        .iter()
        .map(|f| (at(&doc, *f, &["from"]), at(&doc, *f, &["to"])))
        .collect();
    let (kubefix, licenses) = (format!("{name}/kubefix"), format!("{name}/LICENSE-*"));
    assert_eq!(pairs, [(kubefix.as_str(), "."), (licenses.as_str(), ".")]);
}

/// `[package.metadata.binstall]` names this archive and the binary inside it.
fn check_binstall_metadata(host: &str, entries: &[String]) {
    let toml = std::fs::read_to_string("Cargo.toml").unwrap();
    let section = toml
        .split("\n[package.metadata.binstall]\n")
        .nth(1)
        .expect("a [package.metadata.binstall] table");
    let section = section.split("\n[").next().unwrap();
    let value = |key: &str| -> String {
        section
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key} = \"")))
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or_else(|| panic!("no {key} in {section}"))
            .replace("{ name }", "kubefix")
            .replace("{ version }", version())
            .replace("{ target }", host)
            .replace("{ bin }", "kubefix")
            .replace("{ binary-ext }", "")
            .replace("{ repo }", "REPO")
    };
    assert_eq!(value("pkg-fmt"), "tgz");
    assert_eq!(
        value("pkg-url"),
        format!(
            "REPO/releases/download/v{0}/kubefix-{0}-{host}.tar.gz",
            version()
        )
    );
    let bin = value("bin-dir");
    assert!(entries.contains(&bin), "{bin} is not in the archive");
}

/// Archives for two targets in one directory make one manifest with both platforms; without
/// --base-url the uris are the archives' file:// URLs. (The second "target" packages the same
/// binary: the manifest only reads the archive's name and checksum.)
#[test]
fn dist_lists_every_platform_in_the_krew_manifest() {
    let host = host();
    if !host.starts_with("x86_64-unknown-linux") {
        eprintln!("skipped: written for an x86_64 Linux host, this is {host}");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    dist(out.path(), &[]);
    dist(out.path(), &["--target", "aarch64-unknown-linux-gnu"]);
    let yaml = std::fs::read_to_string(out.path().join("fix-kubeconfig.yaml")).unwrap();
    let doc = Document::parse(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let spec = doc.get(doc.root.unwrap(), "spec").unwrap();
    let platforms = doc.items(doc.get(spec, "platforms").unwrap()).unwrap();
    let seen: Vec<(String, String, String)> = platforms
        .iter()
        .map(|p| {
            (
                at(&doc, *p, &["selector", "matchLabels", "arch"]).to_string(),
                at(&doc, *p, &["uri"]).to_string(),
                at(&doc, *p, &["sha256"]).to_string(),
            )
        })
        .collect();
    let sum = |target: &str| {
        let f = out
            .path()
            .join(format!("kubefix-{}-{target}.tar.gz.sha256", version()));
        std::fs::read_to_string(f).unwrap()[..64].to_string()
    };
    let uri = |target: &str| {
        format!(
            "file://{}/kubefix-{}-{target}.tar.gz",
            out.path().canonicalize().unwrap().display(),
            version()
        )
    };
    assert_eq!(
        seen,
        [
            (
                "arm64".to_string(),
                uri("aarch64-unknown-linux-gnu"),
                sum("aarch64-unknown-linux-gnu")
            ),
            ("amd64".to_string(), uri(&host), sum(&host)),
        ]
    );

    // A target krew has no platform for is refused, and nothing is written for it.
    let o = Command::new("bash")
        .args(["scripts/dist.sh", "--target", "x86_64-pc-windows-msvc"])
        .arg("--binary")
        .arg(env!("CARGO_BIN_EXE_kubefix"))
        .arg("--out")
        .arg(out.path())
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("unsupported target"), "{}", text(&o));
    assert_eq!(support::dir_names(out.path()).len(), 5, "{yaml}");
}

#[test]
fn dist_script_is_shellcheck_clean() {
    let Some(shellcheck) = support::require_or_skip("shellcheck") else {
        return;
    };
    run(Command::new(shellcheck).arg("scripts/dist.sh"));
}

/// Review: the archive depends on the binary's bytes only, not on its file name. Completions
/// and the man page come from running it, and kubefix names itself after argv[0]: packaging
/// a copy named `kubectl-fix` (a plugin link) must still give `kubefix`'s completions and man
/// page, byte for byte the same archive.
#[test]
fn the_archive_does_not_depend_on_the_binarys_file_name() {
    let host = host();
    let archive = format!("kubefix-{}-{host}.tar.gz", version());
    let a = tempfile::tempdir().unwrap();
    dist(a.path(), &["--base-url", BASE_URL]);
    let b = tempfile::tempdir().unwrap();
    let plugin = b.path().join("bin").join("kubectl-fix");
    std::fs::create_dir_all(plugin.parent().unwrap()).unwrap();
    std::fs::copy(env!("CARGO_BIN_EXE_kubefix"), &plugin).unwrap();
    let out = b.path().join("out");
    let o = Command::new("bash")
        .arg("scripts/dist.sh")
        .arg("--binary")
        .arg(&plugin)
        .arg("--out")
        .arg(&out)
        .args(["--base-url", BASE_URL])
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .output()
        .unwrap();
    assert!(o.status.success(), "dist.sh failed:\n{}", text(&o));
    let x = tempfile::tempdir().unwrap();
    run(Command::new("tar")
        .arg("-xzf")
        .arg(out.join(&archive))
        .arg("-C")
        .arg(x.path()));
    let root = x.path().join(format!("kubefix-{}-{host}", version()));
    let bash = std::fs::read_to_string(root.join("complete/kubefix.bash")).unwrap();
    assert!(!bash.contains("kubectl-fix"), "{bash}");
    let man = std::fs::read_to_string(root.join("doc/kubefix.1")).unwrap();
    assert!(!man.contains("kubectl fix"), "{man}");
    assert_eq!(
        std::fs::read(a.path().join(&archive)).unwrap(),
        std::fs::read(out.join(&archive)).unwrap()
    );
}
