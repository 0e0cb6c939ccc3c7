//! Why a context fails, in words: from the error the connection gave, what the server
//! presented, the server's clock, and offline facts about the credentials (`crate::inspect`).
//! Each cause has a stable code, a sentence, a fix, and the message kubectl prints for it.

use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{AlertDescription, CertificateError};

use super::net::{self, ProxyChoice, Record, Roots};
use super::target::{Creds, Stage};
use crate::inspect::{self, cert::Cert, date, rfc3339};
use crate::shell::quote;

/// Why a context failed.
#[derive(Clone, Debug)]
pub struct Failure {
    pub stage: Stage,
    pub code: &'static str,
    pub cause: String,
    pub fix: Option<String>,
    pub kubectl: Option<String>,
    /// What `probe --apply` may write for it.
    pub remedy: Option<super::apply::Remedy>,
}

/// What the diagnosis needs to know about the context.
pub struct Ctx<'a> {
    pub context: &'a str,
    pub cluster: &'a str,
    pub server: &'a str,
    pub host: &'a str,
    pub port: u16,
    /// `tls-server-name`, else the host.
    pub dialled_name: &'a str,
    pub tls_server_name_set: bool,
    pub proxy: Option<&'a ProxyChoice>,
    pub timeout: Duration,
    pub roots: &'a Roots,
    pub sources: &'a crate::credentials::Sources,
    /// The file that defines the cluster, when kubectl would not edit it by default.
    pub file: Option<&'a std::path::Path>,
    /// The kubefix command line the user ran, for the kubefix commands advice names.
    pub command: &'a crate::shell::CommandLine,
}

/// `kubectl [--kubeconfig FILE] config set-cluster CLUSTER ARGS…`, every word quoted: `file`
/// when the cluster is defined in a file kubectl would not edit by default.
pub fn set_cluster(file: Option<&std::path::Path>, cluster: &str, args: &[&str]) -> String {
    let mut words = vec!["kubectl".to_string()];
    if let Some(f) = file {
        words.push("--kubeconfig".into());
        words.push(quote(&f.to_string_lossy()));
    }
    words.extend(["config", "set-cluster"].map(String::from));
    words.extend(args.iter().map(|a| quote(a)));
    // `--` first: a cluster named `-x` is a name, not a flag.
    words.push("--".into());
    words.push(quote(cluster));
    words.join(" ")
}

/// A configuration problem found before anything was sent.
pub fn config(code: &'static str, cause: String, fix: Option<String>) -> Box<Failure> {
    Box::new(Failure {
        stage: Stage::Config,
        code,
        cause,
        fix,
        kubectl: None,
        remedy: None,
    })
}

/// What kubectl 1.32 prints for a 401 (`kubectl get pods`, cold discovery cache; with a warm
/// one, or for `get --raw`, it is `… (Unauthorized)`).
pub const UNAUTHORIZED: &str =
    "error: You must be logged in to the server (the server has asked for the client to provide credentials)";

/// Clock differences under this are ignored.
const SKEW_TOLERANCE: i64 = 5 * 60;

/// `1h 0m 3s`.
fn span(secs: i64) -> String {
    humantime::format_duration(Duration::from_secs(secs.unsigned_abs())).to_string()
}

