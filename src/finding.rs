//! Findings are data: what a rule found (severity, entry, line, message, kubectl's own
//! words) and, optionally, its fix (a title and the YAML changes that make it). Rules build
//! them, the plan applies their fixes, and the renderers print them.

use serde::Serialize;

use crate::kubeconfig::{Entry, EntryRef, Section};
use crate::yaml::Change;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// kubectl fails on this entry today.
    Error,
    /// Works today, breaks soon or is deprecated.
    Warning,
    /// Worth knowing; nothing breaks.
    Info,
}

impl Severity {
    pub fn label(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A fix is data: a title and the changes that make it.
#[derive(Debug, Clone)]
pub struct Fix {
    pub title: String,
    pub changes: Vec<Change>,
    /// A new permission mode for the file (no text change needed).
    pub mode: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub rule: &'static str,
    /// A finer code within the rule, where one rule reports several kinds of problem
    /// (`credential-expiry`: `cert-expired`, `cert-expiring`, `token-expired`, ...).
    pub code: Option<&'static str>,
    pub severity: Severity,
    pub entry: Option<EntryRef>,
    /// 1-based line of the offending value.
    pub line: usize,
    pub message: String,
    /// What kubectl prints because of this, verbatim, where that is known.
    pub kubectl_error: Option<String>,
    /// What to do when kubefix cannot fix it.
    pub hint: Option<String>,
    pub fix: Option<Fix>,
    /// How many problems this finding stands for: 1, or, for the "… and N more" finding that
    /// closes a long list, N (and `fix` then covers the fixed ones among them). Counts and
    /// summaries add this up, so a capped list still reports every fix made.
    pub count: usize,
    /// How many of [`Finding::count`] were fixed (0 or 1 for an ordinary finding with a fix).
    pub fixed_count: usize,
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, line: usize, message: String) -> Finding {
        Finding {
            count: 1,
            fixed_count: 0,
            rule,
            code: None,
            severity,
            entry: None,
            line,
            message,
            kubectl_error: None,
            hint: None,
            fix: None,
        }
    }

    pub fn entry(self, entry: &Entry) -> Finding {
        let name = entry.name.clone().unwrap_or_else(|| "<unnamed>".into());
        self.named(entry.section, name)
    }

    /// The entry by section and name (for rules that see names, not entries).
    pub fn named(mut self, kind: Section, name: String) -> Finding {
        self.entry = Some(EntryRef { kind, name });
        self
    }

    pub fn code(mut self, code: &'static str) -> Finding {
        self.code = Some(code);
        self
    }

    pub fn kubectl_says(mut self, message: impl Into<String>) -> Finding {
        self.kubectl_error = Some(message.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Finding {
        self.hint = Some(hint.into());
        self
    }

    /// How many fixes this finding stands for (see [`Finding::count`]).
    pub fn fixes(&self) -> usize {
        match &self.fix {
            None => 0,
            Some(_) if self.count > 1 => self.fixed_count,
            Some(_) => 1,
        }
    }

    pub fn fix(mut self, title: impl Into<String>, changes: Vec<Change>) -> Finding {
        self.fix = Some(Fix {
            title: title.into(),
            changes,
            mode: None,
        });
        self
    }

    /// The fix when the YAML layer could make its changes, else a hint to do it by hand:
    /// "`by_hand` by hand (why not)".
    pub fn fix_or_hint<E: std::fmt::Display>(
        self,
        title: impl Into<String>,
        changes: Result<Vec<Change>, E>,
        by_hand: impl std::fmt::Display,
    ) -> Finding {
        match changes {
            Ok(changes) => self.fix(title, changes),
            Err(e) => self.hint(format!("{by_hand} by hand ({e})")),
        }
    }

    /// A fix that only changes the file's permission bits.
    pub fn fix_mode(mut self, title: impl Into<String>, mode: u32) -> Finding {
        self.fix = Some(Fix {
            title: title.into(),
            changes: Vec::new(),
            mode: Some(mode),
        });
        self
    }
}
