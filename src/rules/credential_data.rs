//! `credential-data`: inline certificates and keys client-go cannot load.
//!
//! What the user saw (verified with kubectl 1.32):
//! - `error loading config file "PATH": illegal base64 data at input byte N` — a space, tab,
//!   `*`, URL-safe `-`/`_`, missing or stray padding in `certificate-authority-data`,
//!   `client-certificate-data` or `client-key-data` (Go skips `\r` and `\n` only; N is
//!   counted as Go counts it). This one breaks the whole file, every context.
//! - `unable to load root certificates: unable to parse bytes as PEM block` (CA data that is
//!   not PEM, often base64 applied twice), `… no valid certificate authority data seen`.
//! - `tls: failed to find any PEM data in certificate input` (and the other
//!   `tls.X509KeyPair` messages), `tls: private key does not match public key`.
//!
//! Detection: Go's decoders re-done in `support_data`. Messages give byte offsets and PEM
//! block types only, never the data.
//!
//! Fixes, only where the intended value is certain and checked by decoding it as client-go
//! does (the new value decodes with Go's standard base64, the decoded bytes are a CA bundle,
//! a client certificate or a private key client-go loads, and a user's certificate and key
//! still belong together):
//! - spaces, tabs and line breaks inside the value removed (a value wrapped over several
//!   lines in a plain scalar reads as one line with spaces in it);
//! - raw PEM pasted into the field (`certificate-authority-data: -----BEGIN CERTIFICATE-----…`)
//!   encoded as base64;
//! - base64 applied twice undone (the once-decoded value is base64 of PEM that loads).
//!
//! These are `credential-encoding`'s findings (with kubectl's words as the other two
//! give them); `credential-data` and `credential-pem` report the rest.
//!
//! The value is replaced in its own quoting style (a block scalar becomes a plain one).

use base64::Engine as _;

use super::support::data::{
    ca_pool_error, cert_loads, go_base64, key_loads, key_pair_error, pem_blocks,
};
use super::support::view::{key_line, set_value};
use super::support::{Context, Finding, Rule, Severity};
use crate::kubeconfig::Entry;
use crate::source::Kind;

rule!(CredentialDataRule, "credential-data", reports, "certificate-authority-data, client-certificate-data and client-key-data that are not valid base64, not PEM, or a key that does not match its certificate");

rule!(
/// The PEM half (`unable to load root certificates`, `tls: …`): data that decodes but that
/// client-go cannot use.
CredentialPemRule as PEM_ID, "credential-pem", reports, "certificate-authority-data and client certificates that are not PEM, or a key that does not match its certificate");

rule!(
/// The repairs: whitespace inside the value, raw PEM pasted in, base64 applied twice. A rule
/// of its own because fixers run again on the repaired text: this one looks only at values
/// that can be one of these ([`suspect`]), so the second run costs a scan, not a decode of
/// every certificate.
CredentialEncodingRule as ENCODING_ID, "credential-encoding", fixes, "certificate-authority-data, client-certificate-data and client-key-data with spaces or tabs inside, raw PEM pasted in, or base64 applied twice; fixes them when the result loads");

/// Whether `bytes` is itself base64 of something with a PEM block (base64 applied twice).
fn encoded_twice(bytes: &[u8]) -> bool {
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .is_ok_and(|inner| !pem_blocks(&inner).is_empty())
}

/// A `*-data` field, and what client-go must load from it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Field {
    Ca,
    Cert,
    Key,
}

impl Field {
    fn key(self) -> &'static str {
        match self {
            Field::Ca => "certificate-authority-data",
            Field::Cert => "client-certificate-data",
            Field::Key => "client-key-data",
        }
    }

    fn file_key(self) -> &'static str {
        match self {
            Field::Ca => "certificate-authority",
            Field::Cert => "client-certificate",
            Field::Key => "client-key",
        }
    }

    fn loads(self, pem: &[u8]) -> bool {
        match self {
            Field::Ca => !pem.is_empty() && ca_pool_error(pem).is_none(),
            Field::Cert => cert_loads(pem),
            Field::Key => key_loads(pem),
        }
    }
}

/// How a value was repaired.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum How {
    Whitespace,
    RawPem,
    Twice,
}

