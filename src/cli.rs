//! Command-line definitions. Every flag is documented where it is defined; `--help` shows it.

use std::path::PathBuf;

use clap::{ArgGroup, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::rules::{ExecApiVersion, RuleOptions};

const AFTER_HELP: &str = "\
Exit codes:
  0  success: nothing to fix, dry run done, or fixes applied
  1  --check found something that needs attention
  2  error: bad usage, unreadable or invalid kubeconfig, refused or failed write
     (nothing is written when any file cannot be read, parsed, verified or locked)

Files: --kubeconfig PATH, else every file of $KUBECONFIG (colon-separated), else
~/.kube/config (the invoking user's under sudo). Each file is checked and edited in
place on its own; comments and formatting are kept byte for byte.

Examples:
  kubefix                      show what is wrong and the diff that fixes it
  kubefix --check              exit 1 if anything needs attention (for scripts)
  kubefix --apply              back up, then fix in place
  kubefix --apply --exec-api-version v1
  kubefix -o json --kubeconfig ./eks.yaml";

#[derive(Debug, Parser)]
#[command(
    name = "kubefix",
    version,
    about = "Repair broken kubeconfig files without losing a comment",
    long_about = "Finds what makes kubectl fail in a kubeconfig (exec plugins on the removed \
                  client.authentication.k8s.io/v1alpha1, missing interactiveMode, ...), shows a \
                  unified diff of the repair, and with --apply writes a backup and replaces the \
                  file atomically. Only the repaired values change.",
    after_help = AFTER_HELP,
    group(ArgGroup::new("mode").args(["dry_run", "check", "apply"])),
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Report findings and print the diff; write nothing (the default).
    #[arg(long)]
    pub dry_run: bool,

    /// Report findings; exit 1 if anything needs attention, else 0. Writes nothing.
    #[arg(long)]
    pub check: bool,

    /// Fix in place: back up each changed file, then replace it atomically.
    #[arg(long)]
    pub apply: bool,

    /// The kubeconfig to check (instead of $KUBECONFIG or ~/.kube/config).
    #[arg(long, value_name = "PATH", global = true)]
    pub kubeconfig: Option<PathBuf>,

    /// API version that exec plugins on v1alpha1 move to. v1 also adds
    /// `interactiveMode: IfAvailable` where it is missing, as v1 requires.
    #[arg(long, value_enum, default_value_t = ExecApiVersion::V1beta1, value_name = "VERSION")]
    pub exec_api_version: ExecApiVersion,

    /// Write backups to DIR instead of beside each kubeconfig.
    #[arg(long, value_name = "DIR", global = true)]
    pub backup_dir: Option<PathBuf>,

    /// With --apply, keep only the newest N kubefix backups of each written file, deleting
    /// older ones (only files named <file>.kubefix-<UTC time>.bak); 0 keeps all.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub keep_backups: usize,

    /// Show keys, certificates, tokens and passwords in diffs instead of redacting them.
    #[arg(long)]
    pub show_secrets: bool,

    /// Output format: human-readable text, or one JSON document on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text, global = true)]
    pub output: Output,

    /// Print errors only.
    #[arg(short, long, conflicts_with = "verbose", global = true)]
    pub quiet: bool,

    /// Also report files with no problems.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// When to colour output (NO_COLOR is honoured with auto).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true)]
    pub color: ColorChoice,
}

/// Subcommands; without one, kubefix checks (and with --apply fixes) kubeconfigs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script: `kubefix completions bash > /etc/bash_completion.d/kubefix`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `kubefix man > /usr/local/share/man/man1/kubefix.1`.
    Man,
    /// Put the newest kubefix backup back (the current content is backed up first), or
    /// list the backups with --list. Files are chosen as for checking (--kubeconfig,
    /// $KUBECONFIG, ~/.kube/config); backups are looked for beside each file or in
    /// --backup-dir.
    Restore {
        /// List the kubefix backups of each file, newest first, with their dates; write nothing.
        #[arg(long)]
        list: bool,
        /// Restore this backup (a name or path from --list) instead of the newest.
        #[arg(value_name = "BACKUP", conflicts_with = "list")]
        backup: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// What the command does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    DryRun,
    Check,
    Apply,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::DryRun => "dry-run",
            Mode::Check => "check",
            Mode::Apply => "apply",
        }
    }
}

impl Cli {
    /// The settings rules read, from the flags. Each rule's flags map here.
    pub fn rule_options(&self) -> RuleOptions {
        RuleOptions {
            exec_api_version: self.exec_api_version,
            ..RuleOptions::default()
        }
    }

    pub fn mode(&self) -> Mode {
        if self.apply {
            Mode::Apply
        } else if self.check {
            Mode::Check
        } else {
            Mode::DryRun
        }
    }
}

/// The command definition, named as invoked: `kubectl fix` when run as the kubectl plugin
/// `kubectl-fix`, else `kubefix`.
pub fn command_for(argv0: &str) -> clap::Command {
    let base = std::path::Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let cmd = Cli::command();
    if base.starts_with("kubectl-fix") {
        cmd.bin_name("kubectl fix")
            .after_help(AFTER_HELP.replace("kubefix ", "kubectl fix "))
    } else {
        cmd
    }
}
