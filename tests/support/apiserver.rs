//! A tiny loopback HTTPS "Kubernetes API server" that the real `kubectl`
//! can talk to in integration tests.
//!
//! * TLS via rustls (ring provider), TLS 1.2 and 1.3, **no ALPN** so Go's
//!   client falls back to HTTP/1.1 (kubectl does not insist on h2).
//! * HTTP/1.1 with keep-alive (responses always carry `Content-Length`);
//!   every connection has a 5 s read timeout and is shut down by `stop()`.
//! * Authentication, in the order a real kube-apiserver applies it:
//!   1. a client certificate (only when `client_ca_pem` is set; certificates
//!      are *requested*, not required). Where it is verified is
//!      [`ClientCertMode`]: by default in the TLS handshake (expired =>
//!      `certificate_expired` alert), or, like a real kube-apiserver, after
//!      the handshake (expired => just not authenticated => 401),
//!   2. `Authorization: Bearer <token>` matching `tokens` exactly or starting
//!      with one of `token_prefixes`.
//!
//!   Anything else gets `401` with a `Status` body, on every path.
//! * Variants (`ServerOptions`): the server certificate's SANs and validity
//!   (`server_sans`, `server_validity`), a clock off by `date_offset_secs`
//!   (every response carries `Date`), `client_cert_required` (mutual TLS),
//!   which `SelfSubjectReview` versions are served (`self_subject_review`),
//!   and `forbid` (403 for everything but discovery, as RBAC words it).
//! * Authenticated routes: `GET /version`, `/api`, `/apis`, `/api/v1`,
//!   `/api/v1/pods`, `/api/v1/namespaces/{ns}/pods` (an empty list, or an
//!   empty `meta.k8s.io/v1` `Table` when the `Accept` header asks for
//!   `as=Table`, as `kubectl get` does). Everything else: `404` `Status`.
//!   kubectl's aggregated-discovery `Accept` on `/api` and `/apis` is
//!   answered with legacy JSON, and kubectl falls back to `/api/v1`.
//!
//! What kubectl v1.32.4 (the gcloud-SDK build whose `kubectl` is a
//! dispatcher that first probes `GET /version?timeout=5s` itself, with user
//! agent `kubectl-dispatcher/v1.0`) prints against this server, observed
//! verbatim, exit code 1 unless noted:
//!
//! * bad/unknown token, `kubectl get --raw /version`: stderr
//!   `error: You must be logged in to the server (Unauthorized)`
//! * bad token, `kubectl get pods` with a cold discovery cache: five lines
//!   `E1124 18:21:48.252118   13641 memcache.go:265] "Unhandled Error" err="couldn't get current server API group list: the server has asked for the client to provide credentials"`
//!   then `error: You must be logged in to the server (the server has asked for the client to provide credentials)`.
//!   With a warm discovery cache it is `error: You must be logged in to the
//!   server (Unauthorized)` (the 401 on the pod list itself).
//! * expired client cert, `ClientCertMode::Handshake`: last stderr line
//!   `Unable to connect to the server: remote error: tls: expired certificate`
//!   (sometimes `Unable to connect to the server: readLoopPeekFailLocked:
//!   remote error: tls: expired certificate`: TLS 1.3 alert race in Go);
//!   a client cert from an unknown CA:
//!   `Unable to connect to the server: remote error: tls: unknown certificate authority`.
//! * expired client cert, `ClientCertMode::Authenticator`:
//!   `error: You must be logged in to the server (Unauthorized)`.
//! * `user: {}` (no credentials), stdin closed: stdout
//!   `Please enter Username: `, stderr `error: EOF`, no request sent.
//! * exec plugin with `apiVersion: client.authentication.k8s.io/v1alpha1`:
//!   `error: exec plugin: invalid apiVersion "client.authentication.k8s.io/v1alpha1"`.
//! * authenticated `kubectl get pods`, exit 0: stdout empty, stderr
//!   `No resources found in default namespace.`
//! * unknown path, `kubectl get --raw /nope`:
//!   `Error from server (NotFound): the server could not find the requested resource`.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::ring;
use rustls::pki_types::UnixTime;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, ServerConnection,
    SignatureScheme, StreamOwned,
};

