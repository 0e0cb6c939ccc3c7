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
pub mod invocation;
pub mod kubeconfig;
pub mod kubectl_messages;
pub mod persist;
pub mod plan;
pub mod plugins;
pub mod privilege;
pub mod probe;
pub mod render;
pub mod restore;
pub mod rules;
pub mod sanitize;
pub mod schema;
pub mod secrets;
pub mod shell;
pub mod source;
pub mod yaml;

use std::io::Write;
use std::path::PathBuf;

pub use error::{display_path, ExitCode};

use cli::{Cli, Command, Mode, Output};
use error::Error;
use invocation::Invocation;
use plan::FilePlan;
use privilege::Owner;
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
    // As a kubectl plugin, errors and notes name the plugin (`kubectl fix: error: ...`).
    let mut diagnostics = error::Diagnostics::new(err, &cli::program_name(argv0));
    let err: &mut dyn Write = &mut diagnostics;
    match &cli.command {
        Some(Command::Completions { shell }) => completions(*shell, argv0, out),
        Some(Command::Man) => man(argv0, out, err),
        Some(Command::Rules) => {
            let _ = write!(out, "{}", rules::listing());
            ExitCode::Ok
        }
        Some(Command::Restore { list, backup }) => {
            let inv = Invocation::new(cli, env, argv0);
            restore::run(&inv, env, *list, backup.as_deref(), out, err)
        }
        Some(Command::Probe {
            context,
            all_contexts,
            timeout,
            apply,
        }) => {
            let args = probe::Args {
                context: context.clone(),
                all_contexts: *all_contexts,
                timeout: *timeout,
                apply: *apply,
                command: Invocation::new(cli, env, argv0).command,
            };
            probe::run(cli, env, &args, out, err)
        }
        None => check(&Invocation::new(cli, env, argv0), env, out, err),
    }
}

/// `kubefix completions SHELL`.
fn completions(shell: clap_complete::Shell, argv0: &str, out: &mut dyn Write) -> ExitCode {
    let mut cmd = cli::command_for(argv0);
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, cli::completion_name(argv0), &mut script);
    if shell == clap_complete::Shell::Fish {
        script = fish_completes_values(&String::from_utf8_lossy(&script)).into_bytes();
    }
    let _ = out.write_all(&script);
    ExitCode::Ok
}

/// clap_complete's fish script finds the subcommand typed so far with fish's `argparse`, which
/// fails while an option still waits for its value (`kubefix --rule <TAB>`): then no
/// completion applies and fish offers file names instead of the rule ids. Parse the words
/// before that option instead.
fn fish_completes_values(script: &str) -> String {
    let mut fixed = String::with_capacity(script.len() + 200);
    let mut lines = script.split_inclusive('\n').peekable();
    while let Some(line) = lines.next() {
        fixed.push_str(line);
        let parse = line.trim_end();
        if parse.trim_start().starts_with("argparse -s (")
            && parse.ends_with(" -- $cmd 2>/dev/null")
            && lines.peek().is_some_and(|l| l.trim() == "or return")
        {
            let indent = &parse[..parse.len() - parse.trim_start().len()];
            let before = parse.replace(" -- $cmd 2>/dev/null", " -- $cmd[1..-2] 2>/dev/null");
            fixed.push_str(&format!(
                "{indent}# An option still waiting for its value: parse the words before it.\n\
                 {indent}or {}\n",
                before.trim_start()
            ));
        }
    }
    fixed
}

/// `kubefix man`.
fn man(argv0: &str, out: &mut dyn Write, err: &mut dyn Write) -> ExitCode {
    let mut page = Vec::new();
    match write_man(argv0, &mut page).and_then(|()| out.write_all(&page)) {
        Ok(()) => ExitCode::Ok,
        // `kubefix man | head` is not an error.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::Ok,
        Err(e) => {
            let _ = writeln!(err, "kubefix: error: cannot write the man page: {e}");
            ExitCode::Error
        }
    }
}