/// A warning when the server's clock (`skew` = server - local, seconds) differs.
pub fn skew_warning(skew: i64) -> Option<String> {
    (skew.abs() > SKEW_TOLERANCE).then(|| {
        format!(
            "this machine's clock is {} {} the server's (server Date {}): certificates and tokens can look expired or not yet valid to one side; fix: sync the clock (timedatectl set-ntp true)",
            span(skew),
            if skew > 0 { "behind" } else { "ahead of" },
            rfc3339(inspect::now() + skew)
        )
    })
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The io::Error inside a ureq error, if any.
fn io_of(e: &ureq::Error) -> Option<&std::io::Error> {
    match e {
        ureq::Error::Io(io) => Some(io),
        _ => None,
    }
}

/// The connection or anonymous request failed: reach or TLS.
pub fn connect_failure(
    ctx: &Ctx<'_>,
    e: &ureq::Error,
    rec: &Record,
    peek_date: &dyn Fn() -> Option<i64>,
) -> Box<Failure> {
    if let Some(v) = &rec.verify_error {
        return Box::new(tls(ctx, v, rec, peek_date));
    }
    if let Some(t) = &rec.tls_error {
        return Box::new(tls_error(ctx, t, None));
    }
    let timed_out = matches!(e, ureq::Error::Timeout(_))
        || io_of(e).is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ) || io
                .get_ref()
                .and_then(|x| x.downcast_ref::<ureq::Error>())
                .is_some_and(|x| matches!(x, ureq::Error::Timeout(_)))
        });
    if rec.connected && timed_out {
        return Box::new(Failure {
            stage: Stage::Reach,
            code: "timeout",
            cause: format!(
                "connected to {}:{}, but no TLS answer within {} (is this the API server's HTTPS port, or a proxy or load balancer holding the connection?)",
                ctx.host,
                ctx.port,
                span(ctx.timeout.as_secs() as i64)
            ),
            fix: Some(format!("check the port of cluster {}'s server ({})", ctx.cluster, ctx.server)),
            kubectl: Some("Unable to connect to the server: net/http: TLS handshake timeout".into()),
            remedy: None,
        });
    }
    if rec.connected {
        return Box::new(Failure {
            stage: Stage::Tls,
            code: "tls-failed",
            cause: format!(
                "connected to {}:{}, but the TLS handshake failed: {e}",
                ctx.host, ctx.port
            ),
            fix: Some("check that the server URL names the API server's HTTPS port".into()),
            kubectl: None,
            remedy: None,
        });
    }
    Box::new(reach(ctx, e))
}

/// Resolve, connect, proxy.
fn reach(ctx: &Ctx<'_>, e: &ureq::Error) -> Failure {
    let hp = format!("{}:{}", ctx.host, ctx.port);
    let fail = |code, cause, fix: Option<String>, kubectl: Option<String>| Failure {
        stage: Stage::Reach,
        code,
        cause,
        fix,
        kubectl,
        remedy: None,
    };
    let unable = |what: &str| format!("Unable to connect to the server: {what}");
    if let Some(p) = ctx.proxy {
        let via = format!("the proxy {} (from {})", p.url, p.from);
        let proxy_fix = Some(format!(
            "check {} or, if the server should be reached directly, add {} to NO_PROXY",
            p.from, ctx.host
        ));
        match e {
            ureq::Error::ConnectProxyFailed(why) => {
                // kubectl shows only the proxy's status text (`Bad Gateway`).
                let reason = why
                    .strip_prefix("proxy server responded ")
                    .and_then(|r| r.split('/').next())
                    .and_then(|c| c.parse::<u16>().ok())
                    .and_then(|c| ureq::http::StatusCode::from_u16(c).ok())
                    .and_then(|c| c.canonical_reason());
                return fail(
                    "proxy",
                    format!("{via} did not open a tunnel to {hp}: {why}"),
                    proxy_fix,
                    reason.map(unable),
                );
            }
            ureq::Error::HostNotFound => {
                return fail(
                    "proxy",
                    format!("{via} cannot be resolved"),
                    proxy_fix,
                    None,
                )
            }
            _ => {
                if let Some(io) = io_of(e) {
                    // kubectl blames the server, not the proxy.
                    let kubectl = (io.kind() == std::io::ErrorKind::ConnectionRefused).then(|| {
                        format!("The connection to the server {hp} was refused - did you specify the right host or port?")
                    });
                    return fail(
                        "proxy",
                        format!("{via} cannot be reached: {io}"),
                        proxy_fix,
                        kubectl,
                    );
                }
            }
        }
    }
    match e {
        ureq::Error::HostNotFound => return no_such_host(ctx),
        ureq::Error::Timeout(_) => {
            return fail(
                "timeout",
                format!(
                    "no answer from {hp} within {} (a firewall dropping packets, a wrong address, or a server that is down)",
                    span(ctx.timeout.as_secs() as i64)
                ),
                Some(format!("check that {hp} is the API server's address and that port {} is open from here", ctx.port)),
                Some(unable(&format!("dial tcp {hp}: i/o timeout"))),
            )
        }
        _ => {}
    }
    if let Some(io) = io_of(e) {
        use std::io::ErrorKind as K;
        match io.kind() {
            K::ConnectionRefused => {
                let (cause, fix) = if is_loopback(ctx.host) {
                    (
                        format!("nothing listens on {hp} on this machine (connection refused)"),
                        format!(
                            "a k3s.yaml (or rke2.yaml) copied from a node keeps https://127.0.0.1:6443, which points at this machine: replace 127.0.0.1 with the node's address: {}",
                            set_cluster(ctx.file, ctx.cluster, &[&format!("--server=https://NODE-ADDRESS:{}", ctx.port)])
                        ),
                    )
                } else {
                    (
                        format!("{hp} refused the connection: the host is up, but nothing listens on port {}", ctx.port),
                        format!("check the port of cluster {}'s server ({}): the API server moved, or is not running", ctx.cluster, ctx.server),
                    )
                };
                return fail(
                    "refused",
                    cause,
                    Some(fix),
                    Some(format!(
                        "The connection to the server {hp} was refused - did you specify the right host or port?"
                    )),
                );
            }
            K::TimedOut => {
                return fail(
                    "timeout",
                    format!(
                        "no answer from {hp} within {}",
                        span(ctx.timeout.as_secs() as i64)
                    ),
                    Some(format!("check that {hp} is reachable from here")),
                    Some(unable(&format!("dial tcp {hp}: i/o timeout"))),
                )
            }
            K::NetworkUnreachable | K::HostUnreachable => {
                return fail(
                    "unreachable",
                    format!("{hp} cannot be reached from here: {io}"),
                    Some("check the network route (VPN, firewall)".into()),
                    Some(unable(&format!("dial tcp {hp}: connect: {io}"))),
                )
            }
            _ => {}
        }
        let text = io.to_string();
        if text.contains("Temporary failure in name resolution") {
            return fail(
                "dns",
                format!("the server name {} could not be looked up: DNS did not answer (offline, or no DNS server reachable)", ctx.host),
                Some("check the network and the DNS servers in /etc/resolv.conf".into()),
                Some(unable(&format!("dial tcp: lookup {}{}: server misbehaving", ctx.host, nameserver()))),
            );
        }
        if text.contains("lookup") || text.contains("resolve") || text.contains("Name or service") {
            return no_such_host(ctx);
        }
    }
    fail(
        "unreachable",
        format!("cannot connect to {hp}: {e}"),
        None,
        None,
    )
}

