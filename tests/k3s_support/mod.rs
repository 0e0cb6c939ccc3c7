//! Fixtures for the credential-refresh and expiry tests, generated at test time (no dates
//! baked into files): a K3s-like node (server CA, client CA, admin certificate chain), the
//! `k3s.yaml` it writes, and a user's hand-edited stale copy of it.
#![allow(dead_code)]

use crate::support::pki::{Ca, Issued, Validity};

/// What a K3s server keeps: a CA for its serving certificate and one for client certificates.
pub struct Node {
    pub server_ca_pem: String,
    pub client_ca: Ca,
}

impl Node {
    /// A node whose server CA is `server_ca_pem` (the loopback server's, in end-to-end tests).
    pub fn new(server_ca_pem: &str) -> Node {
        Node {
            server_ca_pem: server_ca_pem.to_string(),
            client_ca: Ca::new("k3s-client-ca"),
        }
    }

    /// A client certificate as K3s writes it into k3s.yaml: the leaf followed by the client
    /// CA (a chain).
    pub fn client(&self, cn: &str, orgs: &[&str], validity: Validity) -> Issued {
        let mut issued = self.client_ca.client_cert(cn, orgs, validity);
        issued.cert_pem.push_str(&self.client_ca.cert_pem);
        issued
    }

    /// K3s's admin: `CN=system:admin, O=system:masters`.
    pub fn admin(&self, validity: Validity) -> Issued {
        self.client("system:admin", &["system:masters"], validity)
    }
}

pub fn b64(s: &str) -> String {
    crate::support::b64(s.as_bytes())
}

/// `/etc/rancher/k3s/k3s.yaml` as K3s writes it.
pub fn k3s_yaml(server: &str, ca_pem: &str, admin: &Issued) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: default\ncontexts:\n- context:\n    cluster: default\n    user: default\n  name: default\ncurrent-context: default\nkind: Config\npreferences: {{}}\nusers:\n- name: default\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n",
        ca = b64(ca_pem),
        cert = admin.cert_b64(),
        key = admin.key_b64(),
    )
}

/// The user's copy a year later: renamed to `homelab`, server pointed at the node, a
/// namespace, comments, and a second unrelated cluster that must not change.
pub fn stale_copy(server: &str, ca_pem: &str, creds: &Issued) -> String {
    format!(
        "# copied from the node on install day\napiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}  # the node, not 127.0.0.1\n  name: homelab\n- cluster:\n    server: https://other.example:6443\n  name: other\ncontexts:\n- context:\n    cluster: homelab\n    namespace: media\n    user: homelab-admin\n  name: homelab\n- context:\n    cluster: other\n    user: other\n  name: other\ncurrent-context: homelab\nkind: Config\npreferences: {{}}\nusers:\n- name: homelab-admin\n  user:\n    # admin credentials from k3s.yaml\n    client-certificate-data: {cert}\n    client-key-data: {key}\n- name: other\n  user:\n    token: opaque-token-for-other\n",
        ca = b64(ca_pem),
        cert = creds.cert_b64(),
        key = creds.key_b64(),
    )
}

/// The text with every line that differs from `other` (same line count assumed), as
/// (line number, old, new).
pub fn changed_lines(a: &str, b: &str) -> Vec<(usize, String, String)> {
    assert_eq!(a.lines().count(), b.lines().count(), "line count changed");
    a.lines()
        .zip(b.lines())
        .enumerate()
        .filter(|(_, (x, y))| x != y)
        .map(|(i, (x, y))| (i + 1, x.to_string(), y.to_string()))
        .collect()
}

/// `/etc/kubernetes/admin.conf` as kubeadm writes it: one CA for the server and the clients,
/// the leaf alone in client-certificate-data, `kubernetes` / `kubernetes-admin` names.
pub fn kubeadm_admin_conf(server: &str, ca_pem: &str, admin: &Issued) -> String {
    format!(
        "apiVersion: v1\nclusters:\n- cluster:\n    certificate-authority-data: {ca}\n    server: {server}\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nkind: Config\npreferences: {{}}\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: {cert}\n    client-key-data: {key}\n",
        ca = b64(ca_pem),
        cert = admin.cert_b64(),
        key = admin.key_b64(),
    )
}