use super::pki::{der_tlv, Ca, Validity};

/// Per-connection socket read timeout (idle keep-alive connections are
/// dropped after this long).
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// Upper bound for one TLS handshake.
const HANDSHAKE_DEADLINE: Duration = Duration::from_secs(10);
/// Upper bound for a request head (request line + headers).
const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Upper bound for requests served on one connection.
const MAX_REQUESTS_PER_CONN: usize = 1000;
/// Reported `gitVersion` of the fake server.
pub const SERVER_GIT_VERSION: &str = "v1.32.0";

/// How the fake apiserver authenticates clients.
#[derive(Default)]
pub struct ServerOptions {
    /// CA that signs the server certificate; a fresh one is made if `None`.
    /// Pass your own to issue client certificates from the same CA (then
    /// also set `client_ca_pem = Some(ca.cert_pem.clone())`).
    pub ca: Option<Ca>,
    /// Bearer tokens accepted exactly.
    pub tokens: Vec<String>,
    /// Bearer tokens accepted if they start with one of these (e.g.
    /// `"k8s-aws-v1."` for real `aws eks get-token` output, which cannot be
    /// validated offline).
    pub token_prefixes: Vec<String>,
    /// If set: request (not require) client certificates and verify them
    /// against this CA bundle (PEM). A verified certificate authenticates
    /// the request as user CN with groups O.
    pub client_ca_pem: Option<String>,
    /// Where client certificates are verified (only with `client_ca_pem`).
    pub client_cert_mode: ClientCertMode,
    /// With `client_ca_pem` and `ClientCertMode::Handshake`: a handshake
    /// without a client certificate fails (`certificate_required` alert),
    /// as a TLS-terminating proxy with mutual TLS does.
    pub client_cert_required: bool,
    /// SANs of the server certificate (IP addresses or DNS names); default
    /// `127.0.0.1` and `localhost`.
    pub server_sans: Option<Vec<String>>,
    /// Validity window of the server certificate; default `Validity::Valid`.
    pub server_validity: Option<Validity>,
    /// Added to the wall clock for the `Date` header every response carries
    /// (a server whose clock is off).
    pub date_offset_secs: i64,
    /// Which `SelfSubjectReview` API the server serves.
    pub self_subject_review: SsrApi,
    /// Authorization denies every authenticated user everything but
    /// discovery (`/version`, `/api`, `/apis`, `/api/v1`): 403 `Forbidden`.
    pub forbid: bool,
}

/// The `SelfSubjectReview` API versions served (`POST
/// /apis/authentication.k8s.io/{v1,v1beta1}/selfsubjectreviews`, answered
/// `201` with the request's user: a client certificate's CN and O values,
/// a token's [`TOKEN_USER`], plus `system:authenticated`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SsrApi {
    /// v1 and v1beta1 (Kubernetes 1.28+).
    #[default]
    V1,
    /// Only v1beta1 (Kubernetes 1.27): v1 is `404`.
    V1beta1Only,
    /// Neither (Kubernetes 1.26 and older).
    None,
}

/// The user name an accepted bearer token authenticates as.
pub const TOKEN_USER: &str = "token-user";

/// Where the server verifies client certificates.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ClientCertMode {
    /// In the TLS handshake (rustls `allow_unauthenticated` verifier): an
    /// expired certificate aborts the handshake with the `certificate_expired`
    /// alert (kubectl: `Unable to connect to the server: remote error: tls:
    /// expired certificate`), an untrusted one with `unknown_ca` (kubectl:
    /// `... remote error: tls: unknown certificate authority`).
    #[default]
    Handshake,
    /// Like a real kube-apiserver (Go `tls.RequestClientCert`; the x509
    /// authenticator verifies later): any certificate completes the
    /// handshake; an invalid one (expired, unknown CA) just does not
    /// authenticate, so without another credential the request gets 401
    /// (kubectl: `error: You must be logged in to the server (Unauthorized)`).
    /// The reason is kept in `RequestRecord::client_cert_error`.
    Authenticator,
}

impl ServerOptions {
    /// Options accepting exactly one bearer token.
    pub fn with_token(token: &str) -> ServerOptions {
        ServerOptions {
            tokens: vec![token.to_string()],
            ..Default::default()
        }
    }
}