/// ` on 10.0.0.53:53`, the first name server, as Go's resolver names it in errors.
fn nameserver() -> String {
    crate::source::read_regular(
        std::path::Path::new("/etc/resolv.conf"),
        crate::source::Kind::Text,
    )
    .ok()
    .and_then(|b| {
        String::from_utf8_lossy(&b).lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("nameserver"))
                .then(|| w.next().map(str::to_string))
                .flatten()
        })
    })
    .map(|ns| {
        if ns.contains(':') {
            format!(" on [{ns}]:53")
        } else {
            format!(" on {ns}:53")
        }
    })
    .unwrap_or_default()
}

fn no_such_host(ctx: &Ctx<'_>) -> Failure {
    Failure {
        stage: Stage::Reach,
        code: "dns",
        cause: format!("the server name {} does not resolve (DNS has no address for it)", ctx.host),
        fix: Some(format!(
            "check the server of cluster {} ({}); for a private cluster, connect the VPN or use the DNS that knows it",
            ctx.cluster, ctx.server
        )),
        kubectl: Some(format!(
            "Unable to connect to the server: dial tcp: lookup {}{}: no such host",
            ctx.host,
            nameserver()
        )),
        remedy: None,
    }
}

/// Names a certificate is valid for: DNS names and IP addresses.
pub fn sans(der: &[u8]) -> (Vec<String>, Vec<String>) {
    use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    if let Ok((_, c)) = X509Certificate::from_der(der) {
        if let Ok(Some(ext)) = c.subject_alternative_name() {
            for n in &ext.value.general_names {
                match n {
                    GeneralName::DNSName(d) => dns.push(d.to_string()),
                    GeneralName::IPAddress(b) => {
                        let ip = match b.len() {
                            4 => Some(std::net::IpAddr::from(
                                <[u8; 4]>::try_from(*b).unwrap_or_default(),
                            )),
                            16 => Some(std::net::IpAddr::from(
                                <[u8; 16]>::try_from(*b).unwrap_or_default(),
                            )),
                            _ => None,
                        };
                        ips.extend(ip.map(|i| i.to_string()));
                    }
                    _ => {}
                }
            }
        }
    }
    (dns, ips)
}

