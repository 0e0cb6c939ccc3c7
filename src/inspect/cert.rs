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

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CN={}", self.common_name.as_deref().unwrap_or(""))?;
        for o in &self.organizations {
            write!(f, ", O={o}")?;
        }
        Ok(())
    }
}

fn parsed(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    let (rest, cert) =
        parse_x509_certificate(der).map_err(|e| format!("not an X.509 certificate ({e})"))?;
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

    /// Is this certificate's signature made by `issuer`'s key?
    pub fn signed_by(&self, issuer: &Cert) -> bool {
        let (Ok(me), Ok(them)) = (parsed(&self.der), parsed(&issuer.der)) else {
            return false;
        };
        me.issuer() == them.subject() && me.verify_signature(Some(them.public_key())).is_ok()
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
            let pem = pem.map_err(|e| format!("invalid PEM ({e})"))?;
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
