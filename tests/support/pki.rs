//! Throw-away PKI for the loopback test API server: a CA plus server and
//! client leaf certificates, all generated in memory with `rcgen` (ECDSA
//! P-256 / SHA-256, which both rustls and Go's crypto/tls accept).
//!
//! Validity windows are computed relative to the wall clock at generation
//! time, so `Validity::Expired` really is expired for kubectl and for the
//! server's rustls verifier.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};

const DAY: u64 = 24 * 60 * 60;

/// A self-signed certificate authority that can issue leaf certificates.
pub struct Ca {
    /// PEM of the CA certificate (what goes, base64-encoded, into
    /// `certificate-authority-data` or a server's client-CA bundle).
    pub cert_pem: String,
    /// PEM (PKCS#8) of the CA private key, for tests that need it.
    pub key_pem: String,
    key: KeyPair,
    cert: rcgen::Certificate,
}

/// A leaf certificate and its private key, both PEM.
#[derive(Clone, Debug)]
pub struct Issued {
    pub cert_pem: String,
    /// PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`), which kubectl accepts.
    pub key_pem: String,
}

/// Validity window of an issued client certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Validity {
    /// notBefore now-1d, notAfter now+365d.
    Valid,
    /// notBefore now-400d, notAfter now-35d.
    Expired,
    /// notBefore now-1d, notAfter now+N days (N may be negative).
    ExpiresInDays(i64),
    /// Arbitrary window, in days relative to now (may be negative).
    Window {
        not_before_days_from_now: i64,
        not_after_days_from_now: i64,
    },
}

impl Validity {
    /// (notBefore, notAfter) in days relative to now.
    pub fn days(self) -> (i64, i64) {
        match self {
            Validity::Valid => (-1, 365),
            Validity::Expired => (-400, -35),
            Validity::ExpiresInDays(n) => (-1, n),
            Validity::Window {
                not_before_days_from_now,
                not_after_days_from_now,
            } => (not_before_days_from_now, not_after_days_from_now),
        }
    }
}

impl Issued {
    /// Standard base64 of the certificate PEM (for `client-certificate-data`).
    pub fn cert_b64(&self) -> String {
        super::b64(self.cert_pem.as_bytes())
    }
    /// Standard base64 of the key PEM (for `client-key-data`).
    pub fn key_b64(&self) -> String {
        super::b64(self.key_pem.as_bytes())
    }
}

/// "now + days" as the `OffsetDateTime` rcgen wants, without naming the
/// `time` crate (it is not a direct dev-dependency): start from rcgen's epoch
/// helper and shift it with std durations, which `OffsetDateTime` supports.
fn shift<T>(base: T, days: i64) -> T
where
    T: std::ops::Add<Duration, Output = T> + std::ops::Sub<Duration, Output = T>,
{
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970");
    // Truncate to whole seconds: X.509 times have second precision.
    let now = base + Duration::from_secs(now.as_secs());
    let delta = Duration::from_secs(days.unsigned_abs() * DAY);
    if days >= 0 {
        now + delta
    } else {
        now - delta
    }
}

fn set_window(params: &mut CertificateParams, not_before_days: i64, not_after_days: i64) {
    params.not_before = shift(rcgen::date_time_ymd(1970, 1, 1), not_before_days);
    params.not_after = shift(rcgen::date_time_ymd(1970, 1, 1), not_after_days);
}

fn random_serial() -> SerialNumber {
    // Unique enough for tests: nanos since epoch + a process-wide counter.
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(1);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let mut bytes = Vec::with_capacity(16);
    bytes.push(0x01); // keep it positive and non-zero-leading
    bytes.extend_from_slice(&t.to_be_bytes());
    bytes.extend_from_slice(&n.to_be_bytes());
    bytes.extend_from_slice(&std::process::id().to_be_bytes());
    SerialNumber::from_slice(&bytes)
}

