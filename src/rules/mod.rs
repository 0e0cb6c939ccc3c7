//! Rules: each reads the kubeconfig view and reports findings, each with an optional fix.
//!
//! A rule never touches text or byte offsets itself: it asks the YAML layer for changes
//! (replace this scalar, insert this entry) and hands them back as data. The plan applies all
//! fixes of a file at once. Adding a rule is a new file here plus one line in [`registry`].

mod auth_methods;
mod auth_provider;
mod aws_version;
mod azure_auth_provider;
mod ca_data_and_file;
mod cert_data_and_file;
mod cluster_server;
mod credential_data;
mod credential_expiry;
mod dangling_reference;
mod duplicate_name;
mod exec_api_version;
mod exec_command;
mod exec_plugin_version;
mod file_permissions;
mod gcp_auth_provider;
mod insecure_with_ca;
pub mod k3s_credentials;
mod missing_file;
pub mod names;
mod oidc_auth_provider;
pub(crate) mod plugin;
mod support_data;
#[cfg(test)]
mod testutil;
mod vendor_hints;

use std::path::Path;

use serde::Serialize;

use crate::kubeconfig::{Entry, Kubeconfig, Section};
use crate::yaml::Change;

pub use azure_auth_provider::AzureLogin;

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

/// The named entry a finding is about.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct EntryRef {
    pub kind: Section,
    pub name: String,
}

impl std::fmt::Display for EntryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind.key(), self.name)
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
}

impl Finding {
    pub fn new(rule: &'static str, severity: Severity, line: usize, message: String) -> Finding {
        Finding {
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

    pub fn fix(mut self, title: impl Into<String>, changes: Vec<Change>) -> Finding {
        self.fix = Some(Fix {
            title: title.into(),
            changes,
            mode: None,
        });
        self
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

/// Target version for exec plugins that must move off v1alpha1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, Serialize)]
pub enum ExecApiVersion {
    #[default]
    #[value(name = "v1beta1")]
    V1beta1,
    #[value(name = "v1")]
    V1,
}

impl ExecApiVersion {
    pub fn api_version(self) -> &'static str {
        match self {
            ExecApiVersion::V1beta1 => "client.authentication.k8s.io/v1beta1",
            ExecApiVersion::V1 => "client.authentication.k8s.io/v1",
        }
    }
}

/// Settings the rules read.
#[derive(Clone, Debug, Default)]
pub struct RuleOptions {
    pub exec_api_version: ExecApiVersion,
    /// Where fresh admin credentials may be read (`--k3s-config`, `--from`, defaults).
    pub credentials: crate::credentials::Sources,
    /// `--renew-within`: how soon before expiry a credential counts as expiring.
    pub renew_within: crate::inspect::expiry::RenewWithin,
    /// `--force-identity USER-ENTRY`: the user entries whose credentials may be swapped for
    /// the source's even when CN/O differ.
    pub force_identity: Vec<String>,
    /// `--inline-credentials`: replace certificate file paths by inline data.
    pub inline_credentials: bool,
    /// `--azure-login`: the kubelogin login method azure auth-providers convert to.
    pub azure_login: AzureLogin,
    /// `--migrate-oidc`: convert oidc auth-providers to int128/kubelogin exec.
    pub migrate_oidc: bool,
    /// `--probe-exec`: run every exec plugin and check the API version it returns.
    pub probe_exec: bool,
    /// `--rule` / `--skip`: which rules run.
    pub selection: Selection,
}

/// Which rules run: all, or only those named, minus those skipped.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Selection {
    pub fn enabled(&self, id: &str) -> bool {
        (self.only.is_empty() || self.only.iter().any(|r| r == id))
            && !self.skip.iter().any(|r| r == id)
    }

    /// Every named id must be a rule; returns the first unknown one.
    pub fn unknown(&self) -> Option<&str> {
        self.only
            .iter()
            .chain(&self.skip)
            .find(|id| !registry().iter().any(|r| r.id() == id.as_str()))
            .map(String::as_str)
    }
}

/// What a rule sees.
pub struct Context<'v, 'd, 'a> {
    pub path: &'v Path,
    pub config: &'v Kubeconfig<'d, 'a>,
    pub options: &'v RuleOptions,
    /// The expiry table, computed once per file on first use (decoding every certificate of
    /// a big merged kubeconfig is not free) and shared by rules and the plan.
    pub expiry: std::cell::OnceCell<Vec<crate::inspect::ExpiryRow>>,
    /// The credential-refresh analysis, also computed once: `k3s-credentials` reports it and
    /// `credential-expiry` leaves out the users it covers.
    k3s: std::cell::OnceCell<Vec<Finding>>,
}

impl<'v, 'd, 'a> Context<'v, 'd, 'a> {
    pub fn new(
        path: &'v Path,
        config: &'v Kubeconfig<'d, 'a>,
        options: &'v RuleOptions,
    ) -> Context<'v, 'd, 'a> {
        Context {
            path,
            config,
            options,
            expiry: std::cell::OnceCell::new(),
            k3s: std::cell::OnceCell::new(),
        }
    }

