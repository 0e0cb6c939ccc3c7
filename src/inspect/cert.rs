//! X.509 certificates as kubeconfigs carry them: PEM (a bundle or chain: the leaf is the
//! first block) inside `client-certificate-data` / `certificate-authority-data`, or in a
//! file named by `client-certificate` / `certificate-authority`.

use x509_parser::prelude::{parse_x509_certificate, X509Certificate};

/// The parts of a certificate kubefix reasons about. Keeps the DER to check signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cert {
    pub der: Vec<u8>,
    /// RFC 4514-style subject, e.g. `O=system:masters, CN=system:admin`.
    pub subject: String,
    pub issuer: String,
    pub not_before: i64,
    pub not_after: i64,
    pub identity: Identity,
    pub is_ca: bool,
}

/// Who a client certificate says the user is: Kubernetes takes the user name from the
/// subject CN and the groups from the O values.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Identity {
    pub common_name: Option<String>,
    /// Sorted, so the order of O values does not matter.
    pub organizations: Vec<String>,
}

/// Groups whose members are cluster admins by default: `system:masters` (bound to
/// cluster-admin, and past every authorizer), kubeadm's `kubeadm:cluster-admins` (1.29+).
pub const ADMIN_GROUPS: [&str; 2] = ["system:masters", "kubeadm:cluster-admins"];

/// The user names the distributions give their admin certificate: K3s and RKE2
/// `system:admin`, kubeadm `kubernetes-admin` and `kubernetes-super-admin`.
pub const ADMIN_USERS: [&str; 3] = ["system:admin", "kubernetes-admin", "kubernetes-super-admin"];

impl Identity {
    /// Is this the identity of a cluster admin as the distributions write it (an admin
    /// group, or an admin user name)? Anything else is a person's or a program's own
    /// certificate, which a node's admin kubeconfig cannot renew.
    pub fn is_admin(&self) -> bool {
        self.organizations
            .iter()
            .any(|o| ADMIN_GROUPS.contains(&o.as_str()))
            || self
                .common_name
                .as_deref()
                .is_some_and(|cn| ADMIN_USERS.contains(&cn))
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CN={}", self.common_name.as_deref().unwrap_or(""))?;
        for o in &self.organizations {
            write!(f, ", O={o}")?;
        }
        Ok(())
    }
}

/// Why a certificate does not parse, in the user's words: the parser's own error (nom and
/// DER internals such as `Parsing Error: Der(UnexpectedTag …)`) never reaches the output.
pub const MALFORMED: &str = "malformed X.509 certificate";

fn parsed(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    let (rest, cert) = parse_x509_certificate(der).map_err(|_| MALFORMED.to_string())?;
    if !rest.is_empty() {
        return Err("trailing bytes after the certificate".into());
    }
    Ok(cert)
}

impl Cert {
    pub fn from_der(der: &[u8]) -> Result<Cert, String> {
        let c = parsed(der)?;
        let strings =
            |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
                it.filter_map(|a| a.as_str().ok().map(str::to_string))
                    .collect::<Vec<_>>()
            };
        let mut organizations = strings(&mut c.subject().iter_organization());
        organizations.sort();
        let common_name = strings(&mut c.subject().iter_common_name())
            .into_iter()
            .next();
        Ok(Cert {
            der: der.to_vec(),
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            not_before: c.validity().not_before.timestamp(),
            not_after: c.validity().not_after.timestamp(),
            identity: Identity {
                common_name,
                organizations,
            },
            is_ca: c.is_ca(),
        })
    }

    /// Is this certificate's signature made by `issuer`'s key? Only the signature and the
    /// issuer name are checked, never the validity dates: an expired certificate was still
    /// issued by that CA. A self-signed certificate is signed by no one else.
    pub fn signed_by(&self, issuer: &Cert) -> bool {
        if self.der == issuer.der {
            return false;
        }
        let (Ok(me), Ok(them)) = (parsed(&self.der), parsed(&issuer.der)) else {
            return false;
        };
        me.issuer() == them.subject() && me.verify_signature(Some(them.public_key())).is_ok()
    }

    /// Signed by one of `cas` (see [`Cert::signed_by`]).
    pub fn signed_by_any(&self, cas: &[Cert]) -> bool {
        cas.iter().any(|ca| self.signed_by(ca))
    }

    /// Does the private key in `key` (PEM or DER: PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE
    /// KEY`, PKCS#1 `RSA PRIVATE KEY`) belong to this certificate? The public key is derived
    /// from the private one and compared, so only whoever holds the certificate's key gets
    /// `true`; a certificate copied without its key, a key that merely carries the
    /// certificate's public key, or an unknown format answers `false`.
    pub fn key_matches(&self, key: &[u8]) -> bool {
        let Ok(c) = parsed(&self.der) else {
            return false;
        };
        let public: &[u8] = &c.public_key().subject_public_key.data;
        private_keys(key)
            .iter()
            .any(|(label, der)| key_matches_public(label, der, public))
    }

    pub fn expired(&self, now: i64) -> bool {
        self.not_after <= now
    }
}