impl Ca {
    /// Self-signed CA valid from now-1day to now+10years.
    pub fn new(common_name: &str) -> Ca {
        let key = KeyPair::generate().expect("generate CA key");
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial());
        set_window(&mut params, -1, 3653);
        let cert = params.self_signed(&key).expect("self-sign CA");
        Ca {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key,
            cert,
        }
    }

    /// Standard base64 of the CA PEM (for `certificate-authority-data`).
    pub fn cert_b64(&self) -> String {
        super::b64(self.cert_pem.as_bytes())
    }

    /// DER of the CA certificate.
    pub fn cert_der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }

    fn issue(&self, mut params: CertificateParams) -> Issued {
        let key = KeyPair::generate().expect("generate leaf key");
        params.serial_number = Some(random_serial());
        params.use_authority_key_identifier_extension = true;
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("sign leaf certificate");
        Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    /// Server certificate for the loopback API server: SANs `127.0.0.1` and
    /// `localhost`, serverAuth EKU, valid now-1d..now+365d.
    pub fn server_cert(&self) -> Issued {
        self.server_cert_with(&["127.0.0.1", "localhost"], Validity::Valid)
    }

    /// Server certificate with these SANs (IP addresses or DNS names) and validity window.
    pub fn server_cert_with(&self, sans: &[&str], validity: Validity) -> Issued {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "kube-apiserver");
        params.distinguished_name = dn;
        params.subject_alt_names = sans
            .iter()
            .map(|s| match s.parse::<std::net::IpAddr>() {
                Ok(ip) => SanType::IpAddress(ip),
                Err(_) => SanType::DnsName((*s).try_into().expect("dns name")),
            })
            .collect();
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let (nb, na) = validity.days();
        set_window(&mut params, nb, na);
        self.issue(params)
    }

    /// Client certificate: subject `O=<orgs[0]>, O=<orgs[1]>, ..., CN=<cn>`
    /// (the Kubernetes user name and groups, any number of O values),
    /// clientAuth EKU.
    pub fn client_cert(&self, cn: &str, orgs: &[&str], validity: Validity) -> Issued {
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        // rcgen's DistinguishedName keeps one value per attribute type, so
        // for more than one O the subject is rewritten and re-signed below.
        if orgs.len() == 1 {
            dn.push(DnType::OrganizationName, orgs[0]);
        }
        dn.push(DnType::CommonName, cn);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let (nb, na) = validity.days();
        set_window(&mut params, nb, na);
        let issued = self.issue(params);
        if orgs.len() <= 1 {
            return issued;
        }
        let der = pem_body(&issued.cert_pem);
        let der = self.resign_with_subject(&der, &subject_der(cn, orgs));
        Issued {
            cert_pem: pem_encode("CERTIFICATE", &der),
            key_pem: issued.key_pem,
        }
    }

    /// Replaces the subject of an rcgen-made certificate and re-signs its
    /// TBSCertificate with this CA's key (same signature algorithm).
    fn resign_with_subject(&self, cert_der: &[u8], subject: &[u8]) -> Vec<u8> {
        use rustls::SignatureScheme;
        let (_, cert, _) = der_tlv(cert_der).expect("certificate SEQUENCE");
        let (_, tbs, after_tbs) = der_tlv(cert).expect("tbsCertificate");
        let (_, _, after_alg) = der_tlv(after_tbs).expect("signatureAlgorithm");
        let sig_alg = &after_tbs[..after_tbs.len() - after_alg.len()];
        // Split the TBS into its fields, keeping each field's full encoding.
        let mut fields: Vec<&[u8]> = Vec::new();
        let mut rest = tbs;
        while !rest.is_empty() {
            let (_, _, r) = der_tlv(rest).expect("tbs field");
            fields.push(&rest[..rest.len() - r.len()]);
            rest = r;
        }
        // [0] version, serial, signature, issuer, validity, subject, ...
        let subject_idx = if fields[0][0] == 0xa0 { 5 } else { 4 };
        let mut new_tbs = Vec::new();
        for (i, f) in fields.iter().enumerate() {
            if i == subject_idx {
                new_tbs.extend_from_slice(subject);
            } else {
                new_tbs.extend_from_slice(f);
            }
        }
        let new_tbs = der_wrap(0x30, &new_tbs);

        let key = rustls_pemfile::private_key(&mut self.key_pem.as_bytes())
            .expect("parse CA key PEM")
            .expect("CA key PEM has a key");
        let signing_key =
            rustls::crypto::ring::sign::any_supported_type(&key).expect("CA signing key");
        let signer = signing_key
            .choose_scheme(&[
                SignatureScheme::ECDSA_NISTP256_SHA256,
                SignatureScheme::ED25519,
                SignatureScheme::RSA_PKCS1_SHA256,
            ])
            .expect("CA key signature scheme");
        let sig = signer.sign(&new_tbs).expect("sign tbsCertificate");
        let mut bits = vec![0u8];
        bits.extend_from_slice(&sig);

        let mut body = new_tbs;
        body.extend_from_slice(sig_alg);
        body.extend_from_slice(&der_wrap(0x03, &bits));
        der_wrap(0x30, &body)
    }
}