impl How {
    fn title(self, key: &str) -> String {
        match self {
            How::Whitespace => format!("remove the spaces, tabs and line breaks inside {key}"),
            How::RawPem => format!("encode the PEM text in {key} as base64"),
            How::Twice => format!("decode {key} once (it was base64 of base64)"),
        }
    }
}

/// A repaired value: the new base64 text and what it decodes to.
struct Repair {
    field: Field,
    value: String,
    bytes: Vec<u8>,
    how: How,
}

/// A value Go cannot decode, repaired: whitespace removed, or raw PEM encoded. `None` when
/// neither gives bytes the field loads.
fn repair_undecodable(value: &str, field: Field) -> Option<Repair> {
    let (value, how) = if value.contains("-----BEGIN ") {
        let pem = pem_from_text(value)?;
        (
            base64::engine::general_purpose::STANDARD.encode(pem),
            How::RawPem,
        )
    } else {
        let joined: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        if joined.len() == value.len() {
            return None; // not a whitespace problem (`*`, URL-safe, padding)
        }
        (joined, How::Whitespace)
    };
    let bytes = go_base64(value.as_bytes()).ok()?;
    field.loads(&bytes).then_some(Repair {
        field,
        value,
        bytes,
        how,
    })
}

/// A value that decodes to base64 of PEM, decoded once. `None` unless that PEM loads.
fn repair_twice(decoded: &[u8], field: Field) -> Option<Repair> {
    if decoded.len() < 16 || decoded.contains(&b'-') {
        return None;
    }
    let value: String = std::str::from_utf8(decoded)
        .ok()?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    let bytes = go_base64(value.as_bytes()).ok()?;
    field.loads(&bytes).then_some(Repair {
        field,
        value,
        bytes,
        how: How::Twice,
    })
}

/// PEM text whose line breaks were lost or mangled (a plain scalar folds them into spaces),
/// rebuilt: each `-----BEGIN T-----` … `-----END T-----` block with its base64 body
/// re-wrapped at 64 columns. `None` when anything but whitespace sits between blocks, a
/// block has headers, or a body is not base64.
fn pem_from_text(text: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let engine = &base64::engine::general_purpose::STANDARD;
    let mut out = String::new();
    let mut rest = text.trim_start();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        rest = rest.strip_prefix("-----BEGIN ")?;
        let (label, after) = rest.split_once("-----")?;
        if label.is_empty()
            || label.len() > 64
            || !label.bytes().all(|b| b.is_ascii_uppercase() || b == b' ')
        {
            return None;
        }
        let end = format!("-----END {label}-----");
        let (body, after) = after.split_once(end.as_str())?;
        let body: String = body.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = engine.decode(body).ok()?;
        out.push_str(&format!("-----BEGIN {label}-----\n"));
        let encoded = engine.encode(der);
        for line in encoded.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(line).ok()?);
            out.push('\n');
        }
        out.push_str(&end);
        out.push('\n');
        rest = after.trim_start();
    }
    Some(out.into_bytes())
}

/// The repairs of one entry's `*-data` values that leave client-go able to load the entry:
/// each repaired value loads, and a user's certificate and key (repaired or not, inline or
/// from a file) belong together. Called only for an entry with a problem.
fn entry_repairs(cx: &Context<'_, '_, '_>, entry: &Entry, fields: &[Field]) -> Vec<Repair> {
    let kc = cx.config;
    let Some(body) = entry.body else {
        return Vec::new();
    };
    let mut repairs = Vec::new();
    let mut final_bytes: Vec<Option<Vec<u8>>> = Vec::new();
    for &field in fields {
        let now = match kc.str_of(body, field.key()).filter(|v| !v.is_empty()) {
            Some(value) => match go_base64(value.as_bytes()) {
                Ok(bytes) if field.loads(&bytes) => Some(bytes),
                Ok(bytes) => match repair_twice(&bytes, field) {
                    Some(r) => {
                        let b = r.bytes.clone();
                        repairs.push(r);
                        Some(b)
                    }
                    None => Some(bytes),
                },
                Err(_) => repair_undecodable(value, field).map(|r| {
                    let b = r.bytes.clone();
                    repairs.push(r);
                    b
                }),
            },
            None => {
                let kind = if field == Field::Key {
                    Kind::Key
                } else {
                    Kind::Certificate
                };
                load(cx, entry, field.key(), field.file_key(), kind).map(|l| l.bytes)
            }
        };
        final_bytes.push(now);
    }
    if let [Some(cert), Some(key)] = final_bytes.as_slice() {
        if key_pair_error(cert, key).is_some() {
            return Vec::new();
        }
    }
    repairs
}

