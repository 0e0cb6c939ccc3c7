//! kubefix in the toolbox: shell completions, the man page, the kubectl plugin, and the
//! post-upgrade hook with its systemd units.

mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use assert_cmd::cargo::cargo_bin;
use assert_cmd::prelude::*;

const BROKEN: &str = "testdata/eks-aws-cli-v1alpha1.yaml";

fn kubefix(args: &[&str]) -> Output {
    Command::cargo_bin("kubefix")
        .unwrap()
        .env_remove("KUBECONFIG")
        .args(args)
        .output()
        .unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn completions_for_every_shell() {
    for (shell, marker) in [
        ("bash", "_kubefix()"),
        ("zsh", "#compdef kubefix"),
        ("fish", "complete -c kubefix"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let o = kubefix(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0), "{shell}");
        let script = out(&o);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        // fish writes `-l apply`, the others `--apply`.
        assert!(
            script.contains("exec-api-version"),
            "{shell}: flags missing"
        );
        assert!(script.contains("apply"), "{shell}: flags missing");
        assert!(
            script.contains("completions"),
            "{shell}: subcommands missing"
        );
    }
    // The bash script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubefix.bash");
    std::fs::write(&path, out(&kubefix(&["completions", "bash"]))).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    // An unknown shell is a usage error.
    assert_eq!(kubefix(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn man_page_documents_flags_and_exit_codes() {
    let o = kubefix(&["man"]);
    assert_eq!(o.status.code(), Some(0));
    let man = out(&o);
    assert!(
        man.contains(".TH kubefix 1"),
        "{}",
        &man[..man.len().min(200)]
    );
    for needle in [
        "\\-\\-apply",
        "\\-\\-check",
        "\\-\\-kubeconfig",
        "EXIT STATUS",
        "\\-\\-check found something that needs attention",
    ] {
        assert!(man.contains(needle), "man page lacks {needle}");
    }
    // #14: no pointers to pages that do not exist, exit codes under EXIT STATUS (not
    // "EXTRA"), every command in the synopsis with its value names, restore --list described.
    assert!(!man.contains("kubefix\\-restore(1)"), "{man}");
    assert!(!man.contains(".SH EXTRA"), "{man}");
    assert!(man.contains(".SH \"EXIT STATUS\""), "{man}");
    assert!(man.contains("kubefix restore [OPTIONS] [BACKUP]"), "{man}");
    assert!(man.contains(".SS \"kubefix restore\""), "{man}");
    assert!(man.contains("\\fB\\-\\-list\\fR"), "{man}");
    assert!(
        man.contains("\\fB\\-\\-context\\fR \\fI<NAME>\\fR"),
        "{man}"
    );
    // It renders: `man` (when installed) reads it without warnings.
    if let Some(man_bin) = support::which("man") {
        let dir = tempfile::tempdir().unwrap();
        let page = dir.path().join("kubefix.1");
        std::fs::write(&page, &o.stdout).unwrap();
        let r = std::process::Command::new(man_bin)
            .args(["-l", "--warnings"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", out(&r));
        assert!(String::from_utf8_lossy(&r.stdout).contains("EXIT STATUS"));
    }
}

/// A directory holding `kubectl-fix` (a symlink to the built binary), for PATH.
fn plugin_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kubectl-fix");
    std::os::unix::fs::symlink(cargo_bin("kubefix"), &link).unwrap();
    (dir, link)
}

fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn help_uses_the_name_it_was_called_by() {
    let (_dir, link) = plugin_dir();
    let o = Command::new(&link).arg("--help").output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    let help = out(&o);
    assert!(help.contains("Usage: kubectl fix"), "{help}");
    assert!(help.contains("kubectl fix --apply"), "{help}");
    let o = kubefix(&["--help"]);
    assert!(out(&o).contains("Usage: kubefix"));
}

#[test]
fn kubectl_finds_the_plugin() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let (dir, _link) = plugin_dir();
    let o = Command::new(&kubectl)
        .env("PATH", path_with(dir.path()))
        .env_remove("KUBECONFIG")
        .args(["fix", "--dry-run", "--kubeconfig", BROKEN])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let report = out(&o);
    assert!(
        report.contains("+      apiVersion: client.authentication.k8s.io/v1beta1"),
        "{report}"
    );
    // kubectl lists it among its plugins.
    let o = Command::new(&kubectl)
        .env("PATH", path_with(dir.path()))
        .args(["plugin", "list"])
        .output()
        .unwrap();
    assert!(out(&o).contains("kubectl-fix"), "{}", out(&o));
    // `kubectl fix --check` passes the exit code through.
    let o = Command::new(&kubectl)
        .env("PATH", path_with(dir.path()))
        .args(["fix", "--check", "--kubeconfig", BROKEN])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
}

fn run_hook(home_root: &Path, env: &[(&str, &str)], args: &[&Path]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("examples/post-upgrade.sh")
        .args(args)
        .env("KUBEFIX", cargo_bin("kubefix"))
        .env("KUBEFIX_HOME_ROOT", home_root)
        .env_remove("KUBEFIX_STRICT")
        .env_remove("KUBEFIX_ARGS");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn post_upgrade_hook_repairs_each_users_kubeconfig() {
    let root = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(BROKEN).unwrap();
    let healthy = std::fs::read_to_string("testdata/eks-aws-cli-v1beta1.yaml").unwrap();
    let mk = |user: &str, text: &str| {
        let kube = root.path().join(user).join(".kube");
        std::fs::create_dir_all(&kube).unwrap();
        let f = kube.join("config");
        std::fs::write(&f, text).unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
        f
    };
    let alice = mk("alice", &broken);
    let bob = mk("bob", &healthy);
    let carol = mk("carol", "clusters: [unclosed\n");
    std::fs::create_dir_all(root.path().join("dave")).unwrap(); // no kubeconfig

    let o = run_hook(root.path(), &[], &[]);
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{log}");
    assert_eq!(
        std::fs::read_to_string(&alice).unwrap(),
        broken.replace(
            "client.authentication.k8s.io/v1alpha1",
            "client.authentication.k8s.io/v1beta1"
        )
    );
    assert_eq!(std::fs::read_to_string(&bob).unwrap(), healthy);
    assert_eq!(
        std::fs::read_to_string(&carol).unwrap(),
        "clusters: [unclosed\n"
    );
    assert!(
        log.contains("kubefix-post-upgrade: 1 fix applied in"),
        "{log}"
    );
    assert!(
        log.contains(&format!("kubefix failed on {} (exit 2)", carol.display())),
        "{log}"
    );
    assert!(
        log.lines().all(|l| l.starts_with("kubefix-post-upgrade: ")),
        "{log}"
    );
    assert!(!log.contains('\u{1b}'), "no colour in logs");

    // Strict mode fails the run on kubefix's error; a second run changes nothing else.
    let o = run_hook(root.path(), &[("KUBEFIX_STRICT", "1")], &[]);
    assert_eq!(o.status.code(), Some(1));
    let backups = std::fs::read_dir(alice.parent().unwrap())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains(".kubefix-")
        })
        .count();
    assert_eq!(backups, 1, "the second run must not write again");

    // Explicit files instead of the home scan.
    let o = run_hook(root.path(), &[("KUBEFIX_STRICT", "1")], &[&bob]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // A missing kubefix never fails the upgrade unless strict.
    let o = Command::new("sh")
        .arg("examples/post-upgrade.sh")
        .env("KUBEFIX", "/nonexistent/kubefix")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stderr).contains("kubefix not found"));
}

/// The hook runs as root over files users control (#12): a symlinked config or ~/.kube, or a
/// config not owned by its home's owner, is skipped; flags that weaken kubefix's guards are
/// dropped from KUBEFIX_ARGS (with --force-identity root's run on alice's file would fail).
#[test]
fn post_upgrade_hook_skips_what_a_user_could_aim_elsewhere() {
    use std::os::unix::fs::{chown, symlink};
    if !kubefix::privilege::is_root() {
        eprintln!("skipped: needs root to give homes to other uids");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let broken = std::fs::read_to_string(BROKEN).unwrap();
    let fixed = broken.replace(
        "client.authentication.k8s.io/v1alpha1",
        "client.authentication.k8s.io/v1beta1",
    );
    let home = |user: &str, uid: u32| {
        let h = root.path().join(user);
        std::fs::create_dir_all(&h).unwrap();
        chown(&h, Some(uid), Some(uid)).unwrap();
        h
    };
    let file = |path: &Path, uid: u32| {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // ~/.kube is the user's, as in life: kubefix takes its lock there as the user.
        chown(path.parent().unwrap(), Some(uid), Some(uid)).unwrap();
        std::fs::write(path, &broken).unwrap();
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        chown(path, Some(uid), Some(uid)).unwrap();
        path.to_path_buf()
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let victim = file(&elsewhere.path().join("victim"), 0);
    let victim_dir = file(&elsewhere.path().join("kube").join("config"), 0);

    let alice = file(&home("alice", 4242).join(".kube/config"), 4242);
    let mallory = home("mallory", 4243);
    std::fs::create_dir_all(mallory.join(".kube")).unwrap();
    symlink(&victim, mallory.join(".kube/config")).unwrap();
    let trudy = home("trudy", 4244);
    symlink(victim_dir.parent().unwrap(), trudy.join(".kube")).unwrap();
    let eve = file(&home("eve", 4245).join(".kube/config"), 4242);

    let o = run_hook(
        root.path(),
        &[("KUBEFIX_ARGS", "--force-identity pwn --show-secrets")],
        &[],
    );
    let log = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(0), "{log}");
    assert_eq!(std::fs::read_to_string(&alice).unwrap(), fixed, "{log}");
    assert!(!log.contains("kubefix failed"), "{log}");
    assert!(
        log.contains("ignoring --force-identity in KUBEFIX_ARGS"),
        "{log}"
    );
    assert!(
        log.contains("ignoring --show-secrets in KUBEFIX_ARGS"),
        "{log}"
    );
    for (path, why) in [
        (mallory.join(".kube/config"), "a symlink"),
        (trudy.join(".kube/config"), "a symlink"),
        (eve.clone(), "not owned by the owner of"),
    ] {
        assert!(
            log.contains(&format!("skipping {}: {why}", path.display())),
            "{log}"
        );
    }
    for untouched in [&victim, &victim_dir, &eve] {
        assert_eq!(std::fs::read_to_string(untouched).unwrap(), broken);
    }

    // Named explicitly, a symlink is skipped too.
    let o = run_hook(
        root.path(),
        &[("KUBEFIX_STRICT", "1")],
        &[&mallory.join(".kube/config")],
    );
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), broken);
}

#[test]
fn post_upgrade_hook_is_shellcheck_clean() {
    let Some(shellcheck) = support::require_or_skip("shellcheck") else {
        return;
    };
    let o = Command::new(shellcheck)
        .arg("examples/post-upgrade.sh")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
}

#[test]
fn systemd_units_watch_k3s_and_run_the_hook() {
    let path = std::fs::read_to_string("examples/kubefix-k3s.path").unwrap();
    let service = std::fs::read_to_string("examples/kubefix-k3s.service").unwrap();
    let sections = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with('['))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(sections(&path), ["[Unit]", "[Path]", "[Install]"]);
    assert_eq!(sections(&service), ["[Unit]", "[Service]"]);
    assert!(path.contains("PathChanged=/etc/rancher/k3s/k3s.yaml"));
    assert!(path.contains("Unit=kubefix-k3s.service"));
    assert!(service.contains("Type=oneshot"));
    assert!(service.contains("ExecStart=/usr/local/lib/kubefix/post-upgrade.sh"));
    // Every non-comment line is a section or key=value.
    for line in path.lines().chain(service.lines()) {
        let l = line.trim();
        assert!(
            l.is_empty() || l.starts_with('#') || l.starts_with('[') || l.contains('='),
            "bad unit line {l:?}"
        );
    }
}

