//! What `kubefix probe` needs of a context, read from the kubeconfig files (merged as
//! client-go merges them: the first file naming an entry wins) into owned values: the
//! cluster's server, CA, TLS and proxy settings, and the user's credentials.
//!
//! Files a kubeconfig names (certificates, keys, token files) are read here, as the
//! kubeconfig's owner when kubefix runs as root on another user's file. Exec plugins are
//! not run here: only [`super::auth`] runs them, after the server's TLS has been verified.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::inspect::cert::Cert;
use crate::inspect::expiry::resolve_path;
use crate::inspect::{cert, decode_data};
use crate::kubeconfig::Kubeconfig;
use crate::privilege::Owner;
use crate::source::{self, Kind};
use crate::yaml::{Document, NodeId};
use serde::Serialize;

/// One context to probe.
#[derive(Clone, Debug)]
pub struct Target {
    pub context: String,
    pub cluster_name: Option<String>,
    pub user_name: Option<String>,
    pub cluster: Option<Cluster>,
    pub user: Option<User>,
}

/// A cluster entry.
#[derive(Clone, Debug, Default)]
pub struct Cluster {
    /// The kubeconfig that defines the cluster.
    pub file: PathBuf,
    pub server: Option<String>,
    /// The CA bundle (PEM or DER), or why it could not be read.
    pub ca: Option<Result<Vec<u8>, String>>,
    pub insecure: bool,
    pub tls_server_name: Option<String>,
    pub proxy_url: Option<String>,
    /// The fields as written, for `KUBERNETES_EXEC_INFO` with provideClusterInfo.
    pub exec_info_cluster: serde_json::Map<String, serde_json::Value>,
}

