//! Rules: each reads the kubeconfig view and reports findings, each with an optional fix.
//!
//! A rule never touches text or byte offsets itself: it asks the YAML layer for changes
//! (replace this scalar, insert this entry) and hands them back as data. The plan applies all
//! fixes of a file at once. Adding a rule is a new file here plus one line in [`registry`];
//! the file declares the rule in one line with `rule!`:
//!
//! ```ignore
//! rule!(InsecureWithCaRule, "insecure-with-ca", fixes, "clusters with insecure-skip-tls-verify and a CA, …");
//! ```

/// Declare a rule: its type, id, whether it `fixes` or only `reports`, and its one-sentence
/// description (the `kubefix rules` listing). Defines the unit struct, the id as a constant
/// (`ID`, or the name after `as`), and the rule's [`Meta`]; the file then implements
/// [`Rule::check`] (or [`Rule::check_files`]).
macro_rules! rule {
    ($(#[$attr:meta])* $ty:ident, $id:literal, $writes:ident, $description:literal) => {
        rule!($(#[$attr])* $ty as ID, $id, $writes, $description);
    };
    ($(#[$attr:meta])* $ty:ident as $const:ident, $id:literal, $writes:ident, $description:literal) => {
        $(#[$attr])*
        pub struct $ty;

        #[allow(dead_code)]
        pub const $const: &str = $id;

        impl $crate::rules::support::rule::Declared for $ty {
            fn meta(&self) -> &'static $crate::rules::support::rule::Meta {
                &$crate::rules::support::rule::Meta {
                    id: $id,
                    writes: rule!(@writes $writes),
                    description: $description,
                }
            }
        }
    };
    (@writes fixes) => { true };
    (@writes reports) => { false };
}

mod auth_methods;
mod azure_auth_provider;
mod ca_data_and_file;
mod cert_data_and_file;
mod cluster_server;
mod credential_data;
mod credential_expiry;
mod dangling_reference;
mod duplicate_key;
mod duplicate_name;
mod exec_api_version;
mod exec_command;
mod exec_plugin_version;
mod extra_documents;
mod file_permissions;
mod gcp_auth_provider;
mod insecure_with_ca;
pub mod k3s_credentials;
mod missing_file;
mod no_kubeconfig_keys;
mod oidc_auth_provider;
pub mod support;
mod unknown_key;

use crate::kubeconfig::names::FileNames;

pub use crate::finding::{Finding, Fix, Severity};
pub use crate::kubeconfig::EntryRef;
pub use support::rule::{
    AzureLogin, Context, Declared, ExecApiVersion, Meta, Rule, RuleOptions, Selection,
};

impl Selection {
    /// Every named id must be a rule; returns the first unknown one.
    pub fn unknown(&self) -> Option<&str> {
        self.only
            .iter()
            .chain(&self.skip)
            .find(|id| !registry().iter().any(|r| r.id() == id.as_str()))
            .map(String::as_str)
    }
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
        &credential_data::CredentialPemRule,
        &credential_data::CredentialEncodingRule,
        &exec_command::ExecCommandRule,
        &exec_command::ExecOnPathRule,
        &exec_command::ExecRenamedRule,
        &file_permissions::FilePermissionsRule,
        &unknown_key::UnknownKeyRule,
        &duplicate_key::DuplicateKeyRule,
        &extra_documents::ExtraDocumentsRule,
        &no_kubeconfig_keys::NoKubeconfigKeysRule,
    ]
}

/// Run the cross-file part of every selected rule over all loaded files (in load order).
pub fn run_cross_file(files: &[&FileNames], options: &RuleOptions) -> Vec<(usize, Finding)> {
    let mut out = Vec::new();
    for rule in registry()
        .iter()
        .filter(|r| options.selection.enabled(r.id()))
    {
        rule.check_files(files, options, &mut out);
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
