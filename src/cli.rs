//! Command-line definitions. Every flag is documented where it is defined; `--help` shows it.

use std::path::PathBuf;

use clap::{ArgGroup, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::rules::{AzureLogin, ExecApiVersion, RuleOptions};

pub const AFTER_HELP: &str = "\
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

/// `kubefix --version`: the version, the git commit it was built from and the build date
/// (`SOURCE_DATE_EPOCH` when set), from `build.rs`.
pub const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("KUBEFIX_GIT_COMMIT"),
    ", built ",
    env!("KUBEFIX_BUILD_DATE"),
    ")"
);

#[derive(Debug, Parser)]
#[command(
    name = "kubefix",
    version = LONG_VERSION,
    about = "Repair broken kubeconfig files without losing a comment",
    long_about = "Finds what makes kubectl fail in a kubeconfig (exec plugins on the removed \
                  client.authentication.k8s.io/v1alpha1, missing interactiveMode, ...), shows a \
                  unified diff of the repair, and with --apply writes a backup and replaces the \
                  file atomically. Only the repaired values change.",
    after_help = AFTER_HELP,
    group(ArgGroup::new("mode").args(["dry_run", "check", "apply"]))
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Report findings and print the diff; write nothing (the default).
    #[arg(long, help_heading = "Mode")]
    pub dry_run: bool,

    /// Report findings; exit 1 if anything needs attention, else 0. Writes nothing.
    #[arg(long, help_heading = "Mode")]
    pub check: bool,

    /// Fix in place: back up each changed file, then replace it atomically.
    #[arg(long, help_heading = "Mode")]
    pub apply: bool,

    /// The kubeconfig to work on, instead of $KUBECONFIG or ~/.kube/config (for restore: the
    /// file whose backup is put back).
    #[arg(long, value_name = "PATH", global = true, help_heading = "Files")]
    pub kubeconfig: Option<PathBuf>,

    /// API version that exec plugins on v1alpha1 move to. v1 also adds
    /// `interactiveMode: IfAvailable` where it is missing, as v1 requires.
    #[arg(long, value_enum, default_value_t = ExecApiVersion::V1beta1, value_name = "VERSION", help_heading = "Rules")]
    pub exec_api_version: ExecApiVersion,

    /// Refresh stale client certificates from this K3s kubeconfig (default
    /// /etc/rancher/k3s/k3s.yaml, also /etc/rancher/rke2/rke2.yaml and
    /// /etc/kubernetes/admin.conf when they exist). Naming a source makes it required and
    /// replaces the defaults.
    #[arg(long, value_name = "PATH", help_heading = "Credential sources")]
    pub k3s_config: Option<PathBuf>,

    /// Another admin kubeconfig to refresh credentials from (RKE2, kubeadm's admin.conf, a
    /// fresh copy); repeatable. Replaces the default locations, like --k3s-config.
    #[arg(
        long = "from",
        value_name = "PATH",
        help_heading = "Credential sources"
    )]
    pub from: Vec<PathBuf>,

    /// The context of your kubeconfig that belongs to the source's cluster, when neither its
    /// CA nor its server identifies it.
    #[arg(
        long,
        alias = "source-context",
        value_name = "NAME",
        help_heading = "Credential sources"
    )]
    pub k3s_context: Option<String>,

    /// Treat credentials as expiring this long before they expire (30d, 2w, 720h): warn, and
    /// refresh them from a source.
    #[arg(long, alias = "warn-within", value_name = "DURATION", default_value = "30d",
          value_parser = |s: &str| crate::inspect::expiry::RenewWithin::parse(s), help_heading = "Credential sources")]
    pub renew_within: crate::inspect::expiry::RenewWithin,

    /// Refresh the credentials of this user entry (repeatable) even when the source's
    /// certificate names another user or groups (subject CN and O); without it such a swap is
    /// only reported. Refused when kubefix runs as root on a file owned by another user.
    #[arg(long, value_name = "USER-ENTRY", help_heading = "Credential sources")]
    pub force_identity: Vec<String>,

    /// For entries that read their certificate and key from files, replace the paths by inline
    /// client-certificate-data and client-key-data instead of only reporting the commands.
    #[arg(long, help_heading = "Credential sources")]
    pub inline_credentials: bool,

    /// Login method for azure auth-providers converted to kubelogin (as `kubelogin
    /// convert-kubeconfig --login`): devicecode keeps client, tenant and environment;
    /// azurecli, azd, msi and workloadidentity keep only the server id.
    #[arg(long, value_enum, default_value_t = AzureLogin::DeviceCode, value_name = "METHOD", help_heading = "Rules")]
    pub azure_login: AzureLogin,

    /// Convert oidc auth-providers to an exec plugin: `kubectl oidc-login get-token`
    /// (int128/kubelogin). Without it they are only reported.
    #[arg(long, help_heading = "Rules")]
    pub migrate_oidc: bool,

    /// Run every exec credential plugin (stdin closed, 10 s limit) and check that it answers
    /// in the configured API version; reports missing plugins with their installHint, and
    /// asks an aws-cli whose install layout does not tell its version (`aws --version`).
    /// Without it, kubefix runs no program a kubeconfig names. Run as root on a file that
    /// belongs to another user (or for a program another user could replace), each plugin
    /// runs as that user: their uid, gid and groups, HOME their home, PATH
    /// /usr/local/bin:/usr/bin:/bin, no other inherited environment.
    #[arg(long, help_heading = "Rules")]
    pub probe_exec: bool,

    /// Run only this rule (repeatable); `kubefix rules` lists them.
    #[arg(long = "rule", value_name = "ID", value_parser = RuleId, hide_possible_values = true, help_heading = "Rules")]
    pub rules: Vec<String>,

    /// Do not run this rule (repeatable).
    #[arg(long = "skip", value_name = "ID", value_parser = RuleId, hide_possible_values = true, help_heading = "Rules")]
    pub skip: Vec<String>,

    /// Replace a kubeconfig that has other names (hard links) anyway: the name given gets a
    /// new, fixed file and the other names keep the old content. Without it such a file is
    /// refused.
    #[arg(long, global = true, help_heading = "Files")]
    pub break_hardlink: bool,

    /// Where backups are written (--apply, restore) and looked for (restore, --list), instead of
    /// beside each kubeconfig.
    #[arg(long, value_name = "DIR", global = true, help_heading = "Files")]
    pub backup_dir: Option<PathBuf>,

    /// With --apply, keep only the newest N kubefix backups of each written file, deleting
    /// older ones (only files named <file>.kubefix-<UTC time>.bak); 0 keeps all.
    #[arg(long, value_name = "N", default_value_t = 10, help_heading = "Files")]
    pub keep_backups: usize,

    /// Show keys, certificates, tokens, passwords, exec env values and secret exec arguments in
    /// diffs and reports instead of redacting them.
    #[arg(long, help_heading = "Output")]
    pub show_secrets: bool,

    /// Output format: human-readable text, or one JSON document on stdout.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text, global = true, help_heading = "Output")]
    pub output: Output,

    /// Print nothing but kubefix's own errors (unreadable or invalid files, refused writes); the
    /// exit code tells the rest (with --check: whether anything needs attention).
    #[arg(
        short,
        long,
        conflicts_with = "verbose",
        global = true,
        help_heading = "Output"
    )]
    pub quiet: bool,

    /// Say more: also report files with no problems (probe: a table of every context).
    #[arg(short, long, global = true, help_heading = "Output")]
    pub verbose: bool,

    /// When to colour output (NO_COLOR is honoured with auto).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN", global = true, help_heading = "Output")]
    pub color: ColorChoice,
}