    /// The findings of the credential-refresh analysis (see `k3s_credentials::analyze`).
    pub fn k3s_analysis(&self) -> &[Finding] {
        self.k3s.get_or_init(|| k3s_credentials::analyze(self))
    }

    /// Every credential of the file with its expiry.
    pub fn expiry_table(&self) -> &[crate::inspect::ExpiryRow] {
        self.expiry.get_or_init(|| {
            crate::inspect::expiry::table(
                self.config,
                self.path,
                self.options.renew_within,
                crate::inspect::now(),
            )
        })
    }
}

pub trait Rule: Sync {
    /// Stable identifier, used in reports and JSON.
    fn id(&self) -> &'static str;
    /// One sentence: what the rule finds.
    fn description(&self) -> &'static str;
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>);
    /// Whether the rule can change files (with --apply) or only reports.
    fn writes(&self) -> bool {
        false
    }
    /// Rules about names shared by all loaded files (`$KUBECONFIG` is one merged config to
    /// client-go) look at every file's [`names::FileNames`] at once, after all files are
    /// planned; each finding goes with the index of its file.
    fn check_files(&self, _files: &[&names::FileNames], _out: &mut Vec<(usize, Finding)>) {}
}

/// Every rule, in the order they run.
pub fn registry() -> &'static [&'static dyn Rule] {
    &[
        &exec_api_version::ExecApiVersionRule,
        &k3s_credentials::K3sCredentialsRule,
        &credential_expiry::CredentialExpiryRule,
        &gcp_auth_provider::GcpAuthProviderRule,
        &azure_auth_provider::AzureAuthProviderRule,
        &oidc_auth_provider::OidcAuthProviderRule,
        &exec_plugin_version::ExecPluginVersionRule,
        &insecure_with_ca::InsecureWithCaRule,
        &ca_data_and_file::CaDataAndFileRule,
        &cert_data_and_file::CertDataAndFileRule,
        &missing_file::MissingFileRule,
        &dangling_reference::DanglingReferenceRule,
        &duplicate_name::DuplicateNameRule,
        &auth_methods::AuthMethodsRule,
        &cluster_server::ClusterServerRule,
        &credential_data::CredentialDataRule,
        &exec_command::ExecCommandRule,
        &file_permissions::FilePermissionsRule,
    ]
}

/// Run the cross-file part of every selected rule over all loaded files (in load order).
pub fn run_cross_file(files: &[&names::FileNames], selection: &Selection) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    for rule in registry().iter().filter(|r| selection.enabled(r.id())) {
        rule.check_files(files, &mut out);
    }
    out
}

/// Run the selected rules that can fix something (the idempotence check after a fix: a
/// report-only rule cannot make a second run write).
pub fn run_fixers(cx: &Context<'_, '_, '_>) -> Vec<Finding> {
    merge(run_kind(cx, true))
}

/// Run every selected rule over one file.
pub fn run_all(cx: &Context<'_, '_, '_>) -> Vec<Finding> {
    let mut found = run_kind(cx, true);
    found.extend(run_kind(cx, false));
    merge(found)
}

/// The findings of one rule, with the rule's place in [`registry`].
pub type RuleFindings = (usize, Vec<Finding>);

/// Run the selected rules that fix (`fixers`) or only report (`!fixers`), each rule's findings
/// apart so [`merge`] can put the two groups back in registry order. The plan runs the
/// fixers first: their edits are all the repaired text needs.
pub fn run_kind(cx: &Context<'_, '_, '_>, fixers: bool) -> Vec<RuleFindings> {
    registry()
        .iter()
        .enumerate()
        .filter(|(_, r)| r.writes() == fixers && cx.options.selection.enabled(r.id()))
        .map(|(i, rule)| {
            let mut out = Vec::new();
            rule.check(cx, &mut out);
            (i, out)
        })
        .collect()
}

/// Findings in registry order (then in each rule's own order).
pub fn merge(mut found: Vec<RuleFindings>) -> Vec<Finding> {
    found.sort_by_key(|(i, _)| *i);
    found.into_iter().flat_map(|(_, f)| f).collect()
}

/// The `kubefix rules` listing.
pub fn listing() -> String {
    let width = registry().iter().map(|r| r.id().len()).max().unwrap_or(0);
    registry()
        .iter()
        .map(|r| {
            format!(
                "{:width$}  {:7}  {}\n",
                r.id(),
                if r.writes() { "fixes" } else { "reports" },
                r.description()
            )
        })
        .collect()
}
