//! kubefix: repair broken kubeconfig files losslessly.
//!
//! Data flows one way: path → bytes → [`yaml::Document`] (spans) → [`kubeconfig::Kubeconfig`]
//! view → [`rules`] → findings with fixes → one [`yaml::Patch`] per file → verified new text
//! ([`plan`]) → redacted diff and report ([`render`]) → with `--apply`, lock, backup, atomic
//! replace ([`persist`]). The binary is a thin wrapper around [`run`].

pub mod backup;
pub mod cli;
pub mod credentials;
pub mod error;
pub mod finding;
pub mod inspect;
pub mod kubeconfig;
pub mod kubectl_messages;
pub mod persist;
pub mod plan;
pub mod plugins;
pub mod privilege;
pub mod render;
pub mod restore;
pub mod rules;
pub mod sanitize;
pub mod schema;
pub mod secrets;
pub mod source;
pub mod yaml;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

pub use error::{display_path, ExitCode};

use cli::{Cli, ColorChoice, Command, Mode, Output};
use error::Error;
use plan::FilePlan;
use render::{JsonFile, JsonFinding, JsonReport, JsonSummary, Style};
use rules::Severity;

/// Run kubefix with parsed arguments. Reports go to `out`, diagnostics to `err`. `argv0` is
/// the name it was invoked by (`kubectl-fix` as a kubectl plugin).
pub fn run(
    cli: &Cli,
    env: &source::Env,
    argv0: &str,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    match &cli.command {
        Some(Command::Completions { shell }) => {
            let mut cmd = cli::command_for(argv0);
            let name = cmd.get_bin_name().unwrap_or("kubefix").to_string();
            let name = if name == "kubectl fix" {
                "kubectl-fix".to_string()
            } else {
                name
            };
            clap_complete::generate(*shell, &mut cmd, name, out);
            return ExitCode::Ok;
        }
        Some(Command::Man) => {
            return match clap_mangen::Man::new(cli::command_for(argv0)).render(out) {
                Ok(()) => ExitCode::Ok,
                // `kubefix man | head` is not an error.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::Ok,
                Err(e) => {
                    let _ = writeln!(err, "kubefix: error: cannot write the man page: {e}");
                    ExitCode::Error
                }
            };
        }
        Some(Command::Rules) => {
            let _ = write!(out, "{}", rules::listing());
            return ExitCode::Ok;
        }
        Some(Command::Restore { list, backup }) => {
            return restore::run(cli, env, *list, backup.as_deref(), out, err);
        }
        None => {}
    }
    let mode = cli.mode();
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        }
    };
    let style = Style {
        color: color && cli.output == Output::Text,
    };
    let options = cli.rule_options();
    if let Some(id) = options.selection.unknown() {
        let _ = writeln!(
            err,
            "kubefix: error: unknown rule {id:?}; `kubefix rules` lists them"
        );
        return ExitCode::Error;
    }

    let mut errors: Vec<Error> = Vec::new();
    // A credential source the user named but that cannot be used: report, write nothing.
    errors.extend(options.credentials.preflight());
    let files = match source::select(cli.kubeconfig.as_deref(), env) {
        Ok(files) => files,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let mut plans: Vec<FilePlan> = Vec::new();
    // Whom each planned file is read and written as: its owner when kubefix runs as root on
    // someone else's file (see `persist::owner_for`), else kubefix itself.
    let mut owners: Vec<Option<privilege::Owner>> = Vec::new();
    for path in &files {
        // The whole plan runs as the owner: the files the kubeconfig names (certificates,
        // tokens) are read with the owner's rights, never root's. The credential sources were
        // read as root before, when the options were built.
        let planned = persist::owner_for(path).and_then(|owner| {
            plan::refuse_force_identity(path, &options, owner.as_ref())?;
            let p = persist::as_owner(owner.as_ref(), path, || {
                let bytes = plan::read(path)?;
                plan::plan_owned(path, bytes, &options)
            })?;
            Ok((p, owner))
        });
        match planned {
            Ok((p, owner)) => {
                plans.push(p);
                owners.push(owner);
            }
            Err(e) => errors.push(e),
        }
    }
    // Names shared by all loaded files (dangling references, shadowed duplicates); skipped
    // when a file could not be read, since its names are unknown.
    if errors.is_empty() {
        plan::cross_file(&mut plans, &options.selection);
    }

    // Write only when every file planned cleanly: an error anywhere means nothing is written.
    let mut backups: Vec<Option<PathBuf>> = vec![None; plans.len()];
    let mut written = vec![false; plans.len()];
    // Backups written for a file whose write then failed: the file is unchanged, but
    // "nothing was written" would not be true.
    let mut kept: Vec<PathBuf> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    if mode == Mode::Apply && errors.is_empty() {
        let writes = plans.iter().any(FilePlan::changed);
        if let Some(dir) = cli.backup_dir.as_deref().filter(|d| writes && !d.is_dir()) {
            errors.push(Error::Usage(format!(
                "--backup-dir {}: no such directory (create it first; nothing was written)",
                display_path(dir)
            )));
        }
    }
    if mode == Mode::Apply && errors.is_empty() {
        let wopts = persist::WriteOptions {
            backup_dir: cli.backup_dir.clone(),
            keep_backups: Some(cli.keep_backups),
            mode: None,
            break_hardlink: cli.break_hardlink,
        };
        let locks = persist::lock_all(
            plans
                .iter()
                .zip(&owners)
                .filter(|(p, _)| p.changed())
                .map(|(p, o)| (&*p.path, o.as_ref())),
        )
        .unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        let mut locks = locks.into_iter();
        for (i, p) in plans.iter().enumerate() {
            if !errors.is_empty() {
                break;
            }
            if !p.changed() {
                continue;
            }
            let lock = locks.next().expect("one lock per changed file");
            let result = match &p.new_text {
                Some(new) => persist::replace(
                    &p.path,
                    p.original.as_bytes(),
                    new.as_bytes(),
                    &persist::WriteOptions {
                        mode: p.new_mode,
                        ..wopts.clone()
                    },
                    &lock,
                )
                .map(Some),
                None => persist::set_mode(
                    &p.path,
                    p.original.as_bytes(),
                    p.new_mode
                        .expect("changed without new text means a new mode"),
                    &lock,
                )
                .map(|()| None)
                .map_err(persist::Failure::from),
            };
            match result {
                Ok(w) => {
                    if let Some(w) = &w {
                        if w.in_place {
                            notes.push(in_place_note(&p.path, &w.backup));
                        }
                    }
                    backups[i] = w.map(|w| w.backup);
                    written[i] = true;
                }
                Err(f) => {
                    if let Some(b) = &f.backup {
                        kept.push(b.clone());
                    }
                    backups[i] = f.backup;
                    errors.push(f.error);
                    break;
                }
            }
        }
    }

    let attention = plans
        .iter()
        .flat_map(|p| &p.findings)
        .filter(|f| f.severity <= Severity::Warning)
        .count();

    match cli.output {
        Output::Json => {
            let mut summary = JsonSummary {
                files: plans.len(),
                errors: errors.len(),
                ..JsonSummary::default()
            };
            let files = plans
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let label = sanitize::clean_path(&p.path.display().to_string());
                    let findings: Vec<JsonFinding> = p
                        .findings
                        .iter()
                        .map(|f| JsonFinding {
                            rule: f.rule,
                            code: f.code,
                            severity: f.severity,
                            message: f.message.clone(),
                            entry: f.entry.clone(),
                            line: f.line,
                            fixable: f.fix.is_some(),
                            fixed: f.fix.is_some() && written[i],
                            fix: f.fix.as_ref().map(|x| x.title.clone()),
                            kubectl_error: f.kubectl_error.clone(),
                            hint: f.hint.clone(),
                        })
                        .collect();
                    summary.findings += findings.len();
                    summary.fixable += findings.iter().filter(|f| f.fixable).count();
                    summary.fixed += findings.iter().filter(|f| f.fixed).count();
                    JsonFile {
                        diff: render::diff(p, &label, cli.show_secrets, Style { color: false }),
                        path: label,
                        changed: written[i],
                        backup: backups[i]
                            .as_ref()
                            .map(|b| sanitize::clean_path(&b.display().to_string())),
                        findings,
                        expiry: p.expiry.clone(),
                    }
                })
                .collect();
            let report = JsonReport {
                schema_version: render::JSON_SCHEMA_VERSION,
                mode: mode.name(),
                files,
                errors: render::json_errors(&errors),
                summary,
            };
            crate::render::write_json(out, &report);
        }
        Output::Text => {
            if !cli.quiet {
                for (i, p) in plans.iter().enumerate() {
                    let label = display_path(&p.path);
                    let _ = write!(
                        out,
                        "{}",
                        render::human_findings(p, &label, written[i], cli.verbose, style)
                    );
                    let table = inspect::expiry::render_text(&p.expiry, written[i]);
                    if !table.is_empty() {
                        if p.findings.is_empty() && !cli.verbose {
                            let _ = writeln!(out, "{}", sanitize::clean(&label));
                        }
                        let _ = write!(out, "{table}");
                    }
                    if mode != Mode::Check {
                        let d = render::diff(p, &label, cli.show_secrets, style);
                        if !d.is_empty() {
                            let _ = write!(out, "\n{d}");
                        }
                    }
                    if let Some(b) = &backups[i] {
                        let _ = writeln!(out, "backup: {}", sanitize::clean(&display_path(b)));
                    }
                }
                if errors.is_empty() {
                    let name = if Path::new(argv0)
                        .file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("kubectl-fix"))
                    {
                        "kubectl fix"
                    } else {
                        "kubefix"
                    };
                    let line = summary_line(&plans, &written, mode, name);
                    let _ = writeln!(out, "{}", sanitize::clean(&line));
                }
            }
        }
    }
    for n in &notes {
        let _ = writeln!(err, "kubefix: note: {n}");
    }
    if render::print_errors(
        &errors,
        err,
        mode == Mode::Apply && !written.iter().any(|w| *w),
        &kept,
    ) {
        return ExitCode::Error;
    }
    if mode == Mode::Check && attention > 0 {
        return ExitCode::NeedsAttention;
    }
    ExitCode::Ok
}