/// The man page: clap_mangen's title, name, description and options, then sections of our
/// own where its defaults mislead: a synopsis with every command and its value names, the
/// subcommands described in this page (there are no `kubefix-restore(1)` pages), and EXIT
/// STATUS, FILES and EXAMPLES instead of one "EXTRA" section.
fn write_man(argv0: &str, w: &mut dyn Write) -> std::io::Result<()> {
    let cmd = cli::command_for(argv0);
    let man = clap_mangen::Man::new(cmd.clone());
    man.render_title(w)?;
    man.render_name_section(w)?;
    let name = cmd.get_bin_name().unwrap_or("kubefix").to_string();
    let usage = |c: &clap::Command| -> String {
        c.clone()
            .render_usage()
            .to_string()
            .trim_start_matches("Usage: ")
            .to_string()
    };
    writeln!(w, ".SH SYNOPSIS")?;
    let mut first = true;
    let mut subs: Vec<clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .cloned()
        .collect();
    for line in std::iter::once(usage(&cmd)).chain(
        subs.iter_mut()
            .map(|s| usage(&s.clone().bin_name(format!("{name} {}", s.get_name())))),
    ) {
        if !first {
            writeln!(w, ".br")?;
        }
        first = false;
        writeln!(w, "{}", roff(&line))?;
    }
    man.render_description_section(w)?;
    man.render_options_section(w)?;
    writeln!(w, ".SH COMMANDS")?;
    for sub in &subs {
        writeln!(w, ".SS \"{} {}\"", roff(&name), roff(sub.get_name()))?;
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            writeln!(w, "{}", roff(&about.to_string()))?;
        }
        for arg in sub
            .get_arguments()
            .filter(|a| !a.is_global_set() && a.get_id() != "help")
        {
            let takes_value = arg.get_action().takes_values();
            let label = match (arg.get_long(), arg.get_value_names()) {
                (Some(l), Some(v)) if takes_value => format!(
                    "\\fB\\-\\-{}\\fR \\fI<{}>\\fR",
                    roff(l),
                    roff(v[0].as_ref())
                ),
                (Some(l), _) => format!("\\fB\\-\\-{}\\fR", roff(l)),
                (None, Some(v)) => format!("\\fI{}\\fR", roff(v[0].as_ref())),
                (None, None) => roff(arg.get_id().as_str()),
            };
            writeln!(w, ".TP\n{label}")?;
            if let Some(h) = arg.get_long_help().or(arg.get_help()) {
                writeln!(w, "{}", roff(&h.to_string()))?;
            }
        }
    }
    // Exit codes, files and examples as `--help` shows them (under the plugin's name as one).
    let after = cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_else(|| cli::AFTER_HELP.to_string());
    let after = after.as_str();
    let part = |head: &str| -> String {
        let start = after
            .find(head)
            .map(|i| i + head.len())
            .unwrap_or(after.len());
        let rest = &after[start..];
        let end = rest.find("\n\n").unwrap_or(rest.len());
        rest[..end].trim_matches('\n').to_string()
    };
    writeln!(
        w,
        ".SH \"EXIT STATUS\"\n.nf\n{}\n.fi",
        roff(&part("Exit codes:"))
    )?;
    writeln!(
        w,
        ".SH ENVIRONMENT\n{}",
        roff(&part("Files:").replace('\n', " "))
    )?;
    writeln!(w, ".SH EXAMPLES\n.nf\n{}\n.fi", roff(&part("Examples:")))?;
    writeln!(w, ".SH \"SEE ALSO\"\nkubectl(1)")?;
    man.render_version_section(w)
}