#[test]
fn rules_are_listed_and_selectable() {
    let o = kubefix(&["rules"]);
    assert_eq!(o.status.code(), Some(0));
    let listing = out(&o);
    for id in [
        "exec-api-version",
        "gcp-auth-provider",
        "azure-auth-provider",
        "oidc-auth-provider",
        "exec-plugin-version",
        "insecure-with-ca",
        "ca-data-and-file",
        "missing-file",
        "dangling-reference",
        "duplicate-name",
        "k3s-credentials",
        "credential-expiry",
        "file-permissions",
    ] {
        let line = listing
            .lines()
            .find(|l| l.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("{id} not listed:\n{listing}"));
        assert!(line.contains("fixes") || line.contains("reports"), "{line}");
    }
    assert!(listing
        .lines()
        .any(|l| l.starts_with("exec-api-version") && l.contains(" fixes ")));
    assert!(listing
        .lines()
        .any(|l| l.starts_with("missing-file") && l.contains(" reports ")));

    // --skip turns a rule off (here the only other one that fires on BROKEN, whose mode is
    // the checkout's); --rule runs only the named ones.
    let o = kubefix(&[
        "--check",
        "--skip",
        "exec-api-version",
        "--skip",
        "file-permissions",
        "--kubeconfig",
        BROKEN,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = kubefix(&["--check", "--rule", "missing-file", "--kubeconfig", BROKEN]);
    assert_eq!(o.status.code(), Some(0), "{}", out(&o));
    let o = kubefix(&[
        "--check",
        "--rule",
        "exec-api-version",
        "--kubeconfig",
        BROKEN,
    ]);
    assert_eq!(o.status.code(), Some(1));
    // An unknown id is a usage error.
    let o = kubefix(&["--rule", "no-such-rule", "--kubeconfig", BROKEN]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown rule \"no-such-rule\""));
    // With -o json it is the JSON error document every other usage error gives (#14).
    let o = kubefix(&[
        "-o",
        "json",
        "--rule",
        "no-such-rule",
        "--kubeconfig",
        BROKEN,
    ]);
    assert_eq!(o.status.code(), Some(2));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", out(&o));
    });
    assert_eq!(json["schemaVersion"], 1);
    assert!(json["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown rule \"no-such-rule\""));
    assert_eq!(json["summary"]["errors"], 1);
}