/// A user entry: the credentials kubectl would send.
#[derive(Clone, Debug, Default)]
pub struct User {
    /// The kubeconfig that defines the user (relative paths and exec commands resolve there).
    pub file: PathBuf,
    /// Client certificate and key (PEM), or why they could not be read.
    pub client_cert: Option<Result<ClientCert, String>>,
    /// Bearer token and where it came from (`token`, `tokenFile PATH`).
    pub token: Option<Result<(String, String), String>>,
    pub exec: Option<Exec>,
    pub basic_auth: bool,
    pub auth_provider: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ClientCert {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    /// `client-certificate-data`, or `client-certificate PATH`.
    pub origin: String,
}

#[derive(Clone, Debug, Default)]
pub struct Exec {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    pub api_version: String,
    pub provide_cluster_info: bool,
}

/// Everything loaded from the kubeconfig files.
#[derive(Debug, Default)]
pub struct Loaded {
    pub current_context: Option<String>,
    /// Context names in file order (first of each name).
    pub contexts: Vec<String>,
    pub targets: HashMap<String, Target>,
}

struct FileView {
    current_context: Option<String>,
    contexts: Vec<(String, Option<String>, Option<String>)>,
    clusters: Vec<(String, Cluster)>,
    users: Vec<(String, User)>,
}

/// Read `path` (as `owner` when given) into a view of its entries.
fn read_file(path: &Path, owner: Option<&Owner>) -> crate::error::Result<FileView> {
    crate::persist::as_owner(owner, path, || {
        let bytes = crate::plan::read(path)?;
        let (text, _) =
            crate::yaml::decode_file(bytes).map_err(|e| crate::error::Error::Invalid {
                path: path.to_path_buf(),
                line: e.position.line,
                column: e.position.column,
                message: e.message,
            })?;
        let invalid = |message: String| crate::error::Error::InvalidNoPosition {
            path: path.to_path_buf(),
            message,
        };
        if text.trim_start_matches('\u{feff}').trim().is_empty() {
            return Ok(FileView {
                current_context: None,
                contexts: Vec::new(),
                clusters: Vec::new(),
                users: Vec::new(),
            });
        }
        let doc = Document::parse(&text).map_err(|e| crate::error::Error::Invalid {
            path: path.to_path_buf(),
            line: e.position.line,
            column: e.position.column,
            message: e.message,
        })?;
        let kc = Kubeconfig::new(&doc).map_err(|e| invalid(e.message))?;
        Ok(view(&kc, path))
    })
}

fn view(kc: &Kubeconfig<'_, '_>, path: &Path) -> FileView {
    let s =
        |body: Option<NodeId>, key: &str| body.and_then(|b| kc.str_of(b, key)).map(str::to_string);
    let contexts = kc
        .contexts
        .iter()
        .filter_map(|e| Some((e.name.clone()?, s(e.body, "cluster"), s(e.body, "user"))))
        .collect();
    let clusters = kc
        .clusters
        .iter()
        .filter_map(|e| Some((e.name.clone()?, cluster(kc, e.body, path))))
        .collect();
    let users = kc
        .users
        .iter()
        .filter_map(|e| Some((e.name.clone()?, user(kc, e.body, path))))
        .collect();
    FileView {
        current_context: kc.current_context.clone().filter(|c| !c.is_empty()),
        contexts,
        clusters,
        users,
    }
}

/// Data from `*-data` (base64) or from the file named by `file_key`.
fn data_or_file(
    kc: &Kubeconfig<'_, '_>,
    body: NodeId,
    data_key: &str,
    file_key: &str,
    path: &Path,
    kind: Kind,
) -> Option<Result<(Vec<u8>, String), String>> {
    if let Some(d) = kc.str_of(body, data_key).filter(|d| !d.trim().is_empty()) {
        return Some(
            decode_data(d)
                .map(|b| (b, data_key.to_string()))
                .map_err(|e| format!("{data_key} is {e}")),
        );
    }
    let f = kc.str_of(body, file_key).filter(|f| !f.is_empty())?;
    let p = resolve_path(path, f);
    Some(
        source::read_regular(&p, kind)
            .map(|b| (b, format!("{file_key} {}", p.display())))
            .map_err(|e| format!("{file_key} {}: {}", p.display(), e.describe(kind))),
    )
}

fn cluster(kc: &Kubeconfig<'_, '_>, body: Option<NodeId>, path: &Path) -> Cluster {
    let Some(b) = body else {
        return Cluster {
            file: path.to_path_buf(),
            ..Cluster::default()
        };
    };
    let mut info = serde_json::Map::new();
    for key in [
        "server",
        "tls-server-name",
        "certificate-authority-data",
        "proxy-url",
    ] {
        if let Some(v) = kc.str_of(b, key) {
            info.insert(key.into(), v.into());
        }
    }
    let insecure = kc.str_of(b, "insecure-skip-tls-verify") == Some("true");
    if insecure {
        info.insert("insecure-skip-tls-verify".into(), true.into());
    }
    info.insert("config".into(), serde_json::Value::Null);
    Cluster {
        file: path.to_path_buf(),
        server: kc.str_of(b, "server").map(str::to_string),
        ca: data_or_file(
            kc,
            b,
            "certificate-authority-data",
            "certificate-authority",
            path,
            Kind::Certificate,
        )
        .map(|r| r.map(|(b, _)| b)),
        insecure,
        tls_server_name: kc
            .str_of(b, "tls-server-name")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        proxy_url: kc
            .str_of(b, "proxy-url")
            .filter(|s| !s.is_empty())
            .map(str::to_string),
        exec_info_cluster: info,
    }
}

fn strings(kc: &Kubeconfig<'_, '_>, node: Option<NodeId>) -> Vec<String> {
    node.and_then(|n| kc.doc.items(n))
        .unwrap_or(&[])
        .iter()
        .filter_map(|&i| kc.doc.scalar(i).map(str::to_string))
        .collect()
}

fn user(kc: &Kubeconfig<'_, '_>, body: Option<NodeId>, path: &Path) -> User {
    let mut u = User {
        file: path.to_path_buf(),
        ..User::default()
    };
    let Some(b) = body else {
        return u;
    };
    let cert = data_or_file(
        kc,
        b,
        "client-certificate-data",
        "client-certificate",
        path,
        Kind::Certificate,
    );
    let key = data_or_file(kc, b, "client-key-data", "client-key", path, Kind::Key);
    u.client_cert = match (cert, key) {
        (None, None) => None,
        (Some(Ok((c, origin))), Some(Ok((k, _)))) => Some(Ok(ClientCert {
            cert_pem: c,
            key_pem: k,
            origin,
        })),
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(e)),
        (Some(_), None) => Some(Err("a client certificate without a client key".into())),
        (None, Some(_)) => Some(Err("a client key without a client certificate".into())),
    };
    u.token = if let Some(t) = kc.str_of(b, "token").filter(|t| !t.is_empty()) {
        Some(Ok((t.trim().to_string(), "token".into())))
    } else if let Some(f) = kc.str_of(b, "tokenFile").filter(|f| !f.is_empty()) {
        let p = resolve_path(path, f);
        Some(
            source::read_regular(&p, Kind::Token)
                .map(|b| {
                    (
                        String::from_utf8_lossy(&b).trim().to_string(),
                        format!("tokenFile {}", p.display()),
                    )
                })
                .map_err(|e| format!("tokenFile {}: {}", p.display(), e.describe(Kind::Token))),
        )
    } else {
        None
    };
    if let Some(e) = kc.get(b, "exec").filter(|e| kc.doc.entries(*e).is_some()) {
        let env = kc
            .get(e, "env")
            .and_then(|n| kc.doc.items(n))
            .unwrap_or(&[])
            .iter()
            .filter_map(|&i| {
                let i = kc.doc.resolve(i);
                Some((
                    kc.str_of(i, "name")?.to_string(),
                    kc.str_of(i, "value").unwrap_or("").to_string(),
                ))
            })
            .collect();
        u.exec = Some(Exec {
            command: kc.str_of(e, "command").unwrap_or("").to_string(),
            args: strings(kc, kc.get(e, "args")),
            env,
            api_version: kc.str_of(e, "apiVersion").unwrap_or("").to_string(),
            provide_cluster_info: kc.str_of(e, "provideClusterInfo") == Some("true"),
        });
    }
    u.basic_auth = kc.str_of(b, "username").is_some_and(|s| !s.is_empty());
    u.auth_provider = kc
        .get(b, "auth-provider")
        .and_then(|a| kc.str_of(a, "name"))
        .map(str::to_string);
    u
}