/// `finding` with the fix of `repair`, or a by-hand hint when the YAML layer cannot make it.
fn with_repair(cx: &Context<'_, '_, '_>, entry: &Entry, finding: Finding, r: &Repair) -> Finding {
    let key = r.field.key();
    let Some(body) = entry.body else {
        return finding;
    };
    finding.fix_or_hint(
        r.how.title(key),
        set_value(cx.config, body, key, &r.value).map(|c| vec![c]),
        r.how.title(key),
    )
}

/// Whether a value can be one [`entry_repairs`] repairs, by a scan: a space, tab or form
/// feed (Go skips only `\r` and `\n`), PEM text, or the start of base64 applied twice to
/// PEM (`TFMwdExTMUNSVWRK` is base64 of `LS0tLS1CRUdJ`, itself base64 of `-----BEGI`).
fn suspect(value: &str) -> bool {
    let b = value.as_bytes();
    memchr::memchr3(b' ', b'\t', b'\x0c', b).is_some()
        || memchr::memmem::find(b, b"-----BEGIN ").is_some()
        || value.trim_start().starts_with("TFMwdExTMUNSVWRK")
}

/// The repairs `credential-encoding` makes for an entry: none unless one of its values is
/// [`suspect`].
fn fixer_repairs(cx: &Context<'_, '_, '_>, entry: &Entry, fields: &[Field]) -> Vec<Repair> {
    let Some(body) = entry.body else {
        return Vec::new();
    };
    let any = fields
        .iter()
        .any(|f| cx.config.str_of(body, f.key()).is_some_and(suspect));
    if !any {
        return Vec::new();
    }
    entry_repairs(cx, entry, fields)
}

/// `credential-encoding`'s finding for one repair, in kubectl's words.
fn repair_finding(cx: &Context<'_, '_, '_>, entry: &Entry, r: &Repair) -> Option<Finding> {
    let kc = cx.config;
    let body = entry.body?;
    let key = r.field.key();
    let value = kc.str_of(body, key)?;
    let (message, code, said) = match (r.how, go_base64(value.as_bytes())) {
        (How::Whitespace | How::RawPem, Err(at)) => (
            format!(
                "{key} is not valid base64 at byte {at} of {}: {}; kubectl cannot load this file at all",
                value.len(),
                if r.how == How::RawPem {
                    "it holds PEM text, not base64 of it"
                } else {
                    "spaces or tabs inside it"
                }
            ),
            "bad-base64",
            format!(
                "error loading config file {:?}: illegal base64 data at input byte {at}",
                cx.path.display().to_string()
            ),
        ),
        (How::Twice, Ok(once)) => (
            format!("{key} is base64 of base64: decoded once it is still base64, not PEM"),
            if r.field == Field::Ca { "bad-ca" } else { "bad-client-cert" },
            match r.field {
                Field::Ca => format!(
                    "unable to load root certificates: {}",
                    ca_pool_error(&once).unwrap_or_default()
                ),
                Field::Cert => "tls: failed to find any PEM data in certificate input".into(),
                Field::Key => "tls: failed to find any PEM data in key input".into(),
            },
        ),
        _ => return None,
    };
    let f = Finding::new(
        ENCODING_ID,
        Severity::Error,
        key_line(kc, body, key),
        message,
    )
    .entry(entry)
    .code(code)
    .kubectl_says(said);
    Some(with_repair(cx, entry, f, r))
}

impl Rule for CredentialEncodingRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        let kc = cx.config;
        let sections: [(&[Entry], &[Field]); 2] = [
            (&kc.clusters, &[Field::Ca]),
            (&kc.users, &[Field::Cert, Field::Key]),
        ];
        for (entries, fields) in sections {
            for entry in entries {
                for r in fixer_repairs(cx, entry, fields) {
                    out.extend(repair_finding(cx, entry, &r));
                }
            }
        }
    }
}

impl Rule for CredentialDataRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, false, out)
    }
}

impl Rule for CredentialPemRule {
    fn check(&self, cx: &Context<'_, '_, '_>, out: &mut Vec<Finding>) {
        check(cx, true, out)
    }
}