/// kubectl (1.26+) completes `kubectl fix …` by running `kubectl_complete-fix WORDS… PARTIAL`
/// from PATH and reading one candidate per line, then `:DIRECTIVE`.
#[test]
fn kubectl_completes_the_plugin_through_kubectl_complete_fix() {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(cargo_bin("kubefix"), dir.path().join("kubectl-fix")).unwrap();
    let helper = dir.path().join("kubectl_complete-fix");
    std::os::unix::fs::symlink(cargo_bin("kubefix"), &helper).unwrap();

    let complete = |words: &[&str]| {
        let o = Command::new(&helper).args(words).output().unwrap();
        assert_eq!(o.status.code(), Some(0));
        out(&o)
    };
    let values = complete(&["--exec-api-version", ""]);
    assert_eq!(values, "v1beta1\nv1\n:4\n");
    let flags = complete(&["--sk"]);
    assert!(flags.starts_with("--skip\t"), "{flags}");
    assert!(flags.ends_with("\n:4\n"), "{flags}");
    let rules = complete(&["--rule", "insecure"]);
    assert!(rules.starts_with("insecure-with-ca\t"), "{rules}");
    let subs = complete(&["re"]);
    assert!(
        subs.contains("restore\t") && !subs.contains("rules\t"),
        "{subs}"
    );
    // A path: no candidates, and the shell may offer file names.
    assert_eq!(complete(&["--kubeconfig", ""]), ":0\n");

    // The real kubectl finds and uses it.
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let o = Command::new(kubectl)
        .env("PATH", path_with(dir.path()))
        .args(["__complete", "fix", "--exec-api-version", ""])
        .output()
        .unwrap();
    let text = out(&o);
    assert!(text.contains("v1beta1\nv1\n:4"), "{text}");
}