/// Subcommands; without one, kubefix checks (and with --apply fixes) kubeconfigs.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a shell completion script, e.g. `kubefix completions bash >
    /// ~/.local/share/bash-completion/completions/kubefix` (README: every shell's path).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): `kubefix man > ~/.local/share/man/man1/kubefix.1`.
    Man,
    /// List every rule: its id, whether it can fix (write) or only reports, and what it finds.
    Rules,
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
    /// Ask each context's API server whether it is reachable, trusted and accepts the
    /// credentials, and name the exact reason when not. Credentials (and exec plugins) go only
    /// to a server whose certificate verified. Writes nothing unless --apply. Exit 0: every
    /// context works; 1: one fails; 2: kubefix could not run. Node kubeconfigs that explain a
    /// changed CA are the main command's: `kubefix --k3s-config PATH probe`.
    Probe {
        /// The context to probe (default: current-context).
        #[arg(long, value_name = "NAME", conflicts_with = "all_contexts")]
        context: Option<String>,
        /// Probe every context, in parallel.
        #[arg(long)]
        all_contexts: bool,
        /// Deadline for each context, exec plugins included (10s, 500ms, 1m).
        #[arg(long, value_name = "DURATION", default_value = "10s",
              value_parser = |s: &str| humantime::parse_duration(s).map_err(|e| e.to_string()))]
        timeout: std::time::Duration,
        /// Write the one repair the server proves right: `tls-server-name` set to `kubernetes`
        /// (or `kubernetes.default`, `.svc`, `.svc.cluster.local`), names every API server
        /// certificate has, when the server's certificate has it and verifies with it against
        /// the cluster's own CA (backup first). Never with the public roots, never another
        /// name. The context is not probed again in the same run: run `kubefix probe` again.
        #[arg(long)]
        apply: bool,
    },
}

