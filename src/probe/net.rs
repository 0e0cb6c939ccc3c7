//! The HTTP client of `kubefix probe`: ureq 3 for HTTP/1.1 and CONNECT proxies, with a TLS
//! layer of its own (rustls, ring) whose certificate verifier records what the server
//! presented and why verification failed, so the failure can be explained.
//!
//! Proxy selection follows client-go: the cluster's `proxy-url`, else Go's
//! `http.ProxyFromEnvironment` for an `https` URL (`HTTPS_PROXY`/`https_proxy`, `NO_PROXY`/
//! `no_proxy` with host suffixes, CIDRs and `*`; `localhost` and loopback addresses never
//! through a proxy).

use std::io::{Read, Write};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use ureq::unversioned::resolver::DefaultResolver;
use ureq::unversioned::transport::{
    Buffers, ConnectProxyConnector, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout,
    TcpConnector, Transport, TransportAdapter,
};

/// Which certificates the server's chain must lead to.
#[derive(Clone, Debug)]
pub enum Roots {
    /// The cluster's `certificate-authority(-data)`.
    Cluster(Vec<CertificateDer<'static>>),
    /// No CA in the kubeconfig: Mozilla's roots (`webpki-roots`), as the system's would be.
    Public,
    /// `insecure-skip-tls-verify: true`: nothing is checked (but the chain is recorded).
    Insecure,
}

/// What a connection attempt saw, filled in by the TLS layer.
#[derive(Debug, Default, Clone)]
pub struct Record {
    /// The TCP (or proxy tunnel) connection was made.
    pub connected: bool,
    /// The chain the server presented (DER, leaf first).
    pub chain: Vec<Vec<u8>>,
    /// Why the server's certificate did not verify.
    pub verify_error: Option<rustls::Error>,
    /// A TLS error during or right after the handshake (an alert from the server).
    pub tls_error: Option<rustls::Error>,
    /// The handshake completed.
    pub handshake_done: bool,
}

pub type Shared = Arc<Mutex<Record>>;

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A verifier for `roots` (for checking a chain against other names, too).
pub fn webpki_verifier(roots: &Roots) -> Option<Arc<WebPkiServerVerifier>> {
    let store = match roots {
        Roots::Cluster(certs) => {
            let mut s = RootCertStore::empty();
            let (added, _) = s.add_parsable_certificates(certs.iter().cloned());
            if added == 0 {
                return None;
            }
            s
        }
        Roots::Public => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        Roots::Insecure => return None,
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider())
        .build()
        .ok()
}

#[derive(Debug)]
struct Recording {
    inner: Option<Arc<WebPkiServerVerifier>>,
    record: Shared,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut r = self.record.lock().unwrap_or_else(|e| e.into_inner());
        r.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.as_ref().to_vec())
            .collect();
        let Some(inner) = &self.inner else {
            return Ok(ServerCertVerified::assertion());
        };
        let res = inner.verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        if let Err(e) = &res {
            r.verify_error = Some(e.clone());
        }
        res
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// How to speak TLS to one cluster.
#[derive(Clone, Debug)]
pub struct TlsSetup {
    pub roots: Roots,
    /// `tls-server-name`, else the server URL's host.
    pub server_name: ServerName<'static>,
    /// A client certificate chain and key, sent only when the server asks and only after its
    /// certificate verified.
    pub client: Option<(Vec<CertificateDer<'static>>, Arc<PrivateKeyDer<'static>>)>,
}

fn client_config(setup: &TlsSetup, record: Shared) -> Result<Arc<ClientConfig>, String> {
    let provider = provider();
    let verifier = Recording {
        inner: webpki_verifier(&setup.roots),
        record,
        provider: provider.clone(),
    };
    if verifier.inner.is_none() && !matches!(setup.roots, Roots::Insecure) {
        return Err("the certificate authority holds no usable certificate".into());
    }
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier));
    let mut config = match &setup.client {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| format!("the client certificate or key is not usable: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    // HTTP/1.1 only.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[derive(Debug)]
struct Tls {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
    record: Shared,
}

impl<In: Transport> Connector<In> for Tls {
    type Out = Either<In, TlsTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        let Some(transport) = chained else {
            return Ok(None);
        };
        if !details.needs_tls() || transport.is_tls() {
            return Ok(Some(Either::A(transport)));
        }
        lock(&self.record).connected = true;
        let mut conn = ClientConnection::new(self.config.clone(), self.name.clone())
            .map_err(ureq::Error::Rustls)?;
        let mut sock = TransportAdapter::new(transport.boxed(), details.current_time.clone());
        sock.set_timeout(details.timeout);
        if let Err(e) = conn.complete_io(&mut sock) {
            note_io(&self.record, &e);
            return Err(ureq::Error::Io(e));
        }
        lock(&self.record).handshake_done = true;
        Ok(Some(Either::B(TlsTransport {
            buffers: LazyBuffers::new(
                details.config.input_buffer_size(),
                details.config.output_buffer_size(),
            ),
            stream: StreamOwned::new(conn, sock),
            record: self.record.clone(),
        })))
    }
}

fn lock(r: &Shared) -> std::sync::MutexGuard<'_, Record> {
    r.lock().unwrap_or_else(|e| e.into_inner())
}