/// The identity a request was authenticated as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// Not authenticated (the request got 401).
    None,
    /// An accepted bearer token.
    Token(String),
    /// A verified client certificate: subject CN and O values.
    ClientCert { cn: String, orgs: Vec<String> },
}

/// One HTTP request seen by the server.
#[derive(Clone, Debug)]
pub struct RequestRecord {
    pub method: String,
    /// Path without the query string.
    pub path: String,
    /// Query string (without `?`), if any.
    pub query: Option<String>,
    pub auth: Auth,
    /// The bearer token presented, accepted or not.
    pub presented_token: Option<String>,
    pub accept: Option<String>,
    pub user_agent: Option<String>,
    pub status: u16,
    /// Why a presented client certificate did not authenticate
    /// (`ClientCertMode::Authenticator` only), e.g. `invalid peer
    /// certificate: certificate expired: ...`.
    pub client_cert_error: Option<String>,
}

#[derive(Default)]
struct Shared {
    requests: Mutex<Vec<RequestRecord>>,
    tls_errors: Mutex<Vec<String>>,
    conns: Mutex<Vec<(TcpStream, JoinHandle<()>)>>,
    stop: AtomicBool,
}

struct Auth_ {
    tokens: Vec<String>,
    token_prefixes: Vec<String>,
    /// Set in `ClientCertMode::Authenticator`: verifies peer certs after
    /// the handshake.
    late_verifier: Option<Arc<dyn ClientCertVerifier>>,
    date_offset_secs: i64,
    ssr: SsrApi,
    forbid: bool,
}

/// Accepts any client certificate at the handshake (still checking the
/// handshake signature, i.e. proof of key possession); the real check is
/// done per connection afterwards, like kube-apiserver's x509 authenticator.
#[derive(Debug)]
struct RequestOnlyVerifier(Arc<dyn ClientCertVerifier>);

impl ClientCertVerifier for RequestOnlyVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }
    fn client_auth_mandatory(&self) -> bool {
        false
    }
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.0.root_hint_subjects()
    }
    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// A running fake API server; stopped (and its threads joined) on `stop()`
/// or drop.
pub struct TestApiServer {
    /// `https://127.0.0.1:PORT`
    pub url: String,
    /// PEM of the CA that signed the server certificate (for
    /// `certificate-authority-data`, after base64).
    pub ca_pem: String,
    pub addr: SocketAddr,
    ca: Ca,
    shared: Arc<Shared>,
    accept_thread: Option<JoinHandle<()>>,
}

