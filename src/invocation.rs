//! The command line, once: the low-level arguments ([`Cli`], as clap parsed them) become the
//! high-level settings every command reads ([`Invocation`]), built in one place (as ripgrep's
//! `HiArgs`). Commands never look at [`Cli`] again.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Parser, ValueEnum};

use crate::cli::{Cli, ColorChoice, Mode, Output};
use crate::persist::WriteOptions;
use crate::render::{Style, View};
use crate::rules::RuleOptions;
use crate::shell::CommandLine;
use crate::source::Env;

/// What this run of kubefix does and how it reports it.
#[derive(Debug)]
pub struct Invocation {
    pub mode: Mode,
    pub output: Output,
    /// `-q`: print nothing but errors.
    pub quiet: bool,
    /// How the text report looks (mode, `-v`, `--show-secrets`, colour).
    pub view: View,
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// The settings rules read.
    pub rules: RuleOptions,
    /// Where backups go, how many stay, `--break-hardlink`.
    pub write: WriteOptions,
    /// The command that runs on the same files with the same settings: what advice suggests.
    pub command: CommandLine,
}

impl Invocation {
    /// The settings of `cli`; `argv0` is the name kubefix was invoked by.
    pub fn new(cli: &Cli, env: &Env, argv0: &str) -> Invocation {
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        let mode = cli.mode();
        let command = command_line(cli, env, &crate::cli::program_name(argv0));
        let mut rules = cli.rule_options();
        rules.command = command.clone();
        Invocation {
            mode,
            output: cli.output,
            quiet: cli.quiet,
            view: View {
                mode,
                verbose: cli.verbose,
                show_secrets: cli.show_secrets,
                style: Style {
                    color: color && cli.output == Output::Text,
                },
            },
            kubeconfig: cli.kubeconfig.clone(),
            rules,
            write: WriteOptions {
                backup_dir: cli.backup_dir.clone(),
                keep_backups: Some(cli.keep_backups),
                mode: None,
                break_hardlink: cli.break_hardlink,
            },
            command,
        }
    }

    /// The command to paste to run kubefix again on the same files with the same settings,
    /// plus `extra` (`&["--apply"]`), every word shell-quoted.
    pub fn suggest(&self, extra: &[&str]) -> String {
        self.command.with(extra)
    }
}

/// The suggested command line of `cli`: `sudo` when the user ran under sudo, `$KUBECONFIG`
/// when it chose the files, the program as invoked, and every flag that selects files or
/// sources or changes the plan, with paths as given (the advice is pasted in the same
/// directory). Output-only flags (`-o`, `--color`, `-q`, `-v`, `--show-secrets`) and the mode
/// (`--check`, `--dry-run`, `--apply`) are left out.
fn command_line(cli: &Cli, env: &Env, name: &str) -> CommandLine {
    let defaults = Cli::parse_from(["kubefix"]);
    let mut args: Vec<(String, Option<String>)> = Vec::new();
    let mut flag = |f: &str, v: Option<String>| args.push((f.to_string(), v));
    let path = |p: &Path| Some(p.to_string_lossy().into_owned());
    if let Some(p) = &cli.kubeconfig {
        flag("--kubeconfig", path(p));
    }
    if let Some(p) = &cli.k3s_config {
        flag("--k3s-config", path(p));
    }
    for p in &cli.from {
        flag("--from", path(p));
    }
    if let Some(c) = &cli.k3s_context {
        flag("--k3s-context", Some(c.clone()));
    }
    for r in &cli.rules {
        flag("--rule", Some(r.clone()));
    }
    for r in &cli.skip {
        flag("--skip", Some(r.clone()));
    }
    if cli.exec_api_version != defaults.exec_api_version {
        let v = cli
            .exec_api_version
            .to_possible_value()
            .expect("not skipped");
        flag("--exec-api-version", Some(v.get_name().to_string()));
    }
    if cli.renew_within != defaults.renew_within {
        flag("--renew-within", Some(format!("{}s", cli.renew_within.0)));
    }
    for u in &cli.force_identity {
        flag("--force-identity", Some(u.clone()));
    }
    if cli.inline_credentials {
        flag("--inline-credentials", None);
    }
    if cli.azure_login != defaults.azure_login {
        flag("--azure-login", Some(cli.azure_login.name().to_string()));
    }
    if cli.migrate_oidc {
        flag("--migrate-oidc", None);
    }
    if cli.probe_exec {
        flag("--probe-exec", None);
    }
    if let Some(d) = &cli.backup_dir {
        flag("--backup-dir", path(d));
    }
    if cli.keep_backups != defaults.keep_backups {
        flag("--keep-backups", Some(cli.keep_backups.to_string()));
    }
    if cli.break_hardlink {
        flag("--break-hardlink", None);
    }
    CommandLine {
        program: name.split(' ').map(String::from).collect(),
        sudo: env.is_root && env.sudo_user.is_some(),
        kubeconfig_env: env
            .kubeconfig
            .clone()
            .filter(|k| !k.is_empty() && cli.kubeconfig.is_none()),
        args,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suggest(args: &[&str], env: &Env) -> String {
        let mut argv = vec!["kubefix"];
        argv.extend_from_slice(args);
        Invocation::new(&Cli::parse_from(argv), env, "kubefix").suggest(&["--apply"])
    }

    #[test]
    fn sudo_is_kept_only_when_the_user_ran_under_sudo() {
        let sudo = Env {
            is_root: true,
            sudo_user: Some("alice".into()),
            ..Env::default()
        };
        assert_eq!(
            suggest(&["--kubeconfig", "a b"], &sudo),
            "sudo kubefix --kubeconfig 'a b' --apply"
        );
        let root = Env {
            is_root: true,
            ..Env::default()
        };
        assert_eq!(suggest(&[], &root), "kubefix --apply");
        let env = Env {
            kubeconfig: Some("x:y".into()),
            ..sudo.clone()
        };
        assert_eq!(
            suggest(&[], &env),
            "sudo env KUBECONFIG=x:y kubefix --apply"
        );
        // --kubeconfig wins over $KUBECONFIG, as in source::select.
        assert_eq!(
            suggest(&["--kubeconfig", "c"], &env),
            "sudo kubefix --kubeconfig c --apply"
        );
    }

    #[test]
    fn plan_changing_flags_are_kept_and_output_flags_dropped() {
        let got = suggest(
            &[
                "--check",
                "-o",
                "json",
                "-q",
                "--color",
                "always",
                "--from",
                "/a/admin.conf",
                "--k3s-context",
                "it's",
                "--skip",
                "file-permissions",
                "--renew-within",
                "2w",
                "--azure-login",
                "azurecli",
                "--migrate-oidc",
                "--inline-credentials",
                "--probe-exec",
                "--force-identity",
                "root",
            ],
            &Env::default(),
        );
        assert_eq!(
            got,
            "kubefix --from /a/admin.conf --k3s-context 'it'\\''s' --skip file-permissions \
             --renew-within 1209600s --force-identity root --inline-credentials \
             --azure-login azurecli --migrate-oidc --probe-exec --apply"
        );
        // The defaults are not spelled out.
        assert_eq!(
            suggest(
                &[
                    "--exec-api-version",
                    "v1beta1",
                    "--keep-backups",
                    "10",
                    "--renew-within",
                    "30d"
                ],
                &Env::default()
            ),
            "kubefix --apply"
        );
    }
}
