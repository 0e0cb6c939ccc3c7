//! Commands kubefix suggests, as the user can paste them into a POSIX shell.
//!
//! Advice that names a command must do what it promises when pasted in the same shell and
//! directory: run on the same files, with the same sources, rules and settings. Every
//! suggested kubefix command is built from one [`CommandLine`] (made once from the invocation,
//! see [`crate::invocation`]) and every word is quoted with [`quote`].

/// `s` as one POSIX shell word: unchanged when it holds only characters no shell treats
/// specially, else in single quotes (a `'` inside becomes `'\''`). Inside single quotes
/// nothing is special, not `$`, `` ` ``, `\` or a newline.
pub fn quote(s: &str) -> String {
    let safe = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%=,".contains(c));
    if safe {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// kubectl arguments: `head`, the names `names` (operands), then `tail` (flags); when a name
/// starts with `-`, the names go last after `--`, so kubectl reads a context or user named
/// `--current` or `-jane` as a name, never as a flag (`set-context --current` edits another
/// context).
pub fn operands<'a>(head: &[&'a str], names: &[&'a str], tail: &[&'a str]) -> Vec<&'a str> {
    let mut out = head.to_vec();
    if names.iter().any(|n| n.starts_with('-')) {
        out.extend_from_slice(tail);
        out.push("--");
        out.extend_from_slice(names);
    } else {
        out.extend_from_slice(names);
        out.extend_from_slice(tail);
    }
    out
}

/// A kubefix command line to suggest: the program as invoked (`kubefix` or `kubectl fix`),
/// `sudo` when the user ran under sudo, `$KUBECONFIG` when the files came from it, and the
/// flags that select the files and sources and change the plan (never output-only flags).
/// Words are kept unquoted and quoted when rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    /// The program and its fixed words: `["kubefix"]` or `["kubectl", "fix"]`.
    pub program: Vec<String>,
    /// Run under sudo (the user did: `SUDO_USER` set and root).
    pub sudo: bool,
    /// `$KUBECONFIG` as the user had it, when it chose the files (no `--kubeconfig`).
    pub kubeconfig_env: Option<String>,
    /// Each flag with its value, in order: `("--kubeconfig", Some("a b.yaml"))`.
    pub args: Vec<(String, Option<String>)>,
}

impl Default for CommandLine {
    fn default() -> CommandLine {
        CommandLine {
            program: vec!["kubefix".into()],
            sudo: false,
            kubeconfig_env: None,
            args: Vec::new(),
        }
    }
}

impl CommandLine {
    /// The command with `extra` words after its flags, quoted: what to paste.
    pub fn with(&self, extra: &[&str]) -> String {
        self.render(self.sudo, extra)
    }

    /// [`with`](Self::with), run with sudo whether or not the user did.
    pub fn with_sudo(&self, extra: &[&str]) -> String {
        self.render(true, extra)
    }