/// Keep the rustls error inside an I/O error.
fn note_io(record: &Shared, e: &std::io::Error) {
    if let Some(t) = e.get_ref().and_then(|x| x.downcast_ref::<rustls::Error>()) {
        let mut r = lock(record);
        if r.tls_error.is_none() {
            r.tls_error = Some(t.clone());
        }
    }
}

struct TlsTransport {
    buffers: LazyBuffers,
    stream: StreamOwned<ClientConnection, TransportAdapter>,
    record: Shared,
}

impl std::fmt::Debug for TlsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsTransport").finish()
    }
}

impl Transport for TlsTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let output = &self.buffers.output()[..amount];
        if let Err(e) = self.stream.write_all(output) {
            note_io(&self.record, &e);
            return Err(ureq::Error::Io(e));
        }
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.stream.get_mut().set_timeout(timeout);
        let input = self.buffers.input_append_buf();
        let amount = match self.stream.read(input) {
            Ok(n) => n,
            Err(e) => {
                note_io(&self.record, &e);
                return Err(ureq::Error::Io(e));
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        self.stream.get_mut().get_mut().is_open()
    }

    fn is_tls(&self) -> bool {
        true
    }
}

/// An agent for one attempt: no connection reuse across agents, no redirects, HTTP errors
/// as responses, everything within `timeout`.
pub fn agent(
    setup: &TlsSetup,
    proxy: Option<&str>,
    timeout: Duration,
) -> Result<(ureq::Agent, Shared), String> {
    let record: Shared = Arc::default();
    let config = client_config(setup, record.clone())?;
    let proxy = match proxy {
        Some(p) => Some(ureq::Proxy::new(p).map_err(|e| format!("proxy {p}: {e}"))?),
        None => None,
    };
    let cfg = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(timeout))
        .proxy(proxy)
        .user_agent(concat!("kubefix-probe/", env!("CARGO_PKG_VERSION")))
        .accept("application/json")
        .build();
    let connector =
        ().chain(ConnectProxyConnector::default())
            .chain(TcpConnector::default())
            .chain(Tls {
                config,
                name: setup.server_name.clone(),
                record: record.clone(),
            });
    Ok((
        ureq::Agent::with_parts(cfg, connector, DefaultResolver::default()),
        record,
    ))
}

/// Where the proxy setting came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyChoice {
    pub url: String,
    /// `proxy-url` or the environment variable's name.
    pub from: String,
}