/// Links to the built binary under kubectl's plugin names, in a directory for PATH:
/// `kubectl-fix` (`kubectl fix`), `kubectl-fix_kubeconfig` (krew's link for the plugin
/// `fix-kubeconfig`, run as `kubectl fix-kubeconfig`) and their `kubectl_complete-` helpers.
fn plugin_names() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "kubectl-fix",
        "kubectl-fix_kubeconfig",
        "kubectl_complete-fix",
        "kubectl_complete-fix_kubeconfig",
    ] {
        std::os::unix::fs::symlink(cargo_bin("kubefix"), dir.path().join(name)).unwrap();
    }
    dir
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// #14: as a plugin, every command the help quotes, the examples and clap's usage errors use
/// the name kubectl runs it by; the examples stay aligned.
#[test]
fn help_and_usage_use_the_plugin_name() {
    let dir = plugin_names();
    for (exe, name) in [
        ("kubectl-fix", "kubectl fix"),
        ("kubectl-fix_kubeconfig", "kubectl fix-kubeconfig"),
    ] {
        let bin = dir.path().join(exe);
        for args in [
            &["--help"][..],
            &["restore", "--help"],
            &["probe", "--help"],
        ] {
            let o = Command::new(&bin).args(args).output().unwrap();
            assert_eq!(o.status.code(), Some(0));
            let help = out(&o);
            assert!(help.contains(&format!("Usage: {name}")), "{help}");
            assert!(!help.contains("`kubefix "), "{exe} {args:?}:\n{help}");
        }
        let help = out(&Command::new(&bin).arg("--help").output().unwrap());
        assert!(
            help.contains(&format!("`{name} rules` lists them")),
            "{help}"
        );
        let examples: Vec<&str> = help
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .collect();
        assert_eq!(examples.len(), 5, "{help}");
        assert!(examples.iter().all(|l| l.starts_with(&format!("  {name}"))));
        let column = |l: &str| l.find("  back up").or(l.find("  exit 1"));
        let check = examples.iter().find(|l| l.contains("--check")).unwrap();
        let apply = examples.iter().find(|l| l.contains("back up")).unwrap();
        assert_eq!(column(check), column(apply), "{help}");

        // clap's own usage errors.
        let o = Command::new(&bin).arg("--no-such-flag").output().unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert!(
            err(&o).contains(&format!("Usage: {name} [OPTIONS]")),
            "{}",
            err(&o)
        );
    }
}