/// Base64 findings (`pem: false`) or PEM findings of data that decodes (`pem: true`), except
/// what `credential-encoding` repairs.
fn check(cx: &Context<'_, '_, '_>, pem: bool, out: &mut Vec<Finding>) {
    {
        let kc = cx.config;
        // The decoded value of `field`, or a finding for invalid base64.
        let decode = |entry: &Entry,
                      fields: &[Field],
                      field: Field,
                      out: &mut Vec<Finding>|
         -> Option<Vec<u8>> {
            let body = entry.body?;
            let key = field.key();
            let value = kc.str_of(body, key).filter(|v| !v.is_empty())?;
            match go_base64(value.as_bytes()) {
                Ok(bytes) => Some(bytes),
                Err(_) if pem => None,
                Err(_)
                    if fixer_repairs(cx, entry, fields)
                        .iter()
                        .any(|r| r.field == field) =>
                {
                    None
                }
                Err(at) => {
                    out.push(
                        Finding::new(
                            ID,
                            Severity::Error,
                            key_line(kc, body, key),
                            format!("{key} is not valid base64 at byte {at} of {}; kubectl cannot load this file at all", value.len()),
                        )
                        .entry(entry)
                        .code("bad-base64")
                        .kubectl_says(format!(
                            "error loading config file {:?}: illegal base64 data at input byte {at}",
                            cx.path.display().to_string()
                        ))
                        .hint("re-encode the PEM file with `base64 -w0 FILE` and paste it as one line (line breaks are fine; spaces, tabs and URL-safe characters are not)"),
                    );
                    None
                }
            }
        };
        let mut found = Vec::new();
        if !pem {
            for cluster in &kc.clusters {
                decode(cluster, &[Field::Ca], Field::Ca, &mut found);
            }
            for user in &kc.users {
                decode(user, &[Field::Cert, Field::Key], Field::Cert, &mut found);
                decode(user, &[Field::Cert, Field::Key], Field::Key, &mut found);
            }
            out.extend(found);
            return;
        }
        for cluster in &kc.clusters {
            let Some(ca) = load(
                cx,
                cluster,
                "certificate-authority-data",
                "certificate-authority",
                Kind::Certificate,
            ) else {
                continue;
            };
            let Some(e) = ca_pool_error(&ca.bytes) else {
                // client-go loads the bundle; a block kubefix cannot read (no expiry shown
                // for it) is still worth a word.
                if let Err(why) = crate::inspect::cert::parse_bundle(&ca.bytes) {
                    if !ca.bytes.is_empty() {
                        found.push(unreadable(cluster, &ca, &why, "client-go skips what it cannot parse and uses the other certificates of the bundle"));
                    }
                }
                continue;
            };
            if !ca.file && !fixer_repairs(cx, cluster, &[Field::Ca]).is_empty() {
                continue;
            }
            let twice = encoded_twice(&ca.bytes);
            let what = ca.what();
            found.push(
                Finding::new(
                    PEM_ID,
                    Severity::Error,
                    ca.line,
                    if twice {
                        format!("{what} is base64 of base64: decoded once it is still base64 ({} bytes), not a PEM certificate", ca.bytes.len())
                    } else {
                        format!("{what} holds {} bytes but no usable PEM certificate", ca.bytes.len())
                    },
                )
                .entry(cluster)
                .code("bad-ca")
                .kubectl_says(format!("unable to load root certificates: {e}"))
                .hint(if twice {
                    "decode the value once (`base64 -d`) and put that in its place"
                } else {
                    "put the cluster's CA certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----)"
                }),
            );
        }
        for user in &kc.users {
            let cert = load(
                cx,
                user,
                "client-certificate-data",
                "client-certificate",
                Kind::Certificate,
            );
            let key = load(cx, user, "client-key-data", "client-key", Kind::Key);
            let Some(cert) = cert else { continue };
            let Some(key) = key else {
                // No key: auth-methods reports that; kubefix still says when it cannot read
                // the certificate.
                if let Err(why) = crate::inspect::cert::parse_bundle(&cert.bytes) {
                    if fixer_repairs(cx, user, &[Field::Cert, Field::Key]).is_empty() {
                        found.push(unreadable(
                            user,
                            &cert,
                            &why,
                            "kubectl will refuse it too once the key is there",
                        ));
                    }
                }
                continue;
            };
            let Some(e) = key_pair_error(&cert.bytes, &key.bytes) else {
                continue;
            };
            // What credential-encoding repairs leaves the pair loading.
            if !fixer_repairs(cx, user, &[Field::Cert, Field::Key]).is_empty() {
                continue;
            }
            // Inline data is loaded with the kubeconfig; files are read when kubectl connects
            // (client-go reloads them for each handshake), so the same error comes then
            // (verified with kubectl 1.32 against a TLS server).
            let said = if cert.file || key.file {
                format!("Unable to connect to the server: {e}")
            } else {
                e.clone()
            };
            let (at, what, hint) = if e.contains("certificate input") {
                (&cert, format!("{} holds no usable PEM certificate", cert.what()), "put the client certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----)")
            } else if e.starts_with("x509:") {
                (&cert, format!("{} holds a certificate that does not parse (malformed X.509)", cert.what()), "put the client certificate there: base64 of the PEM file (-----BEGIN CERTIFICATE-----); this one is damaged")
            } else if e.contains("does not match public key") {
                (&key, format!("{} is not the private key of {}", key.what(), cert.what()), "put the key that belongs to this certificate (or the certificate that belongs to this key); they were probably copied from different kubeconfigs")
            } else {
                (&key, format!("{} holds no usable PEM private key", key.what()), "put the private key there: base64 of the PEM file (-----BEGIN … PRIVATE KEY-----)")
            };
            found.push(
                Finding::new(PEM_ID, Severity::Error, at.line, what)
                    .entry(user)
                    .code("bad-client-cert")
                    .kubectl_says(said)
                    .hint(hint),
            );
        }
        out.extend(found);
    }
}