/// A self-signed client certificate: its own issuer, any subject. Anyone can make one, e.g.
/// `O=system:masters, CN=system:admin`; it proves nothing about who holds it.
pub fn self_signed_client(cn: &str, org: &str, validity: Validity) -> Issued {
    let key = KeyPair::generate().expect("generate key");
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, org);
    dn.push(DnType::CommonName, cn);
    params.distinguished_name = dn;
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.serial_number = Some(random_serial());
    let (nb, na) = validity.days();
    set_window(&mut params, nb, na);
    let cert = params.self_signed(&key).expect("self-sign");
    Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    }
}

/// The SEC1 `EC PRIVATE KEY` PEM inside a PKCS#8 EC key PEM (as Go's x509 writes keys for K3s).
pub fn sec1_key_pem(pkcs8_pem: &str) -> String {
    let der = pem_body(pkcs8_pem);
    let (_, body, _) = der_tlv(&der).expect("PKCS#8 SEQUENCE");
    let (_, _, rest) = der_tlv(body).expect("version");
    let (_, _, rest) = der_tlv(rest).expect("algorithm");
    let (tag, sec1, _) = der_tlv(rest).expect("privateKey");
    assert_eq!(tag, 0x04);
    pem_encode("EC PRIVATE KEY", sec1)
}

/// `SEQUENCE { SET { O=org }... SET { CN=cn } }`, all UTF8String.
fn subject_der(cn: &str, orgs: &[&str]) -> Vec<u8> {
    const OID_O: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x0a];
    const OID_CN: &[u8] = &[0x06, 0x03, 0x55, 0x04, 0x03];
    let rdn = |oid: &[u8], value: &str| {
        let mut atv = oid.to_vec();
        atv.extend_from_slice(&der_wrap(0x0c, value.as_bytes()));
        der_wrap(0x31, &der_wrap(0x30, &atv))
    };
    let mut body = Vec::new();
    for o in orgs {
        body.extend_from_slice(&rdn(OID_O, o));
    }
    body.extend_from_slice(&rdn(OID_CN, cn));
    der_wrap(0x30, &body)
}

/// DER-encodes one TLV.
fn der_wrap(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = (len as u64).to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Splits one DER TLV off `buf`: `(tag, content, rest)`.
pub fn der_tlv(buf: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = buf.split_first()?;
    let (&l0, mut rest) = rest.split_first()?;
    let len = if l0 < 0x80 {
        l0 as usize
    } else {
        let n = (l0 & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let mut len = 0usize;
        for &b in &rest[..n] {
            len = (len << 8) | b as usize;
        }
        rest = &rest[n..];
        len
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

/// DER of the first PEM block in `pem`.
pub fn pem_body(pem: &str) -> Vec<u8> {
    use base64::Engine as _;
    let b64: String = pem
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(b64)
        .expect("PEM base64")
}

/// PEM-encodes `der` with 64-column lines.
pub fn pem_encode(label: &str, der: &[u8]) -> String {
    let b = super::b64(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}