/// Text for roff: backslashes and hyphens escaped, no line starting with a control character.
fn roff(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('-', "\\-")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Check the kubeconfigs (and with --apply fix them): plan every file, write only when all
/// planned cleanly, report.
fn check(
    inv: &Invocation,
    env: &source::Env,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    if let Some(id) = inv.rules.selection.unknown() {
        let e = Error::Usage(format!(
            "unknown rule {:?}; `{} rules` lists them",
            sanitize::clean_field(id),
            inv.command.program.join(" ")
        ));
        // A script asking for JSON gets the JSON error document, as for every usage error.
        if inv.output == Output::Json {
            let none = render::Outcome {
                written: &[],
                backups: &[],
            };
            let errors = [e];
            render::write_json(out, &render::json_report(&[], &none, &errors, &inv.view));
            render::print_errors(&errors, err, false, &[]);
        } else {
            render::print_errors(&[e], err, false, &[]);
        }
        return ExitCode::Error;
    }
    // A credential source the user named but that cannot be used: report, write nothing.
    let mut errors: Vec<Error> = inv.rules.credentials.preflight(&inv.command);
    let (plans, owners) = plan_all(inv, env, &mut errors);
    let applied = if inv.mode == Mode::Apply && errors.is_empty() {
        apply(inv, &plans, &owners, &mut errors)
    } else {
        Applied::nothing(plans.len())
    };
    let done = render::Outcome {
        written: &applied.written,
        backups: &applied.backups,
    };
    match inv.output {
        Output::Json => {
            render::write_json(out, &render::json_report(&plans, &done, &errors, &inv.view))
        }
        Output::Text if !inv.quiet => {
            let apply = inv.suggest(&["--apply"]);
            let summary = errors.is_empty().then_some(apply.as_str());
            let _ = write!(
                out,
                "{}",
                render::text_report(&plans, &done, &inv.view, summary)
            );
        }
        Output::Text => {}
    }
    render::print_notes(&applied.notes, err);
    let nothing_written = inv.mode == Mode::Apply && !applied.written.iter().any(|w| *w);
    if render::print_errors(&errors, err, nothing_written, &applied.kept) {
        return ExitCode::Error;
    }
    let attention = plans
        .iter()
        .flat_map(|p| &p.findings)
        .filter(|f| f.severity <= Severity::Warning)
        .count();
    if inv.mode == Mode::Check && attention > 0 {
        return ExitCode::NeedsAttention;
    }
    ExitCode::Ok
}

/// Plan every selected file, each as whom it is read and written as: its owner when kubefix
/// runs as root on someone else's file (see `persist::owner_for`), else kubefix itself.
/// Errors are collected; then the names shared by all files are checked.
fn plan_all(
    inv: &Invocation,
    env: &source::Env,
    errors: &mut Vec<Error>,
) -> (Vec<FilePlan>, Vec<Option<Owner>>) {
    let files = source::select(inv.kubeconfig.as_deref(), env).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let mut plans: Vec<FilePlan> = Vec::new();
    let mut owners: Vec<Option<Owner>> = Vec::new();
    for path in &files {
        // The whole plan runs as the owner: the files the kubeconfig names (certificates,
        // tokens) are read with the owner's rights, never root's. The credential sources were
        // read as root before, when the options were built.
        let planned = persist::owner_for(path).and_then(|owner| {
            plan::refuse_force_identity(path, &inv.rules, owner.as_ref())?;
            let p = persist::as_owner(owner.as_ref(), path, || {
                let bytes = plan::read(path)?;
                plan::plan_owned(path, bytes, &inv.rules)
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
        plan::cross_file(&mut plans, &inv.rules);
    }
    (plans, owners)
}

/// What --apply did with each planned file.
struct Applied {
    written: Vec<bool>,
    backups: Vec<Option<PathBuf>>,
    /// Backups written for a file whose write then failed: the file is unchanged, but
    /// "nothing was written" would not be true.
    kept: Vec<PathBuf>,
    notes: Vec<String>,
}

impl Applied {
    fn nothing(n: usize) -> Applied {
        Applied {
            written: vec![false; n],
            backups: vec![None; n],
            kept: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// Write every changed plan (called only when every file planned cleanly).
fn apply(
    inv: &Invocation,
    plans: &[FilePlan],
    owners: &[Option<Owner>],
    errors: &mut Vec<Error>,
) -> Applied {
    let mut applied = Applied::nothing(plans.len());
    let writes = plans.iter().any(FilePlan::changed);
    if let Some(dir) = inv
        .write
        .backup_dir
        .as_deref()
        .filter(|d| writes && !d.is_dir())
    {
        errors.push(Error::Usage(format!(
            "--backup-dir {}: no such directory (create it first; nothing was written)",
            display_path(dir)
        )));
        return applied;
    }
    // Each file's bytes in its own encoding (UTF-16 text is written back as UTF-16).
    let bytes: Vec<_> = plans
        .iter()
        .map(|p| {
            (
                p.encoding.encode(&p.original),
                p.new_text.as_deref().map(|t| p.encoding.encode(t)),
            )
        })
        .collect();
    let jobs: Vec<persist::Job<'_>> = plans
        .iter()
        .zip(owners)
        .zip(&bytes)
        .map(|((p, o), (original, new))| persist::Job {
            path: &p.path,
            owner: o.as_ref(),
            original,
            new: new.as_deref(),
            mode: p.new_mode,
        })
        .collect();
    let batch = persist::write_all(&jobs, &inv.write);
    for (i, d) in batch.done.iter().enumerate() {
        if let persist::Done::Replaced(w) = d {
            if w.in_place {
                applied
                    .notes
                    .push(render::in_place_note(&plans[i].path, &w.backup));
            }
        }
        applied.written[i] = d.written();
        applied.backups[i] = d.backup().cloned();
    }
    applied.kept = batch.kept();
    errors.extend(batch.error);
    applied
}
