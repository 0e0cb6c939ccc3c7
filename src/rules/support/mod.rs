//! Helpers shared by several rules, and the rule framework itself ([`rule`]). Nothing here
//! is a rule: `rules/` holds one file per rule, this folder what they have in common.

pub mod auth_provider;
pub mod data;
pub mod renew;
pub mod rule;
#[cfg(test)]
pub mod testutil;
pub mod vendor_hints;
pub mod view;

pub use crate::finding::{Finding, Fix, Severity};
pub use rule::{AzureLogin, Context, Declared, ExecApiVersion, Meta, Rule, RuleOptions, Selection};