/// The server's certificate did not verify.
fn tls(
    ctx: &Ctx<'_>,
    err: &rustls::Error,
    rec: &Record,
    peek_date: &dyn Fn() -> Option<i64>,
) -> Failure {
    let leaf = rec.chain.first().and_then(|d| Cert::from_der(d).ok());
    let failed_verify = "Unable to connect to the server: tls: failed to verify certificate: x509:";
    let fail = |code, cause, fix: Option<String>, kubectl: Option<String>| Failure {
        stage: Stage::Tls,
        code,
        cause,
        fix,
        kubectl,
        remedy: None,
    };
    let ce = match err {
        rustls::Error::InvalidCertificate(ce) => ce,
        other => {
            return fail(
                "tls-invalid",
                format!("the server's certificate was rejected: {other}"),
                None,
                None,
            )
        }
    };
    match ce {
        CertificateError::UnknownIssuer | CertificateError::BadSignature => {
            unknown_authority(ctx, rec)
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            name_mismatch(ctx, rec)
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => {
            let Some(leaf) = leaf else {
                return fail(
                    "server-cert-expired",
                    "the server's certificate is outside its validity window".into(),
                    None,
                    None,
                );
            };
            let now = inspect::now();
            let server_now = peek_date();
            let window = format!(
                "valid {} to {}",
                rfc3339(leaf.not_before),
                rfc3339(leaf.not_after)
            );
            let expired = leaf.not_after <= now;
            let kubectl = if expired {
                format!("{failed_verify} certificate has expired or is not yet valid: current time {} is after {}", rfc3339(now), rfc3339(leaf.not_after))
            } else {
                format!("{failed_verify} certificate has expired or is not yet valid: current time {} is before {}", rfc3339(now), rfc3339(leaf.not_before))
            };
            // The server's own clock says the certificate is fine: this machine's clock is off.
            if let Some(sn) = server_now {
                let valid_for_server = leaf.not_before <= sn && sn < leaf.not_after;
                if valid_for_server && (sn - now).abs() > 60 {
                    return fail(
                        "clock-skew",
                        format!(
                            "this machine's clock is {} {} the server's (server Date {}, here {}), so the server's certificate ({window}) looks {} here",
                            span(sn - now),
                            if sn > now { "behind" } else { "ahead of" },
                            rfc3339(sn),
                            rfc3339(now),
                            if expired { "expired" } else { "not yet valid" }
                        ),
                        Some("sync this machine's clock (timedatectl set-ntp true, or your OS's time settings)".into()),
                        Some(kubectl),
                    );
                }
            }
            let server_clock = server_now
                .map(|sn| format!("; the server's clock agrees (Date {})", rfc3339(sn)))
                .unwrap_or_default();
            if expired {
                fail(
                    "server-cert-expired",
                    format!("the server's certificate (CN={}) expired on {}{server_clock}", leaf.identity.common_name.as_deref().unwrap_or(""), rfc3339(leaf.not_after)),
                    Some("renew the API server's certificate on the server: K3s/RKE2 renew it on restart (systemctl restart k3s); kubeadm: kubeadm certs renew apiserver, then restart the kube-apiserver".into()),
                    Some(kubectl),
                )
            } else {
                fail(
                    "server-cert-not-yet-valid",
                    format!("the server's certificate (CN={}) is valid only from {}{server_clock}", leaf.identity.common_name.as_deref().unwrap_or(""), rfc3339(leaf.not_before)),
                    Some("the server's clock was ahead when the certificate was issued: sync the server's clock and reissue it, or wait".into()),
                    Some(kubectl),
                )
            }
        }
        other => fail(
            "tls-invalid",
            format!("the server's certificate was rejected: {other:?}"),
            None,
            None,
        ),
    }
}

fn unknown_authority(ctx: &Ctx<'_>, rec: &Record) -> Failure {
    let chain: Vec<Cert> = rec
        .chain
        .iter()
        .filter_map(|d| Cert::from_der(d).ok())
        .collect();
    let issuer = chain
        .last()
        .map(|c| c.issuer.clone())
        .unwrap_or_else(|| "an unknown issuer".into());
    let kubectl = Some("Unable to connect to the server: tls: failed to verify certificate: x509: certificate signed by unknown authority".to_string());
    // A node's kubeconfig whose CA signed the server: the cluster's CA changed.
    for s in ctx.sources.ready() {
        for a in &s.admins {
            if chain.iter().any(|c| c.signed_by_any(&a.ca))
                || chain.iter().any(|c| a.ca.iter().any(|ca| ca.der == c.der))
            {
                return Failure {
                    stage: Stage::Tls,
                    code: "ca-rotated",
                    cause: format!(
                        "the server's certificate is signed by {issuer}, the CA in {} ({}), not by the certificate-authority of cluster {}: the cluster's CA changed (reinstalled or rotated)",
                        crate::error::display_path(&s.spec.path),
                        s.spec.kind.name(),
                        ctx.cluster
                    ),
                    fix: Some(format!(
                        "`{}` copies the new CA and client credentials from {} (rule k3s-credentials)",
                        ctx.command.with(&["--apply"]),
                        crate::error::display_path(&s.spec.path)
                    )),
                    kubectl,
                    remedy: None,
                };
            }
        }
    }
    let (cause, fix) = match ctx.roots {
        Roots::Cluster(cas) => {
            let names: Vec<String> = cas
                .iter()
                .filter_map(|d| Cert::from_der(d.as_ref()).ok())
                .map(|c| c.subject)
                .collect();
            (
                format!(
                    "the server's certificate is signed by {issuer}, but cluster {} trusts only {}",
                    ctx.cluster,
                    names.join("; ")
                ),
                format!(
                    "put the cluster's current CA in certificate-authority-data (from the node: /var/lib/rancher/k3s/server/tls/server-ca.crt, /etc/kubernetes/pki/ca.crt; or your provider's get-credentials command); if a proxy inspects TLS, trust its CA instead. On a K3s/RKE2/kubeadm node, `{}` does it (ADMIN-KUBECONFIG: the node's admin kubeconfig)",
                    ctx.command.with(&["--from", "ADMIN-KUBECONFIG", "--apply"])
                ),
            )
        }
        _ => (
            format!(
                "the server's certificate is signed by {issuer}, which is not a public CA, and cluster {} has no certificate-authority",
                ctx.cluster
            ),
            format!(
                "add the cluster's CA: {}",
                set_cluster(
                    ctx.file,
                    ctx.cluster,
                    &["--certificate-authority=CA.crt", "--embed-certs"]
                )
            ),
        ),
    };
    Failure {
        stage: Stage::Tls,
        code: "unknown-authority",
        cause,
        fix: Some(fix),
        kubectl,
        remedy: None,
    }
}

/// The names the API server's own certificate always has (kubeadm, K3s, RKE2 and the managed
/// services all add them): the only names `tls-server-name` is ever set to.
pub const IN_CLUSTER_NAMES: [&str; 4] = [
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
];

fn name_mismatch(ctx: &Ctx<'_>, rec: &Record) -> Failure {
    let leaf_der = rec.chain.first().cloned().unwrap_or_default();
    let (dns, ips) = sans(&leaf_der);
    let dialled_ip = ctx.dialled_name.parse::<std::net::IpAddr>().is_ok();
    // As Go's x509.HostnameError words it.
    let go = if dialled_ip {
        if ips.is_empty() {
            format!(
                "x509: cannot validate certificate for {} because it doesn't contain any IP SANs",
                ctx.dialled_name
            )
        } else {
            format!(
                "x509: certificate is valid for {}, not {}",
                ips.join(", "),
                ctx.dialled_name
            )
        }
    } else if dns.is_empty() {
        format!(
            "x509: certificate is not valid for any names, but wanted to match {}",
            ctx.dialled_name
        )
    } else {
        format!(
            "x509: certificate is valid for {}, not {}",
            dns.join(", "),
            ctx.dialled_name
        )
    };
    let all: Vec<String> = dns.iter().chain(&ips).cloned().collect();
    // A name every API server certificate carries, in this one, that verifies against the
    // cluster's own CA. Never any other name the server chose to present (it could be a
    // server posing as this one, with a certificate for its own name), and never with the
    // public roots: any web server has a certificate from them.
    let verifier = match ctx.roots {
        Roots::Cluster(_) => net::webpki_verifier(ctx.roots),
        Roots::Public | Roots::Insecure => None,
    };
    let candidates: Vec<&String> = IN_CLUSTER_NAMES
        .iter()
        .filter_map(|n| dns.iter().find(|d| d == n))
        .collect();
    let ok_name = verifier.and_then(|v| {
        use rustls::client::danger::ServerCertVerifier;
        let leaf = CertificateDer::from(leaf_der.clone());
        let inter: Vec<CertificateDer<'_>> = rec
            .chain
            .iter()
            .skip(1)
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        candidates.into_iter().find(|name| {
            ServerName::try_from(name.as_str()).is_ok_and(|sn| {
                v.verify_server_cert(&leaf, &inter, &sn, &[], UnixTime::now())
                    .is_ok()
            })
        })
    });
    let what = if ctx.tls_server_name_set {
        format!("the tls-server-name {}", ctx.dialled_name)
    } else {
        ctx.dialled_name.to_string()
    };
    let remedy = ok_name.map(|n| super::apply::Remedy::TlsServerName(n.clone()));
    let fix = match ok_name {
        Some(n) => format!(
            "verify the server as {n}, a name its certificate has: {} (or `{}`)",
            set_cluster(ctx.file, ctx.cluster, &[&format!("--tls-server-name={n}")]),
            ctx.command
                .with(&["probe", &format!("--context={}", ctx.context), "--apply"])
        ),
        None => format!(
            "dial the server by a name its certificate has, or add {} to the server certificate's SANs (K3s/RKE2: --tls-san {}; kubeadm: apiServer.certSANs)",
            ctx.dialled_name, ctx.dialled_name
        ),
    };
    Failure {
        stage: Stage::Tls,
        code: "name-mismatch",
        cause: format!(
            "the server's certificate is not valid for {what}; it names {}",
            if all.is_empty() {
                "no host at all".to_string()
            } else {
                all.join(", ")
            }
        ),
        fix: Some(fix),
        kubectl: Some(format!(
            "Unable to connect to the server: tls: failed to verify certificate: {go}"
        )),
        remedy,
    }
}

/// A TLS error other than our verification: an alert from the server.
fn tls_error(ctx: &Ctx<'_>, e: &rustls::Error, creds: Option<&Creds>) -> Failure {
    let alert = match e {
        rustls::Error::AlertReceived(a) => Some(*a),
        _ => None,
    };
    let client_cert = creds.and_then(|c| c.cert.as_ref());
    if let (Some(AlertDescription::CertificateRequired), Some(c), None) =
        (alert, creds, client_cert)
    {
        return Failure {
            stage: Stage::Tls,
            code: "client-cert-required",
            cause: format!(
                "the server requires a client certificate in the TLS handshake, and user {} has none",
                c.user
            ),
            fix: Some("add the client certificate and key this server (or the mutual-TLS proxy in front of it) expects: client-certificate-data and client-key-data".into()),
            kubectl: Some("Unable to connect to the server: remote error: tls: certificate required".into()),
            remedy: None,
        };
    }
    if let (Some(a), Some((pem, _, origin))) = (alert, client_cert) {
        let words = alert_words(a);
        let leaf = super::target::leaf(pem);
        let facts = leaf
            .as_ref()
            .map(|c| cert_facts(ctx, c))
            .unwrap_or_default();
        return Failure {
            stage: Stage::Tls,
            code: "client-cert-rejected",
            cause: format!(
                "the server rejected the client certificate from {origin} during the TLS handshake ({words}){facts}"
            ),
            fix: Some(cert_fix(ctx, leaf.as_ref())),
            kubectl: Some(format!("Unable to connect to the server: remote error: tls: {words}")),
            remedy: None,
        };
    }
    Failure {
        stage: Stage::Tls,
        code: "tls-failed",
        cause: format!(
            "the TLS handshake with {}:{} failed: {e}",
            ctx.host, ctx.port
        ),
        fix: None,
        kubectl: alert.map(|a| {
            format!(
                "Unable to connect to the server: remote error: tls: {}",
                alert_words(a)
            )
        }),
        remedy: None,
    }
}

/// Go's words for a TLS alert.
fn alert_words(a: AlertDescription) -> String {
    match a {
        AlertDescription::CertificateExpired => "expired certificate".into(),
        AlertDescription::UnknownCA => "unknown certificate authority".into(),
        AlertDescription::BadCertificate => "bad certificate".into(),
        AlertDescription::CertificateRequired => "certificate required".into(),
        AlertDescription::CertificateUnknown => "unknown certificate".into(),
        AlertDescription::CertificateRevoked => "revoked certificate".into(),
        AlertDescription::HandshakeFailure => "handshake failure".into(),
        other => format!("{other:?}"),
    }
}

/// The source admin (node kubeconfig) for this context, if any.
fn source_admin<'s>(
    ctx: &Ctx<'s>,
) -> Option<(
    &'s crate::credentials::Source,
    &'s crate::credentials::Admin,
)> {
    let cas: Vec<Cert> = match ctx.roots {
        Roots::Cluster(c) => c
            .iter()
            .filter_map(|d| Cert::from_der(d.as_ref()).ok())
            .collect(),
        _ => Vec::new(),
    };
    ctx.sources
        .find(&crate::credentials::Target {
            context: Some(ctx.context),
            server: Some(ctx.server),
            ca: &cas,
        })
        .map(|(s, a, _)| (s, a))
}