/// The values of `--rule` and `--skip`: any text (an unknown id is kubefix's own usage error,
/// which `-o json` reports as a JSON document), offering the registry's ids with their
/// descriptions to shell completion (bash, zsh, fish and `kubectl_complete-fix`).
#[derive(Clone, Copy, Debug)]
pub struct RuleId;

impl clap::builder::TypedValueParser for RuleId {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<String, clap::Error> {
        clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(crate::rules::registry().iter().map(|r| {
            clap::builder::PossibleValue::new(r.id()).help(r.description())
        })))
    }
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
            credentials: self.credential_sources(),
            renew_within: self.renew_within,
            force_identity: self.force_identity.clone(),
            inline_credentials: self.inline_credentials,
            azure_login: self.azure_login,
            migrate_oidc: self.migrate_oidc,
            probe_exec: self.probe_exec,
            selection: crate::rules::Selection {
                only: self.rules.clone(),
                skip: self.skip.clone(),
            },
            command: crate::shell::CommandLine::default(),
        }
    }

    /// The credential sources: those named with --k3s-config and --from, else every known
    /// default location.
    pub fn credential_sources(&self) -> crate::credentials::Sources {
        use crate::credentials::{SourceKind, SourceSpec, Sources};
        let mut specs: Vec<SourceSpec> = Vec::new();
        if let Some(p) = &self.k3s_config {
            specs.push(SourceSpec {
                kind: SourceKind::K3s,
                path: p.clone(),
                flag: Some("--k3s-config"),
            });
        }
        specs.extend(self.from.iter().map(|p| SourceSpec {
            kind: SourceKind::guess(p),
            path: p.clone(),
            flag: Some("--from"),
        }));
        if specs.is_empty() {
            specs = Sources::defaults();
        }
        Sources::new(specs, self.k3s_context.clone())
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

/// The name kubefix answers to, from the name it was invoked by (argv\[0\]): `kubefix`, or for
/// a kubectl plugin executable the command that runs it. kubectl runs `kubectl-WORDS` for
/// `kubectl WORDS`, with `-` between words and `_` for a `-` inside one: `kubectl-fix` is
/// `kubectl fix`, `kubectl-fix_kubeconfig` (krew's link for the plugin `fix-kubeconfig`) is
/// `kubectl fix-kubeconfig`.
pub fn program_name(argv0: &str) -> String {
    match plugin_executable(argv0) {
        Some(exe) => {
            let words: Vec<String> = exe["kubectl-".len()..]
                .split('-')
                .map(|w| w.replace('_', "-"))
                .collect();
            format!("kubectl {}", words.join(" "))
        }
        None => "kubefix".to_string(),
    }
}

/// The file name of `argv0` when it is a kubectl plugin executable (`kubectl-` and a plugin
/// name kubectl can run: ASCII letters, digits, `-`, `_`).
fn plugin_executable(argv0: &str) -> Option<String> {
    let base = std::path::Path::new(argv0).file_name()?.to_str()?;
    let name = base.strip_prefix("kubectl-")?;
    let valid = |w: &str| {
        !w.is_empty()
            && w.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    };
    (name.split('-').all(valid)).then(|| base.to_string())
}

/// Whether kubectl invoked us for a plugin's completions: as `kubectl_complete-PLUGIN`
/// (`kubectl_complete-fix`, `kubectl_complete-fix_kubeconfig`).
pub fn is_plugin_completion(argv0: &str) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("kubectl_complete-"))
}

