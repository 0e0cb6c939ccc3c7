//! The command line, once: the low-level arguments ([`Cli`], as clap parsed them) become the
//! high-level settings every command reads ([`Invocation`]), built in one place (as ripgrep's
//! `HiArgs`). Commands never look at [`Cli`] again.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use crate::cli::{Cli, ColorChoice, Mode, Output};
use crate::persist::WriteOptions;
use crate::render::{Style, View};
use crate::rules::RuleOptions;

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
    /// The name kubefix was invoked by: `kubectl fix` as the kubectl plugin, else `kubefix`.
    pub name: &'static str,
}

impl Invocation {
    /// The settings of `cli`; `argv0` is the name kubefix was invoked by.
    pub fn new(cli: &Cli, argv0: &str) -> Invocation {
        let color = match cli.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        };
        let mode = cli.mode();
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
            rules: cli.rule_options(),
            write: WriteOptions {
                backup_dir: cli.backup_dir.clone(),
                keep_backups: Some(cli.keep_backups),
                mode: None,
                break_hardlink: cli.break_hardlink,
            },
            name: program_name(argv0),
        }
    }
}

/// `kubectl fix` when invoked as the kubectl plugin `kubectl-fix`, else `kubefix`.
pub fn program_name(argv0: &str) -> &'static str {
    if Path::new(argv0)
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-fix"))
    {
        "kubectl fix"
    } else {
        "kubefix"
    }
}