/// A credential's bytes as client-go reads them: the inline `*-data` value decoded as Go
/// decodes it (invalid base64 is `credential-data`'s), else the file the path key names
/// (one that cannot be read is `missing-file`'s). The data wins when both are set, as in
/// client-go.
struct Loaded {
    /// `certificate-authority-data`, or `certificate-authority file PATH`.
    source: String,
    line: usize,
    bytes: Vec<u8>,
    /// Read from a file (not inline data).
    file: bool,
}

impl Loaded {
    fn what(&self) -> &str {
        &self.source
    }
}

fn load(
    cx: &Context<'_, '_, '_>,
    entry: &Entry,
    data_key: &str,
    file_key: &str,
    kind: Kind,
) -> Option<Loaded> {
    let kc = cx.config;
    let body = entry.body?;
    if let Some(value) = kc.str_of(body, data_key).filter(|v| !v.is_empty()) {
        return go_base64(value.as_bytes()).ok().map(|bytes| Loaded {
            source: data_key.to_string(),
            line: key_line(kc, body, data_key),
            bytes,
            file: false,
        });
    }
    let value = kc.str_of(body, file_key).filter(|v| !v.is_empty())?;
    let path = super::missing_file::resolve(value, cx.path);
    let bytes = crate::source::read_regular(&path, kind).ok()?;
    Some(Loaded {
        source: format!("the {file_key} file {}", path.display()),
        line: key_line(kc, body, file_key),
        bytes,
        file: true,
    })
}

/// A warning for a certificate kubefix cannot read though client-go does not refuse it (yet).
fn unreadable(entry: &Entry, loaded: &Loaded, why: &str, note: &str) -> Finding {
    Finding::new(
        PEM_ID,
        Severity::Warning,
        loaded.line,
        format!(
            "{} holds a certificate kubefix cannot read ({why}); its expiry is unknown",
            loaded.what()
        ),
    )
    .entry(entry)
    .code("unreadable")
    .hint(format!(
        "{note}; replace the damaged certificate, or remove it (base64 of the PEM file, -----BEGIN CERTIFICATE-----)"
    ))
}