/// `; it expired on …` / `; it is signed by …, not by the cluster's client CA …`.
fn cert_facts(ctx: &Ctx<'_>, c: &Cert) -> String {
    let now = inspect::now();
    let mut out = format!("; it is {} (issued by {})", c.identity, c.issuer);
    if c.not_after <= now {
        out.push_str(&format!(", and it expired on {}", rfc3339(c.not_after)));
    } else if c.not_before > now {
        out.push_str(&format!(
            ", and it is valid only from {}",
            rfc3339(c.not_before)
        ));
    } else if let Some((s, a)) = source_admin(ctx) {
        if !a.client_cas.is_empty() && !c.signed_by_any(&a.client_cas) {
            out.push_str(&format!(
                ", which is not the cluster's client CA ({}, from {})",
                a.client_cas
                    .iter()
                    .map(|c| c.subject.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                crate::error::display_path(&s.spec.path)
            ));
        }
    }
    out
}

fn cert_fix(ctx: &Ctx<'_>, c: Option<&Cert>) -> String {
    if let Some((s, _)) = source_admin(ctx) {
        return format!(
            "`{}` replaces the client certificate and key with the fresh ones from {} (rule k3s-credentials)",
            ctx.command.with(&["--apply"]),
            crate::error::display_path(&s.spec.path)
        );
    }
    let expired = c.is_some_and(|c| c.not_after <= inspect::now());
    if expired {
        format!(
            "issue a new client certificate (K3s/RKE2: copy the node's kubeconfig again; kubeadm: kubeadm kubeconfig user --client-name NAME; a managed cluster: its get-credentials command); `{}` installs it (NODE-KUBECONFIG: the node's admin kubeconfig)",
            ctx.command.with(&["--from", "NODE-KUBECONFIG", "--apply"])
        )
    } else {
        "get a client certificate signed by the cluster's current client CA (copy the node's kubeconfig again, or your provider's get-credentials command)".into()
    }
}

/// The request with credentials failed below HTTP.
pub fn auth_transport_failure(
    ctx: &Ctx<'_>,
    e: &ureq::Error,
    rec: &Record,
    creds: &Creds,
) -> Box<Failure> {
    if let Some(t) = &rec.tls_error {
        return Box::new(tls_error(ctx, t, Some(creds)));
    }
    if let Some(v) = &rec.verify_error {
        return Box::new(tls(ctx, v, rec, &|| None));
    }
    Box::new(Failure {
        stage: Stage::Auth,
        code: "request-failed",
        cause: format!("the SelfSubjectReview request failed: {e}"),
        fix: None,
        kubectl: None,
        remedy: None,
    })
}

/// 401: which credential was refused, and why, from what can be known offline.
pub fn unauthorized(ctx: &Ctx<'_>, creds: &Creds, server_date: Option<i64>) -> Box<Failure> {
    let now = inspect::now();
    let kubectl = Some(UNAUTHORIZED.to_string());
    let skew = server_date
        .map(|d| d - now)
        .and_then(skew_warning)
        .map(|w| format!("; note: {w}"))
        .unwrap_or_default();
    let fail = |code, cause: String, fix: String| {
        Box::new(Failure {
            stage: Stage::Auth,
            code,
            cause: format!("{cause}{skew}"),
            fix: Some(fix),
            kubectl: kubectl.clone(),
            remedy: None,
        })
    };
    if let Some((pem, _, origin)) = &creds.cert {
        if let Some(c) = super::target::leaf(pem) {
            if c.not_after <= now {
                return fail(
                    "client-cert-expired",
                    format!(
                        "the server refused the client certificate from {origin} of user {}: it ({}) expired on {}",
                        creds.user,
                        c.identity,
                        date(c.not_after)
                    ),
                    cert_fix(ctx, Some(&c)),
                );
            }
            if let Some((s, a)) = source_admin(ctx) {
                if !a.client_cas.is_empty() && !c.signed_by_any(&a.client_cas) {
                    return fail(
                        "client-cert-unknown-ca",
                        format!(
                            "the server refused the client certificate from {origin} of user {}: it is signed by {}, not by the cluster's client CA ({}) named in {}: the cluster's CA changed",
                            creds.user,
                            c.issuer,
                            a.client_cas.iter().map(|c| c.subject.clone()).collect::<Vec<_>>().join("; "),
                            crate::error::display_path(&s.spec.path)
                        ),
                        cert_fix(ctx, Some(&c)),
                    );
                }
            }
        }
    }
    if let Some((tok, origin)) = &creds.token {
        if let Some(j) = inspect::token::decode(tok) {
            if let Some(exp) = j.exp.filter(|e| *e <= now) {
                let sa = j.service_account.clone();
                let fix = match &sa {
                    Some(sa) => {
                        let (ns, name) = sa.split_once('/').unwrap_or(("default", sa));
                        format!("issue a new token: kubectl -n {} create token {} (with a working context), and put it in user {}", quote(ns), quote(name), creds.user)
                    }
                    None => format!(
                        "get a new token from its issuer ({}) for user {}",
                        j.issuer.as_deref().unwrap_or("unknown"),
                        creds.user
                    ),
                };
                return fail(
                    "token-expired",
                    format!(
                        "the server refused the bearer token from {origin} of user {}: it expired on {}{}",
                        creds.user,
                        rfc3339(exp),
                        sa.map(|s| format!(" (service account {s})")).unwrap_or_default()
                    ),
                    fix,
                );
            }
        }
    }
    let mut sent = Vec::new();
    if let Some((pem, _, origin)) = &creds.cert {
        let who = super::target::leaf(pem)
            .map(|c| {
                format!(
                    " ({}, issued by {}, valid until {})",
                    c.identity,
                    c.issuer,
                    date(c.not_after)
                )
            })
            .unwrap_or_default();
        sent.push(format!("the client certificate from {origin}{who}"));
    }
    if let Some((tok, origin)) = &creds.token {
        let kind = match inspect::token::decode(tok) {
            Some(j) => format!(
                " (a JWT{}{})",
                j.service_account
                    .map(|s| format!(" for service account {s}"))
                    .unwrap_or_default(),
                j.issuer
                    .map(|i| format!(" issued by {i}"))
                    .unwrap_or_default()
            ),
            None => " (an opaque token)".into(),
        };
        sent.push(format!("the bearer token from {origin}{kind}"));
    }
    if sent.is_empty() {
        return fail(
            "no-credentials",
            format!("user {} has no credentials kubefix could send, and the server does not allow anonymous requests", creds.user),
            "add a client certificate, a token or an exec plugin to the user".into(),
        );
    }
    fail(
        "credentials-refused",
        format!(
            "the server refused {} of user {}: it does not know it (revoked, for another cluster, or signed by a CA it does not trust), but does not say which",
            sent.join(" and "),
            creds.user
        ),
        "get fresh credentials for this cluster from its provider or the node's kubeconfig".into(),
    )
}

/// 403: the credentials work; authorization denies.
pub fn forbidden(ctx: &Ctx<'_>, body: &str) -> Box<Failure> {
    let msg = super::target::status_message(body).unwrap_or_default();
    let user = msg
        .split_once("User \"")
        .and_then(|(_, r)| r.split_once('"'))
        .map(|(u, _)| u.to_string());
    Box::new(Failure {
        stage: Stage::Auth,
        code: "forbidden",
        cause: format!(
            "authenticated{}, but authorization (RBAC) denies even a SelfSubjectReview: {msg}",
            user.map(|u| format!(" as {u}")).unwrap_or_default()
        ),
        fix: Some(format!(
            "the credentials work; ask the cluster's admin for a (Cluster)RoleBinding for this user (the default system:basic-user binding allows SelfSubjectReview to everyone authenticated) on {}",
            ctx.server
        )),
        kubectl: Some(format!("Error from server (Forbidden): {msg}")),
        remedy: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found in review: a cluster named `-x` was read by kubectl as a flag. After `--` it is
    /// the name, which the real kubectl (when installed) confirms.
    #[test]
    fn set_cluster_keeps_a_dash_name_a_name() {
        let cmd = set_cluster(None, "-x", &["--tls-server-name=kubernetes"]);
        assert_eq!(
            cmd,
            "kubectl config set-cluster --tls-server-name=kubernetes -- -x"
        );
        let Ok(o) = std::process::Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
        else {
            eprintln!("skipped the kubectl half: kubectl not found");
            return;
        };
        assert!(o.status.success());
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("config");
        let o = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .env("KUBECONFIG", &kc)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let text = std::fs::read_to_string(&kc).unwrap();
        assert!(text.contains("name: -x"), "{text}");
    }
}