/// Load every file, merging entries as client-go does (first of a name wins).
pub fn load(files: &[PathBuf]) -> crate::error::Result<Loaded> {
    let mut out = Loaded::default();
    let mut clusters: HashMap<String, Cluster> = HashMap::new();
    let mut users: HashMap<String, User> = HashMap::new();
    let mut contexts: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for path in files {
        let owner = crate::persist::owner_for(path)?;
        let v = read_file(path, owner.as_ref())?;
        if out.current_context.is_none() {
            out.current_context = v.current_context;
        }
        for (name, c) in v.clusters {
            clusters.entry(name).or_insert(c);
        }
        for (name, u) in v.users {
            users.entry(name).or_insert(u);
        }
        for c in v.contexts {
            if !contexts.iter().any(|(n, _, _)| *n == c.0) {
                contexts.push(c);
            }
        }
    }
    for (name, cluster_name, user_name) in contexts {
        out.contexts.push(name.clone());
        let t = Target {
            context: name.clone(),
            cluster: cluster_name.as_ref().and_then(|c| clusters.get(c)).cloned(),
            user: user_name.as_ref().and_then(|u| users.get(u)).cloned(),
            cluster_name,
            user_name,
        };
        out.targets.insert(name, t);
    }
    Ok(out)
}

/// The certificates of a PEM or DER bundle, leaf first.
pub fn certs(bytes: &[u8]) -> Vec<cert::Cert> {
    cert::parse_bundle(bytes).unwrap_or_default()
}

/// The stage a context failed at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Config,
    Reach,
    Tls,
    Auth,
}

/// The `message` of a `Status` body.
pub fn status_message(body: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    Some(v.get("message")?.as_str()?.to_string())
}

/// The credentials a request carries, and where they came from.
#[derive(Debug, Default)]
pub struct Creds {
    pub user: String,
    /// Client certificate (PEM) and key, and origin.
    pub cert: Option<(Vec<u8>, Vec<u8>, String)>,
    /// Bearer token and origin.
    pub token: Option<(String, String)>,
}

/// The leaf certificate of a PEM bundle.
pub fn leaf(pem: &[u8]) -> Option<Cert> {
    certs(pem).into_iter().next()
}