impl TestApiServer {
    /// Binds 127.0.0.1:0 and serves on background threads.
    pub fn start(opts: ServerOptions) -> TestApiServer {
        let ca = opts.ca.unwrap_or_else(|| Ca::new("kubefix-test-ca"));
        let server = match (&opts.server_sans, opts.server_validity) {
            (None, None) => ca.server_cert(),
            (sans, validity) => {
                let default = vec!["127.0.0.1".to_string(), "localhost".to_string()];
                let sans: Vec<&str> = sans
                    .as_ref()
                    .unwrap_or(&default)
                    .iter()
                    .map(String::as_str)
                    .collect();
                ca.server_cert_with(&sans, validity.unwrap_or(Validity::Valid))
            }
        };
        let provider = Arc::new(ring::default_provider());

        let certs: Vec<CertificateDer<'static>> =
            rustls_pemfile::certs(&mut server.cert_pem.as_bytes())
                .collect::<Result<_, _>>()
                .expect("parse server cert PEM");
        let key: PrivateKeyDer<'static> =
            rustls_pemfile::private_key(&mut server.key_pem.as_bytes())
                .expect("parse server key PEM")
                .expect("server key PEM has a key");

        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("protocol versions");
        let mut late_verifier = None;
        let builder = match &opts.client_ca_pem {
            Some(pem) => {
                let mut roots = RootCertStore::empty();
                for c in rustls_pemfile::certs(&mut pem.as_bytes()) {
                    roots
                        .add(c.expect("parse client CA PEM"))
                        .expect("add client CA");
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
                let verifier = if opts.client_cert_required {
                    verifier
                } else {
                    verifier.allow_unauthenticated()
                };
                let verifier = verifier.build().expect("client verifier");
                match opts.client_cert_mode {
                    ClientCertMode::Handshake => builder.with_client_cert_verifier(verifier),
                    ClientCertMode::Authenticator => {
                        late_verifier = Some(verifier.clone());
                        builder.with_client_cert_verifier(Arc::new(RequestOnlyVerifier(verifier)))
                    }
                }
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .expect("server cert/key");
        // No ALPN: Go then speaks HTTP/1.1.
        config.alpn_protocols.clear();
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local_addr");
        listener
            .set_nonblocking(true)
            .expect("nonblocking listener");

        let shared = Arc::new(Shared::default());
        let auth = Arc::new(Auth_ {
            tokens: opts.tokens,
            token_prefixes: opts.token_prefixes,
            late_verifier,
            date_offset_secs: opts.date_offset_secs,
            ssr: opts.self_subject_review,
            forbid: opts.forbid,
        });
        let accept_shared = shared.clone();
        let accept_thread = thread::Builder::new()
            .name(format!("test-apiserver-{}", addr.port()))
            .spawn(move || accept_loop(listener, config, auth, accept_shared))
            .expect("spawn accept thread");

        TestApiServer {
            url: format!("https://{addr}"),
            ca_pem: ca.cert_pem.clone(),
            addr,
            ca,
            shared,
            accept_thread: Some(accept_thread),
        }
    }

    /// The CA that signed the server certificate.
    pub fn ca(&self) -> &Ca {
        &self.ca
    }

    /// Snapshot of the request log, in arrival order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Failed TLS handshakes (rustls error text), in order; e.g. an expired
    /// client certificate shows up here as
    /// `invalid peer certificate: certificate expired: ...`.
    pub fn tls_errors(&self) -> Vec<String> {
        self.shared.tls_errors.lock().unwrap().clone()
    }

    /// Stops accepting, shuts down open connections and joins all threads.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
        let conns = std::mem::take(&mut *self.shared.conns.lock().unwrap());
        for (sock, _) in &conns {
            let _ = sock.shutdown(Shutdown::Both);
        }
        for (_, t) in conns {
            let _ = t.join();
        }
    }
}

impl Drop for TestApiServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// A complete kubeconfig with one cluster `test` (the server's URL and CA),
/// one context `test` (current), and one user `test-user` whose `user:`
/// mapping body is `user_yaml` (block YAML, un-indented; empty => `{}`).
pub fn kubeconfig_yaml(server: &TestApiServer, user_yaml: &str) -> String {
    let body = user_yaml.trim_end();
    let user = if body.trim().is_empty() {
        "  user: {}\n".to_string()
    } else {
        let mut s = String::from("  user:\n");
        for line in body.lines() {
            if line.trim().is_empty() {
                s.push('\n');
            } else {
                s.push_str("    ");
                s.push_str(line);
                s.push('\n');
            }
        }
        s
    };
    format!(
        "apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: test\n\
         \x20 cluster:\n\
         \x20   server: {url}\n\
         \x20   certificate-authority-data: {ca}\n\
         contexts:\n\
         - name: test\n\
         \x20 context:\n\
         \x20   cluster: test\n\
         \x20   user: test-user\n\
         current-context: test\n\
         preferences: {{}}\n\
         users:\n\
         - name: test-user\n\
         {user}",
        url = server.url,
        ca = super::b64(server.ca_pem.as_bytes()),
        user = user,
    )
}

fn accept_loop(
    listener: TcpListener,
    config: Arc<ServerConfig>,
    auth: Arc<Auth_>,
    shared: Arc<Shared>,
) {
    while !shared.stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((sock, _peer)) => {
                let _ = sock.set_nonblocking(false);
                let _ = sock.set_read_timeout(Some(READ_TIMEOUT));
                let _ = sock.set_write_timeout(Some(READ_TIMEOUT));
                let _ = sock.set_nodelay(true);
                let Ok(clone) = sock.try_clone() else {
                    continue;
                };
                let (config, auth, conn_shared) = (config.clone(), auth.clone(), shared.clone());
                let handle = thread::spawn(move || {
                    let _ = serve_conn(sock, config, &auth, &conn_shared);
                });
                let mut conns = shared.conns.lock().unwrap();
                // Reap finished connection threads so the list stays small.
                let mut i = 0;
                while i < conns.len() {
                    if conns[i].1.is_finished() {
                        let (_, h) = conns.swap_remove(i);
                        let _ = h.join();
                    } else {
                        i += 1;
                    }
                }
                conns.push((clone, handle));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(5));
            }
            Err(_) => thread::sleep(Duration::from_millis(5)),
        }
    }
}