/// #14: as a plugin, kubefix's own errors name the plugin as typed (`kubectl fix: error:`), as
/// kubectl's do; as kubefix they keep `kubefix:`.
#[test]
fn errors_name_the_plugin() {
    let dir = plugin_names();
    let missing = dir.path().join("missing.yaml");
    for (exe, name) in [
        ("kubectl-fix", "kubectl fix"),
        ("kubectl-fix_kubeconfig", "kubectl fix-kubeconfig"),
    ] {
        let o = Command::new(dir.path().join(exe))
            .arg("--kubeconfig")
            .arg(&missing)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        let text = err(&o);
        assert!(
            text.starts_with(&format!(
                "{name}: error: {}: cannot read",
                missing.display()
            )),
            "{text}"
        );
        assert!(!text.contains("kubefix:"), "{text}");

        let o = Command::new(dir.path().join(exe))
            .args(["--rule", "no-such-rule", "--kubeconfig", BROKEN])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2));
        assert_eq!(
            err(&o),
            format!("{name}: error: unknown rule \"no-such-rule\"; `{name} rules` lists them\n")
        );
    }
    let o = kubefix(&["--kubeconfig", missing.to_str().unwrap()]);
    assert!(err(&o).starts_with("kubefix: error: "), "{}", err(&o));
}