#[cfg(test)]
mod tests {
    use super::super::support::testutil::{findings, rule_findings};
    use super::super::support::RuleOptions;
    use super::*;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    // A self-signed P-256 certificate and its key (PKCS#8 with the public key), and a
    // second key, made once with openssl for this test; none of them guards anything.
    const CERT: &str = "-----BEGIN CERTIFICATE-----
MIIBejCCAR+gAwIBAgIUcL6wbtD7gSv9lpxGgXqXPEvxpTMwCgYIKoZIzj0EAwIw
EjEQMA4GA1UEAwwHa3ViZWZpeDAeFw0yNjEyMDEwMzIyMDBaFw0zNjExMjgwMzIy
MDBaMBIxEDAOBgNVBAMMB2t1YmVmaXgwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNC
AATZBMd+GQ4KRmxoOscTrNd48c89+P7/0vduLg/Egjb5tQ2X+mhbIC/ilOK2PaGW
orZ/YqXjsoD9Nj7sFWSNdE0Io1MwUTAdBgNVHQ4EFgQUFgjipVJk62xW+QQMaJUq
cniKvFkwHwYDVR0jBBgwFoAUFgjipVJk62xW+QQMaJUqcniKvFkwDwYDVR0TAQH/
BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA524+SbcgoU2JMBxfW2LIpwvJEo+k
gnxQROtCKufePyQCIQCyx/WXBg2VuyiFtOp4FaGRqxlnM8t91nFPItQ1NpnHGQ==
-----END CERTIFICATE-----
";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgFmhwWvAqRI2dIHct
ph9C0DxU3oVsaCd66viWXDVTYIOhRANCAATZBMd+GQ4KRmxoOscTrNd48c89+P7/
0vduLg/Egjb5tQ2X+mhbIC/ilOK2PaGWorZ/YqXjsoD9Nj7sFWSNdE0I
-----END PRIVATE KEY-----
";
    const OTHER_KEY: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNeL/9A0jGTpJbre1
eelbUz7NrLLfpq0tFLrIFRQMr0KhRANCAAR3FJYYrXAcB7uSL9f1G6NTN4dnok7+
MGpHVyZJX1j3p1ExFlIDsse2a7yLqwvYkbW7DO9Lnq99307Cf8Kdr0fG
-----END PRIVATE KEY-----
";

    #[test]
    fn key_pair_matching() {
        assert_eq!(key_pair_error(CERT.as_bytes(), KEY.as_bytes()), None);
        assert_eq!(
            key_pair_error(CERT.as_bytes(), OTHER_KEY.as_bytes()).as_deref(),
            Some("tls: private key does not match public key")
        );
        assert_eq!(ca_pool_error(CERT.as_bytes()), None);
    }

    #[test]
    fn reports_offsets_pem_and_mismatch_without_data() {
        let ca = b64(CERT.as_bytes());
        let src = format!(
            "apiVersion: v1
kind: Config
clusters:
- name: spaced
  cluster: {{server: 'https://h', certificate-authority-data: '{} {}'}}
- name: twice
  cluster: {{server: 'https://h', certificate-authority-data: {}}}
- name: good
  cluster: {{server: 'https://h', certificate-authority-data: \"{}\\r\\n{}\"}}
users:
- name: mismatch
  user:
    client-certificate-data: {ca}
    client-key-data: {}
- name: notpem
  user:
    client-certificate-data: aGVsbG8=
    client-key-data: {}
- name: good
  user: {{client-certificate-data: {ca}, client-key-data: {}}}
",
            &ca[..10],
            &ca[10..],
            b64(ca.as_bytes()),
            &ca[..10],
            &ca[10..],
            b64(OTHER_KEY.as_bytes()),
            b64(KEY.as_bytes()),
            b64(KEY.as_bytes()),
        );
        let mut f: Vec<_> = findings(&src, &RuleOptions::default())
            .into_iter()
            .filter(|f| f.rule == ID || f.rule == PEM_ID || f.rule == ENCODING_ID)
            .collect();
        assert_eq!(
            f.iter().filter(|f| f.code == Some("bad-base64")).count(),
            1,
            "base64 only"
        );
        // The halves alone say the same as in the registry: the repairable two (the space,
        // base64 twice) are credential-encoding's.
        assert_eq!(
            rule_findings(&CredentialPemRule, &src, &RuleOptions::default()).len(),
            2
        );
        assert_eq!(
            rule_findings(&CredentialEncodingRule, &src, &RuleOptions::default()).len(),
            2
        );
        f.sort_by_key(|f| f.line);
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.line, f.kubectl_error.clone().unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (5, "error loading config file \"/nonexistent-kubefix-test/config\": illegal base64 data at input byte 10".to_string()),
                (7, "unable to load root certificates: unable to parse bytes as PEM block".to_string()),
                (14, "tls: private key does not match public key".to_string()),
                (17, "tls: failed to find any PEM data in certificate input".to_string()),
            ]
        );
        assert_eq!(
            f[1].fix.as_ref().unwrap().title,
            "decode certificate-authority-data once (it was base64 of base64)"
        );
        for f in &f {
            assert!(!f.message.contains(&ca[..10]) && !f.message.contains("aGVsbG8"));
        }
    }