/// The executable name shell completion scripts are written for: `kubefix`, or the plugin
/// executable (`kubectl-fix`) when invoked as one.
pub fn completion_name(argv0: &str) -> String {
    plugin_executable(argv0).unwrap_or_else(|| "kubefix".to_string())
}

/// The command definition, named as invoked: `kubectl fix` (or `kubectl fix-kubeconfig`) when
/// run as a kubectl plugin, else `kubefix`. As a plugin, the usage line and every command the
/// help quotes (`` `kubefix rules` ``) use the plugin's name.
pub fn command_for(argv0: &str) -> clap::Command {
    let name = program_name(argv0);
    let cmd = Cli::command();
    if name == "kubefix" {
        return cmd;
    }
    let exe = completion_name(argv0);
    let rename = |text: &str| -> String {
        let text = text
            .replace("`kubefix ", &format!("`{name} "))
            .replace("completions/kubefix`", &format!("completions/{exe}`"))
            .replace("\n  kubefix ", &format!("\n  {name} "));
        align_examples(&text, &format!("  {name} "))
    };
    renamed(cmd, &rename).bin_name(&name)
}

/// The example lines of `text` (those starting with `prefix`) with their explanations, after
/// two or more spaces, lined up again one column past the longest command.
fn align_examples(text: &str, prefix: &str) -> String {
    let split = |line: &str| -> Option<(usize, usize)> {
        let rest = line.strip_prefix(prefix)?;
        let gap = rest.find("  ")? + prefix.len();
        let explanation = gap + line[gap..].len() - line[gap..].trim_start().len();
        Some((gap, explanation))
    };
    let width = text
        .lines()
        .filter_map(|l| split(l).map(|(gap, _)| gap))
        .max();
    let Some(width) = width else {
        return text.to_string();
    };
    let lines: Vec<String> = text
        .split('\n')
        .map(|l| match split(l) {
            Some((gap, explanation)) => format!("{:width$}  {}", &l[..gap], &l[explanation..]),
            None => l.to_string(),
        })
        .collect();
    lines.join("\n")
}

/// `cmd` with `rename` applied to its help texts and its arguments' and subcommands'.
fn renamed(cmd: clap::Command, rename: &dyn Fn(&str) -> String) -> clap::Command {
    let text = |s: Option<&clap::builder::StyledStr>| s.map(|s| rename(&s.to_string()));
    let mut cmd = cmd;
    if let Some(t) = text(cmd.get_about()) {
        cmd = cmd.about(t);
    }
    if let Some(t) = text(cmd.get_long_about()) {
        cmd = cmd.long_about(t);
    }
    if let Some(t) = text(cmd.get_after_help()) {
        cmd = cmd.after_help(t);
    }
    cmd.mut_args(|a| {
        let help = a.get_help().map(|h| rename(&h.to_string()));
        let long = a.get_long_help().map(|h| rename(&h.to_string()));
        let a = match help {
            Some(h) => a.help(h),
            None => a,
        };
        match long {
            Some(h) => a.long_help(h),
            None => a,
        }
    })
    .mut_subcommands(|s| renamed(s, rename))
}

/// Cobra's shell-completion directives, as kubectl relays them for plugins.
const DIRECTIVE_DEFAULT: u32 = 0; // the shell may also offer file names
const DIRECTIVE_NO_FILES: u32 = 4;

