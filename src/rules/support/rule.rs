//! The rule framework: the [`Rule`] trait and its [`Meta`] (declared with `rule!`), the
//! [`Context`] a rule sees, and the [`RuleOptions`] it reads.

use std::path::Path;

use serde::Serialize;

use crate::finding::Finding;
use crate::kubeconfig::names::FileNames;
use crate::kubeconfig::Kubeconfig;

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

/// kubelogin's `--login` methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AzureLogin {
    #[default]
    #[value(name = "devicecode")]
    DeviceCode,
    #[value(name = "interactive")]
    Interactive,
    #[value(name = "spn")]
    Spn,
    #[value(name = "ropc")]
    Ropc,
    #[value(name = "msi")]
    Msi,
    #[value(name = "azurecli")]
    AzureCli,
    #[value(name = "azd")]
    Azd,
    #[value(name = "workloadidentity")]
    WorkloadIdentity,
}

impl AzureLogin {
    pub fn name(self) -> &'static str {
        match self {
            AzureLogin::DeviceCode => "devicecode",
            AzureLogin::Interactive => "interactive",
            AzureLogin::Spn => "spn",
            AzureLogin::Ropc => "ropc",
            AzureLogin::Msi => "msi",
            AzureLogin::AzureCli => "azurecli",
            AzureLogin::Azd => "azd",
            AzureLogin::WorkloadIdentity => "workloadidentity",
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
    /// The kubefix command that runs on the same files with the same settings, for hints
    /// that tell the user what to run (`command.with(&["--apply"])`).
    pub command: crate::shell::CommandLine,
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
}

/// What a rule sees.
pub struct Context<'v, 'd, 'a> {
    pub path: &'v Path,
    pub config: &'v Kubeconfig<'d, 'a>,
    pub options: &'v RuleOptions,
    /// The expiry table, computed once per file on first use (decoding every certificate of
    /// a big merged kubeconfig is not free) and shared by rules and the plan.
    pub expiry: std::cell::OnceCell<Vec<crate::inspect::ExpiryRow>>,
    /// The credential-refresh analysis, also computed once: `k3s-credentials` reports it (see `k3s_credentials::analysis`) and
    /// `credential-expiry` leaves out the users it covers.
    pub(crate) k3s: std::cell::OnceCell<Vec<Finding>>,
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

/// What `kubefix rules` says about a rule; declared with `rule!`.
#[derive(Debug)]
pub struct Meta {
    /// Stable identifier, used in reports and JSON.
    pub id: &'static str,
    /// Whether the rule can change files (with --apply) or only reports.
    pub writes: bool,
    /// One sentence: what the rule finds.
    pub description: &'static str,
}

/// A rule's [`Meta`]; implemented by `rule!`.
pub trait Declared {
    fn meta(&self) -> &'static Meta;
}

pub trait Rule: Declared + Sync {
    /// Look at one file.
    fn check(&self, _cx: &Context<'_, '_, '_>, _out: &mut Vec<Finding>) {}
    /// Rules about names shared by all loaded files (`$KUBECONFIG` is one merged config to
    /// client-go) look at every file's [`FileNames`] at once, after all files are
    /// planned; each finding goes with the index of its file.
    fn check_files(
        &self,
        _files: &[&FileNames],
        _options: &RuleOptions,
        _out: &mut Vec<(usize, Finding)>,
    ) {
    }
    /// Stable identifier, used in reports and JSON.
    fn id(&self) -> &'static str {
        self.meta().id
    }
    /// Whether the rule can change files (with --apply) or only reports.
    fn writes(&self) -> bool {
        self.meta().writes
    }
    /// One sentence: what the rule finds.
    fn description(&self) -> &'static str {
        self.meta().description
    }
}