/// krew installs the plugin `fix-kubeconfig` as `kubectl-fix_kubeconfig`: the real kubectl
/// runs it as `kubectl fix-kubeconfig`, completes it through
/// `kubectl_complete-fix_kubeconfig`, and `kubectl fix` keeps working beside it.
#[test]
fn kubectl_runs_and_completes_the_krew_plugin_name() {
    let Some(kubectl) = support::require_or_skip("kubectl") else {
        return;
    };
    let dir = plugin_names();
    let kubectl = |args: &[&str]| {
        Command::new(&kubectl)
            .env("PATH", path_with(dir.path()))
            .env_remove("KUBECONFIG")
            .args(args)
            .output()
            .unwrap()
    };
    for plugin in ["fix-kubeconfig", "fix"] {
        let o = kubectl(&[plugin, "--check", "--kubeconfig", BROKEN]);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        assert!(
            out(&o).contains(&format!(
                "run kubectl {plugin} --kubeconfig {BROKEN} --apply"
            )),
            "{}",
            out(&o)
        );
        let o = kubectl(&["__complete", plugin, "--skip", ""]);
        let text = out(&o);
        for rule in kubefix::rules::registry() {
            assert!(
                text.lines()
                    .any(|l| l.starts_with(&format!("{}\t", rule.id()))),
                "{plugin}: {} not offered:\n{text}",
                rule.id()
            );
        }
        assert!(text.ends_with(":4\n"), "{text}");
    }
}

/// #14: `--rule` and `--skip` complete rule ids in bash, zsh and fish (they offered file
/// names): bash and fish are asked for real, zsh's script is checked for the ids.
#[test]
fn shells_complete_rule_ids() {
    let ids: Vec<&str> = kubefix::rules::registry().iter().map(|r| r.id()).collect();
    let dir = tempfile::tempdir().unwrap();
    let script = |shell: &str, file: &str| {
        let o = kubefix(&["completions", shell]);
        assert_eq!(o.status.code(), Some(0));
        let path = dir.path().join(file);
        std::fs::write(&path, &o.stdout).unwrap();
        (path, out(&o))
    };

    // bash: what the completion function offers after `--rule ins` and `--skip `.
    let (bash_script, _) = script("bash", "kubefix.bash");
    let complete_bash = |line: &str| -> Vec<String> {
        let program = "source \"$1\"\nCOMP_LINE=\"$2\"; COMP_POINT=${#COMP_LINE}\n\
             read -ra COMP_WORDS <<<\"$2\"\n\
             case $2 in *' ') COMP_WORDS+=(''); esac\n\
             COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n\
             _kubefix kubefix \"${COMP_WORDS[COMP_CWORD]}\" \"${COMP_WORDS[COMP_CWORD-1]}\"\n\
             printf '%s\\n' \"${COMPREPLY[@]}\"";
        let o = Command::new("bash")
            .args(["-c", program, "bash"])
            .arg(&bash_script)
            .arg(line)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        out(&o).lines().map(str::to_string).collect()
    };
    assert_eq!(complete_bash("kubefix --rule ins"), ["insecure-with-ca"]);
    let mut offered = complete_bash("kubefix --apply --skip ");
    offered.sort();
    let mut want: Vec<String> = ids.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(offered, want);

    // zsh: the --rule and --skip specs list every id; the script parses.
    let (zsh_script, zsh) = script("zsh", "_kubefix");
    for flag in ["'*--rule=[", "'*--skip=["] {
        let spec = zsh
            .split(flag)
            .nth(1)
            .unwrap_or_else(|| panic!("no {flag} in the zsh script"));
        let spec = &spec[..spec.find("))' \\").expect("the end of the value list")];
        for id in &ids {
            assert!(
                spec.contains(&format!("({id}\\:")) || spec.contains(&format!("\n{id}\\:")),
                "zsh {flag}: no {id}"
            );
        }
    }
    if let Some(zsh) = support::require_or_skip("zsh") {
        let o = Command::new(zsh)
            .arg("-n")
            .arg(&zsh_script)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
    }

    // fish: what `complete -C` offers, for `--rule ins` (the option's value as the next word,
    // which clap_complete's script alone does not complete) and for `--skip=`.
    let Some(fish) = support::require_or_skip("fish") else {
        return;
    };
    let (fish_script, _) = script("fish", "kubefix.fish");
    let complete_fish = |line: &str| -> Vec<String> {
        let o = Command::new(&fish)
            .arg("--no-config")
            .arg("-c")
            .arg(format!(
                "source {}; complete -C '{line}'",
                fish_script.display()
            ))
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", err(&o));
        out(&o)
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_string())
            .collect()
    };
    assert_eq!(complete_fish("kubefix --rule ins"), ["insecure-with-ca"]);
    assert_eq!(
        complete_fish("kubefix --apply --skip ins"),
        ["insecure-with-ca"]
    );
    assert_eq!(
        complete_fish("kubefix --skip=ins"),
        ["--skip=insecure-with-ca"]
    );
    let mut offered = complete_fish("kubefix --skip ");
    offered.sort();
    assert_eq!(offered, want);
    // Other values and subcommands are still completed.
    assert_eq!(complete_fish("kubefix --exec-api-version v1b"), ["v1beta1"]);
    assert!(complete_fish("kubefix --rule missing-file res").contains(&"restore".to_string()));
}

