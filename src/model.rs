//! client-go's kubeconfig schema (`clientcmd/api/v1`), as typed serde structs.
//!
//! Used for one thing: a typed read of the whole file that rejects what client-go's decoder
//! rejects (a list where a mapping belongs, a mapping where a string belongs, ...), with the
//! line and column of the offending value. Unknown fields are ignored, as client-go does.
//! Every field is optional because client-go treats absent fields as empty.

use std::collections::BTreeMap;

use serde::Deserialize;

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Config {
    pub kind: Option<String>,
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    pub preferences: Option<Preferences>,
    pub clusters: Option<Vec<NamedCluster>>,
    pub users: Option<Vec<NamedAuthInfo>>,
    pub contexts: Option<Vec<NamedContext>>,
    #[serde(rename = "current-context")]
    pub current_context: Option<String>,
    pub extensions: Option<Vec<NamedExtension>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Preferences {
    pub colors: Option<bool>,
    pub extensions: Option<Vec<NamedExtension>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NamedExtension {
    pub name: Option<String>,
    pub extension: Option<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NamedCluster {
    pub name: Option<String>,
    pub cluster: Option<Cluster>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct Cluster {
    pub server: Option<String>,
    pub tls_server_name: Option<String>,
    pub insecure_skip_tls_verify: Option<bool>,
    pub certificate_authority: Option<String>,
    pub certificate_authority_data: Option<String>,
    pub proxy_url: Option<String>,
    pub disable_compression: Option<bool>,
    pub extensions: Option<Vec<NamedExtension>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NamedContext {
    pub name: Option<String>,
    pub context: Option<Context>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct Context {
    pub cluster: Option<String>,
    pub user: Option<String>,
    pub namespace: Option<String>,
    pub extensions: Option<Vec<NamedExtension>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct NamedAuthInfo {
    pub name: Option<String>,
    pub user: Option<AuthInfo>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default, rename_all = "kebab-case")]
pub struct AuthInfo {
    pub client_certificate: Option<String>,
    pub client_certificate_data: Option<String>,
    pub client_key: Option<String>,
    pub client_key_data: Option<String>,
    pub token: Option<String>,
    #[serde(rename = "tokenFile")]
    pub token_file: Option<String>,
    #[serde(rename = "as")]
    pub impersonate: Option<String>,
    #[serde(rename = "as-uid")]
    pub impersonate_uid: Option<String>,
    #[serde(rename = "as-groups")]
    pub impersonate_groups: Option<Vec<String>>,
    #[serde(rename = "as-user-extra")]
    pub impersonate_user_extra: Option<BTreeMap<String, Vec<String>>>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth_provider: Option<AuthProvider>,
    pub exec: Option<ExecConfig>,
    pub extensions: Option<Vec<NamedExtension>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct AuthProvider {
    pub name: Option<String>,
    pub config: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ExecConfig {
    pub command: Option<String>,
    pub args: Option<Vec<String>>,
    pub env: Option<Vec<ExecEnvVar>>,
    #[serde(rename = "apiVersion")]
    pub api_version: Option<String>,
    #[serde(rename = "installHint")]
    pub install_hint: Option<String>,
    #[serde(rename = "provideClusterInfo")]
    pub provide_cluster_info: Option<bool>,
    #[serde(rename = "interactiveMode")]
    pub interactive_mode: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ExecEnvVar {
    pub name: Option<String>,
    pub value: Option<String>,
}

/// A typed-read failure: message plus 1-based line and column when known.
#[derive(Debug, Clone)]
pub struct SchemaError {
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

/// Read `text` with client-go's types. Aliases are bounded by serde-saphyr's budget, so an
/// alias bomb fails fast instead of expanding.
pub fn typed_read(text: &str) -> Result<Config, SchemaError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    serde_saphyr::from_str::<Option<Config>>(text)
        .map(Option::unwrap_or_default)
        .map_err(|e| {
            let loc = e.location();
            SchemaError {
                line: loc.map(|l| l.line() as usize),
                column: loc.map(|l| l.column() as usize),
                message: first_line(&e.to_string()),
            }
        })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}
