//! `kubefix probe --apply`: the one repair the server itself proves right. When the server's
//! certificate fails only on the name and has one of the names every API server certificate
//! carries ([`super::diagnose::IN_CLUSTER_NAMES`]: `kubernetes` …) that verifies against the
//! cluster's own CA (never the public roots, never a name only this server chose),
//! `tls-server-name: NAME` is set on the cluster (lossless edit, backup, lock, atomic
//! replace, as the file's owner under root). Nothing else is ever written by `probe`, and the
//! context is not probed again in the same run: credentials go to the newly named server
//! only when the user runs `kubefix probe` again.

use std::path::Path;

use crate::error::{Error, Result};
use crate::kubeconfig::{Kubeconfig, Section};
use crate::persist;
use crate::yaml::{self, Document, NewValue, Patch};

/// What `--apply` may write for a failed context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remedy {
    /// Set the cluster's `tls-server-name`.
    TlsServerName(String),
}

/// Set `tls-server-name: name` on cluster `cluster` of the kubeconfig at `path`; returns the
/// backup written.
pub fn set_tls_server_name(
    path: &Path,
    cluster: &str,
    name: &str,
    opts: &persist::WriteOptions,
) -> Result<std::path::PathBuf> {
    let owner = persist::owner_for(path)?;
    let lock = persist::lock_all([(path, owner.as_ref())])?
        .pop()
        .expect("one lock");
    let (original, new) = persist::as_owner(owner.as_ref(), path, || {
        let bytes = crate::plan::read(path)?;
        let new = edited(path, &bytes, cluster, name)?;
        Ok((bytes, new))
    })?;
    // UTF-16 text is written back as UTF-16 (see `yaml::decode_file`).
    let (new, encoding) = new;
    let written = persist::replace(path, &original, &encoding.encode(&new), opts, &lock)
        .map_err(|f| f.error)?;
    Ok(written.backup)
}

fn invalid(path: &Path, message: String) -> Error {
    Error::InvalidNoPosition {
        path: path.to_path_buf(),
        message,
    }
}

/// The text with the cluster's `tls-server-name` set, verified by parsing it again.
fn edited(
    path: &Path,
    bytes: &[u8],
    cluster: &str,
    name: &str,
) -> Result<(String, yaml::Encoding)> {
    let (text, encoding) =
        yaml::decode_file(bytes.to_vec()).map_err(|e| invalid(path, e.message))?;
    let text = text.as_str();
    let doc = Document::parse(text).map_err(|e| invalid(path, e.message))?;
    let kc = Kubeconfig::new(&doc).map_err(|e| invalid(path, e.message))?;
    let body = kc
        .entry(Section::Clusters, cluster)
        .and_then(|e| e.body)
        .ok_or_else(|| {
            invalid(
                path,
                format!("cluster {cluster:?} is no longer in the file"),
            )
        })?;
    let value = NewValue::str(name);
    let change = if kc.get(body, "tls-server-name").is_some() {
        yaml::replace_entry(&doc, body, "tls-server-name", "tls-server-name", &value)
    } else {
        yaml::insert_entry(&doc, body, "tls-server-name", &value)
    }
    .map_err(|e| invalid(path, e.to_string()))?;
    let mut patch = Patch::new();
    patch.push(change.edit);
    let new = patch
        .apply(text)
        .map_err(|e| invalid(path, e.to_string()))?;
    // The result must be a kubeconfig whose cluster now has exactly that name.
    let check = Document::parse(&new).map_err(|e| invalid(path, e.message))?;
    let kc = Kubeconfig::new(&check).map_err(|e| invalid(path, e.message))?;
    let ok = kc
        .entry(Section::Clusters, cluster)
        .and_then(|e| e.body)
        .and_then(|b| kc.str_of(b, "tls-server-name"))
        == Some(name);
    if !ok {
        return Err(invalid(
            path,
            "setting tls-server-name did not give the expected result; nothing was written".into(),
        ));
    }
    Ok((new, encoding))
}