fn serve_conn(
    mut sock: TcpStream,
    config: Arc<ServerConfig>,
    auth: &Auth_,
    shared: &Shared,
) -> io::Result<()> {
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let deadline = Instant::now() + HANDSHAKE_DEADLINE;
    while conn.is_handshaking() {
        if Instant::now() > deadline || shared.stop.load(Ordering::SeqCst) {
            return Ok(());
        }
        if let Err(e) = conn.complete_io(&mut sock) {
            // Record real TLS failures (not a client that just hung up).
            if e.kind() == io::ErrorKind::InvalidData {
                shared.tls_errors.lock().unwrap().push(e.to_string());
            }
            return Err(e);
        }
    }
    let mut cert_error = None;
    let cert_identity = match conn.peer_certificates() {
        Some([end_entity, intermediates @ ..]) => {
            let verified = match &auth.late_verifier {
                Some(v) => v
                    .verify_client_cert(end_entity, intermediates, UnixTime::now())
                    .map_err(|e| cert_error = Some(e.to_string()))
                    .is_ok(),
                None => true, // already verified in the handshake
            };
            if verified {
                subject_cn_and_orgs(end_entity.as_ref())
                    .map(|(cn, orgs)| Auth::ClientCert { cn, orgs })
            } else {
                None
            }
        }
        _ => None,
    };

    let mut reader = BufReader::new(StreamOwned::new(conn, sock));
    for _ in 0..MAX_REQUESTS_PER_CONN {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Some(req) = read_request(&mut reader)? else {
            break;
        };
        let presented_token = req.headers.get("authorization").and_then(|v| {
            let v = v.trim();
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| rest.trim().to_string())
        });
        let auth_result = if let Some(id) = &cert_identity {
            id.clone()
        } else {
            match &presented_token {
                Some(t)
                    if !t.is_empty()
                        && (auth.tokens.iter().any(|a| a == t)
                            || auth
                                .token_prefixes
                                .iter()
                                .any(|p| t.starts_with(p.as_str()))) =>
                {
                    Auth::Token(t.clone())
                }
                _ => Auth::None,
            }
        };
        let accept = req.headers.get("accept").cloned();
        let (status, body) = if auth_result == Auth::None {
            (401, status_json(401, "Unauthorized", "Unauthorized"))
        } else if let Some(r) = authorized_extra(auth, &auth_result, &req.method, &req.path) {
            r
        } else {
            route(&req.method, &req.path, accept.as_deref().unwrap_or(""))
        };
        let close = req
            .headers
            .get("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
            || req.unsupported_body;
        shared.requests.lock().unwrap().push(RequestRecord {
            method: req.method.clone(),
            path: req.path.clone(),
            query: req.query.clone(),
            auth: auth_result,
            presented_token,
            accept,
            user_agent: req.headers.get("user-agent").cloned(),
            status,
            client_cert_error: cert_error.clone(),
        });
        let head = format!(
            "HTTP/1.1 {status} {reason}\r\n\
             Content-Type: application/json\r\n\
             Cache-Control: no-cache, private\r\n\
             Date: {date}\r\n\
             Content-Length: {len}\r\n\
             {conn_hdr}\r\n",
            reason = reason(status),
            len = body.len(),
            conn_hdr = if close { "Connection: close\r\n" } else { "" },
            date = http_date(auth.date_offset_secs),
        );
        let stream = reader.get_mut();
        if req.method != "HEAD" {
            stream.write_all(&[head.as_bytes(), body.as_bytes()].concat())?;
        } else {
            stream.write_all(head.as_bytes())?;
        }
        stream.flush()?;
        if close {
            break;
        }
    }
    let stream = reader.get_mut();
    stream.conn.send_close_notify();
    let _ = stream.flush();
    Ok(())
}