/// Every certificate of a PEM bundle, in order (leaf first in a chain). Raw DER is accepted
/// too. Other PEM blocks (keys) are skipped; an empty result is an error.
pub fn parse_bundle(bytes: &[u8]) -> Result<Vec<Cert>, String> {
    let mut out = Vec::new();
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if looks_pem {
        for pem in x509_parser::pem::Pem::iter_from_buffer(bytes) {
            let pem = pem.map_err(|_| "invalid PEM block".to_string())?;
            if pem.label == "CERTIFICATE" {
                out.push(Cert::from_der(&pem.contents)?);
            }
        }
    } else if !bytes.is_empty() {
        out.push(Cert::from_der(bytes)?);
    }
    if out.is_empty() {
        return Err("no certificate in it".into());
    }
    Ok(out)
}

/// Same certificate (byte-equal DER) in both bundles?
pub fn share_a_cert(a: &[Cert], b: &[Cert]) -> bool {
    a.iter().any(|x| b.iter().any(|y| x.der == y.der))
}

/// The private-key blocks of a PEM text (label, DER); raw DER counts as an unlabelled block.
fn private_keys(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if !looks_pem {
        return vec![(String::new(), bytes.to_vec())];
    }
    x509_parser::pem::Pem::iter_from_buffer(bytes)
        .map_while(Result::ok)
        .filter(|p| p.label.ends_with("PRIVATE KEY"))
        .map(|p| (p.label, p.contents))
        .collect()
}

/// Splits one DER TLV off `buf`: (tag, content, rest).
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
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | b as usize);
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

/// The private scalar of an EC key: from SEC1 `ECPrivateKey ::= SEQUENCE { version 1,
/// privateKey OCTET STRING, ... }`, or from the same inside PKCS#8 `SEQUENCE { version,
/// AlgorithmIdentifier, privateKey OCTET STRING }`.
fn ec_private_scalar(der: &[u8]) -> Option<Vec<u8>> {
    let (0x30, body, _) = der_tlv(der)? else {
        return None;
    };
    let (0x02, version, rest) = der_tlv(body)? else {
        return None;
    };
    match (version, der_tlv(rest)?) {
        ([1], (0x04, scalar, _)) => Some(scalar.to_vec()),
        ([0], (0x30, _alg, rest)) => match der_tlv(rest)? {
            (0x04, inner, _) => ec_private_scalar(inner),
            _ => None,
        },
        _ => None,
    }
}

fn key_matches_public(label: &str, der: &[u8], public: &[u8]) -> bool {
    use ring::signature::{self, KeyPair};
    if matches!(label, "" | "PRIVATE KEY" | "EC PRIVATE KEY") {
        if let Some(scalar) = ec_private_scalar(der) {
            let rng = ring::rand::SystemRandom::new();
            // ring derives the public key from the scalar and compares it.
            let ec = [
                &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
                &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            ];
            if ec.iter().any(|alg| {
                signature::EcdsaKeyPair::from_private_key_and_public_key(alg, &scalar, public, &rng)
                    .is_ok()
            }) {
                return true;
            }
        }
    }
    if matches!(label, "" | "PRIVATE KEY") {
        if let Ok(k) = signature::RsaKeyPair::from_pkcs8(der) {
            return k.public_key().as_ref() == public;
        }
        if let Ok(k) = signature::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der) {
            return k.public_key().as_ref() == public;
        }
    }
    if matches!(label, "" | "RSA PRIVATE KEY") {
        if let Ok(k) = signature::RsaKeyPair::from_der(der) {
            return k.public_key().as_ref() == public;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(cn: &str) -> (Cert, rcgen::KeyPair) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, cn);
        let cert = params.self_signed(&key).unwrap();
        (Cert::from_der(cert.der()).unwrap(), key)
    }

    /// SEC1 `EC PRIVATE KEY` (as Go writes K3s's keys) is the OCTET STRING inside PKCS#8.
    fn sec1(pkcs8: &[u8]) -> Vec<u8> {
        let (_, body, _) = der_tlv(pkcs8).unwrap();
        let (_, _, rest) = der_tlv(body).unwrap();
        let (_, _, rest) = der_tlv(rest).unwrap();
        der_tlv(rest).unwrap().1.to_vec()
    }

    #[test]
    fn a_key_matches_only_its_own_certificate() {
        let (cert, key) = self_signed("system:admin");
        let (_, other) = self_signed("system:admin");
        assert!(cert.key_matches(key.serialize_pem().as_bytes()));
        assert!(cert.key_matches(&key.serialize_der()));
        let sec1_pem = x509_parser::pem::Pem {
            label: "EC PRIVATE KEY".into(),
            contents: sec1(&key.serialize_der()),
        };
        let pem = format!(
            "-----BEGIN EC PRIVATE KEY-----\n{}\n-----END EC PRIVATE KEY-----\n",
            base64::Engine::encode(
                &base64::engine::general_purpose::STANDARD,
                &sec1_pem.contents
            )
        );
        assert!(cert.key_matches(pem.as_bytes()));
        // Another key, the certificate itself, or garbage: no.
        assert!(!cert.key_matches(other.serialize_pem().as_bytes()));
        assert!(!cert.key_matches(&sec1(&other.serialize_der())));
        assert!(!cert.key_matches(&cert.der));
        assert!(
            !cert.key_matches(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        );
        assert!(!cert.key_matches(b""));
    }

    #[test]
    fn a_self_signed_certificate_is_signed_by_no_one_else() {
        let (cert, _) = self_signed("system:admin");
        assert!(!cert.signed_by(&cert));
        let (other, _) = self_signed("system:admin");
        assert!(!cert.signed_by(&other));
        assert!(!cert.signed_by_any(&[cert.clone(), other]));
    }
}