    fn user_config(cluster: &str, user: &str) -> String {
        format!("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://h\n{cluster}users:\n- name: u\n  user:\n{user}")
    }

    #[test]
    fn repairs_whitespace_raw_pem_and_double_base64() {
        use super::super::support::testutil::fixed;
        let o = RuleOptions::default();
        let (ca, cert, key) = (
            b64(CERT.as_bytes()),
            b64(CERT.as_bytes()),
            b64(KEY.as_bytes()),
        );
        // A value wrapped over lines in a plain scalar (read with spaces), a tab in a
        // double-quoted one, base64 twice, raw PEM in a block scalar.
        let src = user_config(
            &format!(
                "    certificate-authority-data: {}\n      {}\n",
                &ca[..40],
                &ca[40..]
            ),
            &format!(
                "    client-certificate-data: {}\n    client-key-data: \"{}\\t{}\"\n",
                b64(cert.as_bytes()),
                &key[..8],
                &key[8..]
            ),
        );
        let f = findings(&src, &o);
        let fixes: Vec<_> = f
            .iter()
            .filter_map(|f| f.fix.as_ref().map(|x| (f.rule, x.title.clone())))
            .collect();
        assert_eq!(
            fixes,
            vec![
                (
                    ENCODING_ID,
                    "remove the spaces, tabs and line breaks inside certificate-authority-data"
                        .to_string()
                ),
                (
                    ENCODING_ID,
                    "decode client-certificate-data once (it was base64 of base64)".to_string()
                ),
                (
                    ENCODING_ID,
                    "remove the spaces, tabs and line breaks inside client-key-data".to_string()
                ),
            ]
        );
        // Nothing else reports them.
        assert!(f.iter().all(|f| f.rule != ID && f.rule != PEM_ID), "{f:?}");
        assert_eq!(
            fixed(&src, &o),
            user_config(
                &format!("    certificate-authority-data: {ca}\n"),
                &format!("    client-certificate-data: {cert}\n    client-key-data: \"{key}\"\n"),
            )
        );
        // Raw PEM in a literal block and in a folded plain scalar.
        let block: String = CERT.lines().map(|l| format!("      {l}\n")).collect();
        for cluster in [
            format!("    certificate-authority-data: |\n{block}"),
            format!("    certificate-authority-data: {}", block.trim_start()),
        ] {
            let src = user_config(
                &cluster,
                &format!("    client-certificate-data: {cert}\n    client-key-data: {key}\n"),
            );
            let out = fixed(&src, &o);
            assert!(
                out.contains(&format!("    certificate-authority-data: {ca}\n")),
                "{out}"
            );
        }
    }

    #[test]
    fn no_repair_when_the_result_would_not_load() {
        let o = RuleOptions::default();
        let (cert, other) = (b64(CERT.as_bytes()), b64(OTHER_KEY.as_bytes()));
        // The key's whitespace is certain, but the key does not belong to the certificate:
        // the repair would trade one kubectl error for another.
        let src = user_config(
            "",
            &format!(
                "    client-certificate-data: {cert}\n    client-key-data: {} {}\n",
                &other[..8],
                &other[8..]
            ),
        );
        let f = findings(&src, &o);
        assert!(f.iter().all(|f| f.fix.is_none()), "{f:?}");
        // Whitespace around a `*`: not a whitespace problem alone.
        let ca = b64(CERT.as_bytes());
        let src = user_config(
            &format!(
                "    certificate-authority-data: '{} *{}'\n",
                &ca[..8],
                &ca[9..]
            ),
            "    token: t\n",
        );
        assert!(findings(&src, &o).iter().all(|f| f.fix.is_none()));
        // Base64 twice of something that is not PEM: reported, not repaired.
        let src = user_config(
            &format!(
                "    certificate-authority-data: {}\n",
                b64(b64(b"hello world, not pem").as_bytes())
            ),
            "    token: t\n",
        );
        let f = findings(&src, &o);
        assert!(f.iter().any(|f| f.rule == PEM_ID) && f.iter().all(|f| f.fix.is_none()));
    }
}