/// #14: with KUBEFIX_HOME_ROOT set, the hook scans only the homes under it, not /root (so it
/// can be tried on a scratch directory without touching root's kubeconfig); without it, /root
/// is scanned too. `sh -x` shows which configs it looked at; KUBEFIX is a stand-in that
/// only records what it was given, so nothing real is touched.
#[test]
fn post_upgrade_hook_scans_root_only_without_a_home_root() {
    let scratch = tempfile::tempdir().unwrap();
    let record = scratch.path().join("record");
    let fake = scratch.path().join("fake-kubefix");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let homes = scratch.path().join("homes");
    let alice = homes.join("alice/.kube/config");
    std::fs::create_dir_all(alice.parent().unwrap()).unwrap();
    std::fs::write(&alice, "apiVersion: v1\nkind: Config\n").unwrap();

    let trace = |home_root: Option<&Path>| -> String {
        let mut cmd = Command::new("sh");
        cmd.args(["-x", "examples/post-upgrade.sh"])
            .env("KUBEFIX", &fake)
            .env_remove("KUBEFIX_HOME_ROOT")
            .env_remove("KUBEFIX_ARGS")
            .env_remove("KUBEFIX_STRICT");
        if let Some(r) = home_root {
            cmd.env("KUBEFIX_HOME_ROOT", r);
        }
        let o = cmd.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", err(&o));
        err(&o)
    };
    let _ = std::fs::remove_file(&record);
    let scoped = trace(Some(&homes));
    assert!(!scoped.contains("/root/.kube"), "{scoped}");
    assert!(
        scoped.contains(&format!("config={}", alice.display())),
        "{scoped}"
    );
    let ran = std::fs::read_to_string(&record).unwrap();
    assert_eq!(
        ran,
        format!("--apply --color never --kubeconfig {}\n", alice.display())
    );

    // The default scans /home and /root (with the stand-in, nothing is changed).
    let default = trace(None);
    assert!(default.contains("config=/root/.kube/config"), "{default}");
}