/// Completions for `kubectl fix …` in kubectl's plugin-completion protocol: kubectl runs
/// `kubectl_complete-fix WORD… PARTIAL` and reads one candidate per line (`value\tdescription`),
/// then `:DIRECTIVE`. Returns the candidates and the directive.
pub fn complete(words: &[String]) -> (Vec<String>, u32) {
    let cmd = Cli::command();
    let (partial, before) = match words.split_last() {
        Some((p, b)) => (p.as_str(), b),
        None => ("", &[][..]),
    };
    // The command whose flags apply: the last subcommand named so far.
    let mut current = &cmd;
    for w in before {
        if let Some(sub) = current.find_subcommand(w) {
            current = sub;
        }
    }
    // `value<TAB>first sentence of its help`, or just the value.
    let candidate = |value: &str, help: Option<&clap::builder::StyledStr>| {
        let help = help.map(|h| h.to_string()).unwrap_or_default();
        let first = help.lines().next().unwrap_or("");
        let first = first.split(". ").next().unwrap_or("").trim_end_matches('.');
        if first.is_empty() {
            value.to_string()
        } else {
            format!("{value}\t{first}")
        }
    };
    let all_args = || {
        current
            .get_arguments()
            .chain(cmd.get_arguments().filter(|a| a.is_global_set()))
    };
    // A flag that takes a value was just typed: complete its value.
    if let Some(prev) = before.last().filter(|p| p.starts_with('-')) {
        let flag = all_args().find(|a| {
            a.get_long().is_some_and(|l| prev == &format!("--{l}"))
                || a.get_short().is_some_and(|s| prev == &format!("-{s}"))
        });
        if let Some(arg) = flag.filter(|a| a.get_action().takes_values()) {
            let values: Vec<String> = arg
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set() && v.get_name().starts_with(partial))
                .map(|v| candidate(v.get_name(), v.get_help()))
                .collect();
            return if values.is_empty() {
                (Vec::new(), DIRECTIVE_DEFAULT) // a path or free text: let the shell offer files
            } else {
                (values, DIRECTIVE_NO_FILES)
            };
        }
    }
    let mut out = Vec::new();
    if partial.starts_with('-') {
        for arg in all_args() {
            if arg.is_hide_set() {
                continue;
            }
            if let Some(long) = arg.get_long() {
                let flag = format!("--{long}");
                if flag.starts_with(partial) {
                    out.push(candidate(&flag, arg.get_help()));
                }
            }
        }
        out.sort();
        out.dedup();
    } else {
        for sub in current.get_subcommands().filter(|s| !s.is_hide_set()) {
            if sub.get_name().starts_with(partial) {
                out.push(candidate(sub.get_name(), sub.get_about()));
            }
        }
        for arg in current.get_positionals() {
            for v in arg.get_possible_values() {
                if v.get_name().starts_with(partial) {
                    out.push(candidate(v.get_name(), v.get_help()));
                }
            }
        }
    }
    (out, DIRECTIVE_NO_FILES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_names_are_read_as_kubectl_runs_them() {
        for (argv0, name, completes_for) in [
            ("kubefix", "kubefix", "kubefix"),
            ("/usr/local/bin/kubefix", "kubefix", "kubefix"),
            (
                "/home/a/.local/bin/kubectl-fix",
                "kubectl fix",
                "kubectl-fix",
            ),
            (
                "/root/.krew/bin/kubectl-fix_kubeconfig",
                "kubectl fix-kubeconfig",
                "kubectl-fix_kubeconfig",
            ),
            // `kubectl fix kubeconfig` runs kubectl-fix-kubeconfig.
            (
                "kubectl-fix-kubeconfig",
                "kubectl fix kubeconfig",
                "kubectl-fix-kubeconfig",
            ),
            // Not a name kubectl runs as a plugin.
            ("kubectl-", "kubefix", "kubefix"),
            ("kubectl-fix--x", "kubefix", "kubefix"),
            ("kubectl-fix me", "kubefix", "kubefix"),
            ("kubectl", "kubefix", "kubefix"),
        ] {
            assert_eq!(program_name(argv0), name, "{argv0}");
            assert_eq!(completion_name(argv0), completes_for, "{argv0}");
            assert!(!is_plugin_completion(argv0), "{argv0}");
        }
        assert!(is_plugin_completion("/x/kubectl_complete-fix"));
        assert!(is_plugin_completion("kubectl_complete-fix_kubeconfig"));
    }

    #[test]
    fn examples_line_up_after_renaming() {
        let text = "Examples:\n  kubectl fix-kubeconfig    show\n  kubectl fix-kubeconfig --check  exit 1\n  kubectl fix-kubeconfig --apply --exec-api-version v1\nmore";
        assert_eq!(
            align_examples(text, "  kubectl fix-kubeconfig "),
            "Examples:\n  kubectl fix-kubeconfig          show\n  kubectl fix-kubeconfig --check  exit 1\n  kubectl fix-kubeconfig --apply --exec-api-version v1\nmore"
        );
    }
}