/// The proxy client-go would use for `server` (an https URL): `proxy-url`, else the
/// environment as Go's `httpproxy.FromEnvironment` reads it. `env` looks a variable up.
pub fn choose_proxy(
    proxy_url: Option<&str>,
    host: &str,
    port: u16,
    env: &dyn Fn(&str) -> Option<String>,
) -> Option<ProxyChoice> {
    if let Some(p) = proxy_url {
        return Some(ProxyChoice {
            url: p.to_string(),
            from: "proxy-url".into(),
        });
    }
    let get = |names: [&str; 2]| {
        names
            .into_iter()
            .find_map(|n| env(n).filter(|v| !v.is_empty()).map(|v| (n.to_string(), v)))
    };
    let (from, url) = get(["HTTPS_PROXY", "https_proxy"])?;
    let no_proxy = get(["NO_PROXY", "no_proxy"])
        .map(|(_, v)| v)
        .unwrap_or_default();
    if !use_proxy(host, port, &no_proxy) {
        return None;
    }
    // Go accepts a bare `host:port` as http://host:port.
    let url = if url.contains("://") {
        url
    } else {
        format!("http://{url}")
    };
    Some(ProxyChoice { url, from })
}

/// Go's `httpproxy.Config.useProxy`.
fn use_proxy(host: &str, port: u16, no_proxy: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host == "localhost" {
        return false;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    for entry in no_proxy.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        if entry == "*" {
            return false;
        }
        let entry = entry.to_ascii_lowercase();
        if let Some((net, bits)) = entry.split_once('/') {
            if let (Some(ip), Ok(net), Ok(bits)) = (ip, net.parse::<IpAddr>(), bits.parse::<u32>())
            {
                if in_cidr(ip, net, bits) {
                    return false;
                }
            }
            continue;
        }
        if let Ok(eip) = entry.parse::<IpAddr>() {
            if ip == Some(eip) {
                return false;
            }
            continue;
        }
        // `host:port` entries match that port only.
        let (name, eport) = match entry.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) => (h, p.parse::<u16>().ok()),
            _ => (entry.as_str(), None),
        };
        if eport.is_some_and(|p| p != port) {
            continue;
        }
        let name = name.trim_start_matches('*');
        if let Some(suffix) = name.strip_prefix('.') {
            if host.ends_with(&format!(".{suffix}")) {
                return false;
            }
        } else if host == name || host.ends_with(&format!(".{name}")) {
            return false;
        }
    }
    true
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u32) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) if bits <= 32 => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) if bits <= 128 => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |n| {
            vars.iter()
                .find(|(k, _)| *k == n)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn proxy_from_the_environment_as_go_reads_it() {
        let e = env(&[
            ("HTTPS_PROXY", "proxy:3128"),
            ("NO_PROXY", ".corp,10.0.0.0/8,k8s.io:8443"),
        ]);
        let p = choose_proxy(None, "api.example.com", 6443, &e).unwrap();
        assert_eq!(p.url, "http://proxy:3128");
        assert_eq!(p.from, "HTTPS_PROXY");
        assert_eq!(choose_proxy(None, "x.corp", 6443, &e), None);
        assert_eq!(choose_proxy(None, "10.1.2.3", 6443, &e), None);
        assert_eq!(choose_proxy(None, "127.0.0.1", 6443, &e), None);
        assert_eq!(choose_proxy(None, "localhost", 6443, &e), None);
        assert_eq!(choose_proxy(None, "k8s.io", 8443, &e), None);
        assert!(choose_proxy(None, "k8s.io", 6443, &e).is_some());
        // HTTP_PROXY is not for https URLs.
        let e = env(&[("HTTP_PROXY", "http://p:1")]);
        assert_eq!(choose_proxy(None, "api.example.com", 443, &e), None);
        // proxy-url wins, even for loopback.
        let p = choose_proxy(Some("socks5://p:1080"), "127.0.0.1", 6443, &e).unwrap();
        assert_eq!(p.from, "proxy-url");
        let e = env(&[("https_proxy", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(choose_proxy(None, "api.example.com", 443, &e), None);
    }
}