    /// The same command without `flag value` (to replace it).
    pub fn without_arg(&self, flag: &str, value: &str) -> CommandLine {
        CommandLine {
            args: self
                .args
                .iter()
                .filter(|(f, v)| !(f == flag && v.as_deref() == Some(value)))
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// `kubectl WORDS` on the files this command reads: `$KUBECONFIG` as the user had it, or
    /// `--kubeconfig FILE`, or neither for the default file. Never with sudo: kubectl runs as
    /// the user whose files they are. Every word quoted.
    pub fn kubectl(&self, words: &[&str]) -> String {
        let mut out: Vec<String> = Vec::new();
        if let Some(list) = &self.kubeconfig_env {
            out.push(format!("KUBECONFIG={}", quote(list)));
        }
        out.push("kubectl".into());
        if let Some((_, Some(file))) = self.args.iter().find(|(f, _)| f == "--kubeconfig") {
            out.push("--kubeconfig".into());
            out.push(quote(file));
        }
        out.extend(words.iter().map(|w| quote(w)));
        out.join(" ")
    }

    fn render(&self, sudo: bool, extra: &[&str]) -> String {
        let mut words: Vec<String> = Vec::new();
        if let Some(list) = &self.kubeconfig_env {
            // `sudo` resets the environment; `env` sets it again for the command alone.
            if sudo {
                words.push("sudo".into());
                words.push("env".into());
            }
            words.push(format!("KUBECONFIG={}", quote(list)));
        } else if sudo {
            words.push("sudo".into());
        }
        words.extend(self.program.iter().map(|w| quote(w)));
        for (flag, value) in &self.args {
            match value.as_deref() {
                // A value that looks like a flag is one word with its flag, as clap reads it.
                Some(v) if v.starts_with('-') => words.push(quote(&format!("{flag}={v}"))),
                Some(v) => {
                    words.push(quote(flag));
                    words.push(quote(v));
                }
                None => words.push(quote(flag)),
            }
        }
        words.extend(extra.iter().map(|w| quote(w)));
        words.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `sh` makes of `line`: its words, one per line of output.
    fn sh_words(line: &str) -> Vec<String> {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("for w in {line}; do printf '%s\\0' \"$w\"; done"))
            .env("HOME", "/nonexistent")
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        text.split_terminator('\0').map(String::from).collect()
    }

    #[test]
    fn plain_words_stay_plain() {
        assert_eq!(quote("kubefix"), "kubefix");
        assert_eq!(quote("/home/a/.kube/config"), "/home/a/.kube/config");
        assert_eq!(quote("--k3s-config"), "--k3s-config");
        assert_eq!(quote("v1beta1"), "v1beta1");
    }

    #[test]
    fn special_words_are_quoted_and_survive_the_shell() {
        for w in [
            "",
            "my file.yaml",
            "it's",
            "'",
            "''",
            "a\"b",
            "$HOME",
            "${x:-y}",
            "`id`",
            "$(id)",
            "back\\slash",
            "new\nline",
            "tab\there",
            "~/x",
            "#comment",
            "*",
            "a;b|c&d",
            "é ü",
            "-",
        ] {
            let q = quote(w);
            assert_eq!(sh_words(&q), vec![w.to_string()], "{w:?} quoted as {q}");
        }
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote("my file"), "'my file'");
        assert_eq!(quote("$HOME"), "'$HOME'");
        assert_eq!(quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn command_lines_render_in_order_and_filter() {
        let c = CommandLine {
            program: vec!["kubectl".into(), "fix".into()],
            sudo: false,
            kubeconfig_env: None,
            args: vec![
                ("--kubeconfig".into(), Some("my config".into())),
                (
                    "--k3s-config".into(),
                    Some("/etc/rancher/k3s/k3s.yaml".into()),
                ),
                ("--migrate-oidc".into(), None),
            ],
        };
        assert_eq!(
            c.with(&["--apply"]),
            "kubectl fix --kubeconfig 'my config' --k3s-config /etc/rancher/k3s/k3s.yaml --migrate-oidc --apply"
        );
        assert_eq!(
            c.without_arg("--k3s-config", "/etc/rancher/k3s/k3s.yaml")
                .with_sudo(&["--apply"]),
            "sudo kubectl fix --kubeconfig 'my config' --migrate-oidc --apply"
        );
        let e = CommandLine {
            kubeconfig_env: Some("a b:c".into()),
            ..CommandLine::default()
        };
        assert_eq!(e.with(&["--apply"]), "KUBECONFIG='a b:c' kubefix --apply");
        assert_eq!(
            e.with_sudo(&["--apply"]),
            "sudo env KUBECONFIG='a b:c' kubefix --apply"
        );
        assert_eq!(CommandLine::default().with(&["--apply"]), "kubefix --apply");
    }

    #[test]
    fn kubectl_reads_the_same_files() {
        let one = CommandLine {
            args: vec![("--kubeconfig".into(), Some("my config".into()))],
            sudo: true,
            ..CommandLine::default()
        };
        assert_eq!(
            one.kubectl(&["config", "use-context", "a b"]),
            "kubectl --kubeconfig 'my config' config use-context 'a b'"
        );
        let env = CommandLine {
            kubeconfig_env: Some("a:b c".into()),
            ..CommandLine::default()
        };
        assert_eq!(
            env.kubectl(&["config", "get-contexts"]),
            "KUBECONFIG='a:b c' kubectl config get-contexts"
        );
        assert_eq!(
            CommandLine::default().kubectl(&["version"]),
            "kubectl version"
        );
    }

    #[test]
    fn a_value_that_starts_with_a_dash_stays_with_its_flag() {
        let c = CommandLine {
            args: vec![
                ("--kubeconfig".into(), Some("-config".into())),
                ("--k3s-context".into(), Some("-x y".into())),
                ("--from".into(), Some("a-b".into())),
            ],
            ..CommandLine::default()
        };
        assert_eq!(
            c.with(&["--apply"]),
            "kubefix --kubeconfig=-config '--k3s-context=-x y' --from a-b --apply"
        );
        // clap reads it back as the same settings.
        let words = sh_words(&c.with(&["--apply"]));
        let cli = <crate::cli::Cli as clap::Parser>::try_parse_from(&words).unwrap();
        assert_eq!(
            cli.kubeconfig.as_deref(),
            Some(std::path::Path::new("-config"))
        );
        assert_eq!(cli.k3s_context.as_deref(), Some("-x y"));
    }

    #[test]
    fn names_that_look_like_flags_go_last_after_a_double_dash() {
        let set = ["config", "set-context"];
        assert_eq!(
            operands(&set, &["ci"], &["--user=u"]),
            ["config", "set-context", "ci", "--user=u"]
        );
        assert_eq!(
            operands(&set, &["--current"], &["--user=u"]),
            ["config", "set-context", "--user=u", "--", "--current"]
        );
    }
}