struct Request {
    method: String,
    path: String,
    query: Option<String>,
    /// Lower-cased names.
    headers: HashMap<String, String>,
    /// A chunked request body we did not consume: close after responding.
    unsupported_body: bool,
}

/// Reads one request; `Ok(None)` on a clean EOF / idle timeout before any
/// byte of a new request.
fn read_request<R: BufRead>(r: &mut R) -> io::Result<Option<Request>> {
    let mut total = 0usize;
    let mut line = String::new();
    // Request line (tolerate stray CRLFs between requests).
    loop {
        line.clear();
        let n = match r.read_line(&mut line) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                ) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(None);
        }
        total += n;
        if total > MAX_HEAD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), Some(q.to_string())),
        None => (target, None),
    };
    let mut headers = HashMap::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in head"));
        }
        total += n;
        if total > MAX_HEAD_BYTES {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "head too large"));
        }
        let l = line.trim_end_matches(['\r', '\n']);
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let mut unsupported_body = false;
    if let Some(len) = headers
        .get("content-length")
        .and_then(|v| v.parse::<u64>().ok())
    {
        // Discard the body (bounded by the read timeout).
        io::copy(&mut r.take(len), &mut io::sink())?;
    } else if headers.contains_key("transfer-encoding") {
        unsupported_body = true;
    }
    Ok(Some(Request {
        method,
        path,
        query,
        headers,
        unsupported_body,
    }))
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        403 => "Forbidden",
        401 => "Unauthorized",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Unknown",
    }
}

/// An HTTP `Date` for the wall clock plus `offset_secs`.
fn http_date(offset_secs: i64) -> String {
    let now = std::time::SystemTime::now();
    let t = if offset_secs >= 0 {
        now + Duration::from_secs(offset_secs as u64)
    } else {
        now - Duration::from_secs(offset_secs.unsigned_abs())
    };
    httpdate::fmt_http_date(t)
}

/// The user name and groups of an authenticated request.
fn user_of(a: &Auth) -> (String, Vec<String>) {
    let (name, mut groups) = match a {
        Auth::ClientCert { cn, orgs } => (cn.clone(), orgs.clone()),
        _ => (TOKEN_USER.to_string(), Vec::new()),
    };
    groups.push("system:authenticated".into());
    (name, groups)
}

/// SelfSubjectReview and authorization, for an authenticated request; `None`
/// leaves it to [`route`].
fn authorized_extra(auth: &Auth_, who: &Auth, method: &str, path: &str) -> Option<(u16, String)> {
    let path = path.trim_end_matches('/');
    let ssr_version = match path {
        "/apis/authentication.k8s.io/v1/selfsubjectreviews" => Some("v1"),
        "/apis/authentication.k8s.io/v1beta1/selfsubjectreviews" => Some("v1beta1"),
        _ => None,
    };
    let (user, groups) = user_of(who);
    let discovery = matches!(path, "/version" | "/api" | "/apis" | "/api/v1");
    if auth.forbid && !discovery {
        let message = match ssr_version {
            Some(_) => format!(
                "selfsubjectreviews.authentication.k8s.io is forbidden: User \"{user}\" cannot create resource \"selfsubjectreviews\" in API group \"authentication.k8s.io\" at the cluster scope"
            ),
            None if path.ends_with("/pods") => format!(
                "pods is forbidden: User \"{user}\" cannot list resource \"pods\" in API group \"\" in the namespace \"default\""
            ),
            None => format!("forbidden: User \"{user}\" cannot get path \"{path}\""),
        };
        return Some((403, status_json(403, "Forbidden", &message)));
    }
    let version = ssr_version?;
    let served = match auth.ssr {
        SsrApi::V1 => true,
        SsrApi::V1beta1Only => version == "v1beta1",
        SsrApi::None => false,
    };
    if !served {
        return Some(not_found());
    }
    if method != "POST" {
        return Some((
            405,
            status_json(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ),
        ));
    }
    Some((
        201,
        serde_json::json!({
            "kind": "SelfSubjectReview",
            "apiVersion": format!("authentication.k8s.io/{version}"),
            "metadata": {"creationTimestamp": null},
            "status": {"userInfo": {"username": user, "groups": groups}},
        })
        .to_string(),
    ))
}