/// What to tell the user after a file was rewritten in place (a bind mount).
fn in_place_note(path: &Path, backup: &Path) -> String {
    format!(
        "{} is a mount point (a bind mount, as `docker run -v` makes), which cannot be replaced \
         by a rename: it was rewritten in place under the lock instead, which is not atomic \
         (a crash during the write could leave it partial; the backup is {})",
        display_path(path),
        display_path(backup)
    )
}

fn summary_line(plans: &[FilePlan], written: &[bool], mode: Mode, name: &str) -> String {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let fixable: usize = plans.iter().map(FilePlan::fixable).sum();
    let other: usize = plans.iter().map(|p| p.findings.len() - p.fixable()).sum();
    let names = |pred: &dyn Fn(usize) -> bool| {
        plans
            .iter()
            .enumerate()
            .filter(|(i, _)| pred(*i))
            .map(|(_, p)| display_path(&p.path))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let line = if fixable == 0 {
        format!("no fixes needed in {}", names(&|_| true))
    } else if mode == Mode::Apply {
        format!(
            "{} applied in {}",
            plural(fixable, "fix", "fixes"),
            names(&|i| written[i])
        )
    } else {
        format!(
            "{} pending in {}; run {name} --apply",
            plural(fixable, "fix", "fixes"),
            names(&|i| plans[i].changed())
        )
    };
    if other > 0 {
        format!(
            "{line}; {} to fix by hand (see hints above)",
            plural(other, "problem", "problems")
        )
    } else {
        line
    }
}