/// A `meta/v1` `Status` failure body.
pub fn status_json(code: u16, reason: &str, message: &str) -> String {
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    })
    .to_string()
}

fn not_found() -> (u16, String) {
    (
        404,
        serde_json::json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": "the server could not find the requested resource",
            "reason": "NotFound",
            "details": {},
            "code": 404,
        })
        .to_string(),
    )
}

fn route(method: &str, path: &str, accept: &str) -> (u16, String) {
    if method != "GET" && method != "HEAD" {
        return (
            405,
            status_json(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
            ),
        );
    }
    let path = path.trim_end_matches('/');
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let ok = |v: serde_json::Value| (200, v.to_string());
    match segs.as_slice() {
        ["version"] => ok(serde_json::json!({
            "major": "1",
            "minor": "32",
            "gitVersion": SERVER_GIT_VERSION,
            "gitCommit": "0000000000000000000000000000000000000000",
            "gitTreeState": "clean",
            "buildDate": "2024-12-11T00:00:00Z",
            "goVersion": "go1.23.3",
            "compiler": "gc",
            "platform": "linux/amd64",
        })),
        ["api"] => ok(serde_json::json!({
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [
                {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}
            ],
        })),
        ["apis"] => ok(serde_json::json!({
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [],
        })),
        ["api", "v1"] => ok(serde_json::json!({
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [{
                "name": "pods",
                "singularName": "pod",
                "namespaced": true,
                "kind": "Pod",
                "verbs": ["get", "list"],
                "shortNames": ["po"],
                "categories": ["all"],
            }],
        })),
        ["api", "v1", "pods"] | ["api", "v1", "namespaces", _, "pods"] => {
            if accept.contains("as=Table") {
                ok(serde_json::json!({
                    "kind": "Table",
                    "apiVersion": "meta.k8s.io/v1",
                    "metadata": {"resourceVersion": "1"},
                    "columnDefinitions": [
                        {"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0},
                        {"name": "Ready", "type": "string", "format": "", "description": "The aggregate readiness state of this pod for accepting traffic.", "priority": 0},
                        {"name": "Status", "type": "string", "format": "", "description": "The aggregate status of the containers in this pod.", "priority": 0},
                        {"name": "Restarts", "type": "string", "format": "", "description": "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.", "priority": 0},
                        {"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0},
                    ],
                    "rows": [],
                }))
            } else {
                ok(serde_json::json!({
                    "kind": "PodList",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": "1"},
                    "items": [],
                }))
            }
        }
        _ => not_found(),
    }
}

// ---------------------------------------------------------------------------
// Minimal DER walk: subject CN and O values of an X.509 certificate.

/// Subject CN (first) and all O values of a DER certificate.
pub fn subject_cn_and_orgs(cert_der: &[u8]) -> Option<(String, Vec<String>)> {
    const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
    const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
    let (_, cert, _) = der_tlv(cert_der)?;
    let (_, tbs, _) = der_tlv(cert)?;
    let mut rest = tbs;
    let (tag, _, r) = der_tlv(rest)?;
    if tag == 0xa0 {
        rest = r; // explicit version
    }
    // serial, signature, issuer, validity
    for _ in 0..4 {
        rest = der_tlv(rest)?.2;
    }
    let (_, mut subject, _) = der_tlv(rest)?;
    let mut cn = None;
    let mut orgs = Vec::new();
    while !subject.is_empty() {
        let (_, mut set, r) = der_tlv(subject)?;
        subject = r;
        while !set.is_empty() {
            let (_, atv, r2) = der_tlv(set)?;
            set = r2;
            let (_, oid, after) = der_tlv(atv)?;
            let (_, val, _) = der_tlv(after)?;
            let val = String::from_utf8_lossy(val).into_owned();
            if oid == OID_CN && cn.is_none() {
                cn = Some(val);
            } else if oid == OID_O {
                orgs.push(val);
            }
        }
    }
    Some((cn.unwrap_or_default(), orgs))
}
