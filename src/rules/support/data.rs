//! Go's decoders, as far as the new parity rules need them, so kubefix fails exactly where
//! client-go fails and with the same numbers in the message:
//!
//! - [`go_base64`]: `encoding/base64.StdEncoding.Decode` (how `encoding/json` reads the
//!   `[]byte` fields `certificate-authority-data`, `client-certificate-data`,
//!   `client-key-data`): `\r` and `\n` are skipped, anything else outside the alphabet is
//!   `illegal base64 data at input byte N`, N counted in the original text.
//! - [`pem_decode`]: `encoding/pem.Decode`, byte for byte in what it accepts and skips.
//! - [`ca_pool_error`]: `x509.CertPool.AppendCertsFromPEM` plus client-go's
//!   `createErrorParsingCAData` (the message kubectl prints when it is refused).
//! - [`key_pair_error`]: `crypto/tls.X509KeyPair`, including the check that the private key
//!   belongs to the certificate (RSA modulus, EC point, Ed25519 key; where the key file does
//!   not carry its public half — an EC key without the optional `publicKey`, a PKCS#8 v1
//!   Ed25519 seed — the match is not checked).
//! - [`go_url_parse`]: `net/url.Parse`, only the parts that decide success, scheme, host and
//!   path (the server and `proxy-url` checks).
//!
//! Nothing here ever puts decoded bytes into a message: offsets, lengths and PEM block types
//! only.

use x509_parser::prelude::FromDer;

/// `encoding/base64.StdEncoding.Decode`: the bytes, or the offset Go reports.
///
/// Fast path: every input the base64 crate's standard engine accepts (padded, canonical
/// trailing bits) Go decodes to the same bytes, once the line breaks Go skips are removed.
/// Anything else takes the exact walk of Go's decoder, for its leniency (non-zero trailing
/// bits) and its error offset. (The walk alone made this 27% of a 15 MB dry run.)
pub fn go_base64(src: &[u8]) -> Result<Vec<u8>, usize> {
    use base64::Engine as _;
    let engine = &base64::engine::general_purpose::STANDARD;
    let fast = if memchr::memchr2(b'\n', b'\r', src).is_some() {
        let joined: Vec<u8> = src
            .iter()
            .copied()
            .filter(|b| *b != b'\n' && *b != b'\r')
            .collect();
        engine.decode(joined)
    } else {
        engine.decode(src)
    };
    match fast {
        Ok(bytes) => Ok(bytes),
        Err(_) => go_base64_walk(src),
    }
}

/// Go's decoder, quantum by quantum.
fn go_base64_walk(src: &[u8]) -> Result<Vec<u8>, usize> {
    let mut out = Vec::with_capacity(src.len() / 4 * 3);
    let mut si = 0;
    while si < src.len() {
        let (nsi, bytes, err) = decode_quantum(src, si);
        out.extend_from_slice(&bytes);
        if let Some(at) = err {
            return Err(at);
        }
        si = nsi;
    }
    Ok(out)
}

fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

/// One quantum of Go's `decodeQuantum` (non-strict, padded): next index, bytes, error offset.
fn decode_quantum(src: &[u8], mut si: usize) -> (usize, Vec<u8>, Option<usize>) {
    let mut dbuf = [0u8; 4];
    let mut dlen = 4;
    let mut err = None;
    let mut j: isize = 0;
    while j < 4 {
        if si == src.len() {
            if j == 0 {
                return (si, Vec::new(), None);
            }
            // Padded encoding: a partial quantum at the end is an error.
            return (si, Vec::new(), Some(si - j as usize));
        }
        let c = src[si];
        si += 1;
        if let Some(v) = sextet(c) {
            dbuf[j as usize] = v;
            j += 1;
            continue;
        }
        if c == b'\n' || c == b'\r' {
            continue;
        }
        if c != b'=' {
            return (si, Vec::new(), Some(si - 1));
        }
        match j {
            0 | 1 => return (si, Vec::new(), Some(si - 1)),
            2 => {
                while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
                    si += 1;
                }
                if si == src.len() {
                    return (si, Vec::new(), Some(src.len()));
                }
                if src[si] != b'=' {
                    return (si, Vec::new(), Some(si - 1));
                }
                si += 1;
            }
            _ => {}
        }
        while si < src.len() && (src[si] == b'\n' || src[si] == b'\r') {
            si += 1;
        }
        if si < src.len() {
            err = Some(si);
        }
        dlen = j as usize;
        break;
    }
    let val =
        (dbuf[0] as u32) << 18 | (dbuf[1] as u32) << 12 | (dbuf[2] as u32) << 6 | dbuf[3] as u32;
    let b = [(val >> 16) as u8, (val >> 8) as u8, val as u8];
    (si, b[..dlen - 1].to_vec(), err)
}

/// One PEM block as Go's `pem.Decode` returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub kind: String,
    pub has_headers: bool,
    pub bytes: Vec<u8>,
}

/// Go's `getLine`: the line without its end (trailing spaces, tabs and `\r` trimmed), and
/// the rest after the `\n`.
fn get_line(data: &[u8]) -> (&[u8], &[u8]) {
    let (line, rest) = match memchr::memchr(b'\n', data) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &data[data.len()..]),
    };
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b' ' | b'\t' | b'\r') {
        end -= 1;
    }
    (&line[..end], rest)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(hay, needle)
}

/// Go's `pem.Decode`: the next block and the rest, or `None` when no block is left.
pub fn pem_decode(data: &[u8]) -> Option<(PemBlock, &[u8])> {
    const START: &[u8] = b"\n-----BEGIN ";
    const END: &[u8] = b"\n-----END ";
    const EOL: &[u8] = b"-----";
    let mut rest = data;
    loop {
        if rest.starts_with(&START[1..]) {
            rest = &rest[START.len() - 1..];
        } else if let Some(i) = find(rest, START) {
            rest = &rest[i + START.len()..];
        } else {
            return None;
        }
        let (type_line, r) = get_line(rest);
        rest = r;
        let Some(kind) = type_line.strip_suffix(EOL) else {
            continue;
        };
        let mut has_headers = false;
        loop {
            if rest.is_empty() {
                return None;
            }
            let (line, next) = get_line(rest);
            if !line.contains(&b':') {
                break;
            }
            has_headers = true;
            rest = next;
        }
        let (end_index, trailer_index) = if !has_headers && rest.starts_with(&END[1..]) {
            (0, END.len() - 1)
        } else {
            match find(rest, END) {
                Some(i) => (i, i + END.len()),
                None => continue,
            }
        };
        let trailer = &rest[trailer_index..];
        let want = kind.len() + EOL.len();
        if trailer.len() < want {
            continue;
        }
        let (end_line, rest_of_end) = trailer.split_at(want);
        if !end_line.starts_with(kind) || !end_line.ends_with(EOL) {
            continue;
        }
        if !get_line(rest_of_end).0.is_empty() {
            continue;
        }
        let body: Vec<u8> = rest[..end_index]
            .iter()
            .copied()
            .filter(|&c| c != b' ' && c != b'\t')
            .collect();
        let Ok(bytes) = go_base64(&body) else {
            continue;
        };
        let after = get_line(&rest[end_index + END.len() - 1..]).1;
        return Some((
            PemBlock {
                kind: String::from_utf8_lossy(kind).into_owned(),
                has_headers,
                bytes,
            },
            after,
        ));
    }
}

/// Every block `pem.Decode` finds, in order.
pub fn pem_blocks(mut data: &[u8]) -> Vec<PemBlock> {
    let mut out = Vec::new();
    while let Some((b, rest)) = pem_decode(data) {
        out.push(b);
        data = rest;
    }
    out
}

fn parses_as_certificate(der: &[u8]) -> bool {
    x509_parser::certificate::X509Certificate::from_der(der).is_ok()
}

/// Why client-go refuses `data` as a CA bundle (`unable to load root certificates: …`
/// follows in kubectl's output), or `None` when at least one certificate loads.
pub fn ca_pool_error(data: &[u8]) -> Option<String> {
    if data.is_empty() {
        return None;
    }
    let blocks = pem_blocks(data);
    if blocks
        .iter()
        .any(|b| b.kind == "CERTIFICATE" && !b.has_headers && parses_as_certificate(&b.bytes))
    {
        return None;
    }
    // createErrorParsingCAData walks the blocks again and names the first problem.
    let mut rest = data;
    while !rest.is_empty() {
        let Some((b, r)) = pem_decode(rest) else {
            return Some("unable to parse bytes as PEM block".into());
        };
        rest = r;
        if b.kind != "CERTIFICATE" || b.has_headers {
            continue;
        }
        if !parses_as_certificate(&b.bytes) {
            return Some("failed to parse certificate: x509: malformed certificate".into());
        }
    }
    Some("no valid certificate authority data seen".into())
}

/// Go's `%v` of a `[]string`.
fn go_list(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

/// What `tls.X509KeyPair(cert, key)` says about the pair, or `None` when it loads (or when
/// kubefix cannot tell: a key without its public half).
pub fn key_pair_error(cert_pem: &[u8], key_pem: &[u8]) -> Option<String> {
    let mut certs = Vec::new();
    let mut skipped = Vec::new();
    for b in pem_blocks(cert_pem) {
        if b.kind == "CERTIFICATE" {
            certs.push(b.bytes);
        } else {
            skipped.push(b.kind);
        }
    }
    if certs.is_empty() {
        return Some(if skipped.is_empty() {
            "tls: failed to find any PEM data in certificate input".into()
        } else if skipped.len() == 1 && skipped[0].ends_with("PRIVATE KEY") {
            "tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched".into()
        } else {
            format!("tls: failed to find \"CERTIFICATE\" PEM block in certificate input after skipping PEM blocks of the following types: {}", go_list(&skipped))
        });
    }
    skipped.clear();
    let mut rest = key_pem;
    let key = loop {
        let Some((b, r)) = pem_decode(rest) else {
            return Some(if skipped.is_empty() {
                "tls: failed to find any PEM data in key input".into()
            } else if skipped.len() == 1 && skipped[0] == "CERTIFICATE" {
                "tls: found a certificate rather than a key in the PEM for the private key".into()
            } else {
                format!("tls: failed to find PEM block with type ending in \"PRIVATE KEY\" in key input after skipping PEM blocks of the following types: {}", go_list(&skipped))
            });
        };
        rest = r;
        if b.kind == "PRIVATE KEY" || b.kind.ends_with(" PRIVATE KEY") {
            break b.bytes;
        }
        skipped.push(b.kind);
    };
    // Go parses the leaf before the key: a damaged one fails the pair. Which of
    // `x509: malformed …` Go names depends on where the DER breaks; kubefix names the
    // outermost (`x509: malformed certificate`, what garbage and truncated data give).
    let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(&certs[0]) else {
        return Some("x509: malformed certificate".into());
    };
    let Some(private) = private_key(&key) else {
        return Some("tls: failed to parse private key".into());
    };
    let spki = cert.public_key();
    let alg = spki.algorithm.algorithm.as_bytes();
    let pubkey = spki.subject_public_key.data.as_ref();
    let matches = match (alg, &private) {
        (OID_RSA, PrivateKey::Rsa { modulus }) => {
            let (_, seq, _) = der(pubkey)?;
            let (_, n, _) = der(seq)?;
            Some(strip_zeros(n) == strip_zeros(modulus))
        }
        (OID_EC, PrivateKey::Ec { public }) => public.as_ref().map(|p| p.as_slice() == pubkey),
        (OID_ED25519, PrivateKey::Ed25519 { public }) => {
            public.as_ref().map(|p| p.as_slice() == pubkey)
        }
        (OID_RSA | OID_EC | OID_ED25519, _) => {
            return Some("tls: private key type does not match public key type".into())
        }
        _ => None,
    };
    (matches == Some(false)).then(|| "tls: private key does not match public key".into())
}

/// Whether `pem` holds a client certificate `tls.X509KeyPair` takes: its first
/// `CERTIFICATE` block parses as X.509.
pub fn cert_loads(pem: &[u8]) -> bool {
    pem_blocks(pem)
        .into_iter()
        .find(|b| b.kind == "CERTIFICATE")
        .is_some_and(|b| parses_as_certificate(&b.bytes))
}

/// Whether `pem` holds a private key `tls.X509KeyPair` takes: its first `… PRIVATE KEY`
/// block parses (PKCS#1, PKCS#8 or SEC 1) and carries no headers (an encrypted key).
pub fn key_loads(pem: &[u8]) -> bool {
    pem_blocks(pem)
        .into_iter()
        .find(|b| b.kind == "PRIVATE KEY" || b.kind.ends_with(" PRIVATE KEY"))
        .is_some_and(|b| !b.has_headers && private_key(&b.bytes).is_some())
}

/// DER contents of the algorithm OIDs: rsaEncryption, id-ecPublicKey, id-Ed25519.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// A private key, with what is needed to compare it with a certificate's public key.
#[derive(Debug)]
enum PrivateKey {
    Rsa {
        modulus: Vec<u8>,
    },
    /// The uncompressed point, when the key carries it.
    Ec {
        public: Option<Vec<u8>>,
    },
    Ed25519 {
        public: Option<Vec<u8>>,
    },
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let i = b.iter().take_while(|&&x| x == 0).count();
    &b[i..]
}

/// One DER TLV: `(tag, content, rest)` (the same reader the certificate module uses).
use crate::inspect::cert::der_tlv as der;

/// Go's `parsePrivateKey` order: PKCS#1, PKCS#8, SEC 1.
fn private_key(der_bytes: &[u8]) -> Option<PrivateKey> {
    pkcs1(der_bytes)
        .or_else(|| pkcs8(der_bytes))
        .or_else(|| sec1(der_bytes))
}

/// `RSAPrivateKey ::= SEQUENCE { version 0, n, e, d, p, q, … }`.
fn pkcs1(b: &[u8]) -> Option<PrivateKey> {
    let (0x30, seq, _) = der(b)? else { return None };
    let (0x02, version, rest) = der(seq)? else {
        return None;
    };
    if version != [0] {
        return None;
    }
    let (0x02, n, rest) = der(rest)? else {
        return None;
    };
    let (0x02, _e, rest) = der(rest)? else {
        return None;
    };
    let (0x02, _d, _) = der(rest)? else {
        return None;
    };
    Some(PrivateKey::Rsa {
        modulus: n.to_vec(),
    })
}

/// `ECPrivateKey ::= SEQUENCE { version 1, privateKey OCTET STRING, [0] params, [1] publicKey }`.
fn sec1(b: &[u8]) -> Option<PrivateKey> {
    let (0x30, seq, _) = der(b)? else { return None };
    let (0x02, version, mut rest) = der(seq)? else {
        return None;
    };
    if version != [1] {
        return None;
    }
    let (0x04, _, r) = der(rest)? else {
        return None;
    };
    rest = r;
    let mut public = None;
    while let Some((tag, content, r)) = der(rest) {
        if tag == 0xa1 {
            if let Some((0x03, bits, _)) = der(content) {
                public = bits.get(1..).map(<[u8]>::to_vec);
            }
        }
        rest = r;
    }
    Some(PrivateKey::Ec { public })
}

/// `PrivateKeyInfo ::= SEQUENCE { version, AlgorithmIdentifier, OCTET STRING, [0] attrs, [1] publicKey }`.
fn pkcs8(b: &[u8]) -> Option<PrivateKey> {
    let (0x30, seq, _) = der(b)? else { return None };
    let (0x02, _version, rest) = der(seq)? else {
        return None;
    };
    let (0x30, alg, rest) = der(rest)? else {
        return None;
    };
    let (0x06, oid, _) = der(alg)? else {
        return None;
    };
    let (0x04, inner, mut rest) = der(rest)? else {
        return None;
    };
    match oid {
        OID_RSA => pkcs1(inner),
        OID_EC => sec1(inner),
        OID_ED25519 => {
            let (0x04, seed, _) = der(inner)? else {
                return None;
            };
            if seed.len() != 32 {
                return None;
            }
            let mut public = None;
            while let Some((tag, content, r)) = der(rest) {
                if tag == 0x81 {
                    public = content.get(1..).map(<[u8]>::to_vec);
                } else if tag == 0xa1 {
                    if let Some((0x03, bits, _)) = der(content) {
                        public = bits.get(1..).map(<[u8]>::to_vec);
                    }
                }
                rest = r;
            }
            Some(PrivateKey::Ed25519 { public })
        }
        _ => None,
    }
}

/// What `net/url.Parse` gives, for the parts kubefix looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoUrl {
    pub scheme: String,
    pub host: String,
    pub path: String,
}

/// `net/url.Parse(raw)`: the URL, or Go's error text without the `parse "RAW": ` prefix.
pub fn go_url_parse(raw: &str) -> Result<GoUrl, String> {
    if raw.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Err("net/url: invalid control character in URL".into());
    }
    let raw = raw.split_once('#').map_or(raw, |(u, _)| u);
    if raw == "*" {
        return Ok(GoUrl {
            scheme: String::new(),
            host: String::new(),
            path: "*".into(),
        });
    }
    let (scheme, rest) = scheme_of(raw)?;
    let scheme = scheme.to_ascii_lowercase();
    let rest = rest.split_once('?').map_or(rest, |(r, _)| r);
    if !rest.starts_with('/') {
        if !scheme.is_empty() {
            // Opaque: `mailto:x`, `localhost:6443`.
            return Ok(GoUrl {
                scheme,
                host: String::new(),
                path: String::new(),
            });
        }
        let segment = rest.split('/').next().unwrap_or("");
        if segment.contains(':') {
            return Err("first path segment in URL cannot contain colon".into());
        }
    }
    let mut host = String::new();
    let mut path = rest;
    if rest.starts_with("//") && (!scheme.is_empty() || !rest.starts_with("///")) {
        let after = &rest[2..];
        let i = after.find('/').unwrap_or(after.len());
        let authority = &after[..i];
        path = &after[i..];
        let hostport = match authority.rfind('@') {
            Some(i) => &authority[i + 1..],
            None => authority,
        };
        host = parse_host(hostport)?;
    }
    check_escapes(path)?;
    Ok(GoUrl {
        scheme,
        host,
        path: path.to_string(),
    })
}

fn scheme_of(raw: &str) -> Result<(&str, &str), String> {
    for (i, c) in raw.bytes().enumerate() {
        match c {
            b'a'..=b'z' | b'A'..=b'Z' => {}
            b'0'..=b'9' | b'+' | b'-' | b'.' if i > 0 => {}
            b':' if i == 0 => return Err("missing protocol scheme".into()),
            b':' => return Ok((&raw[..i], &raw[i + 1..])),
            _ => return Ok(("", raw)),
        }
    }
    Ok(("", raw))
}

fn valid_optional_port(port: &str) -> bool {
    port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

fn parse_host(host: &str) -> Result<String, String> {
    if host.starts_with('[') {
        let Some(i) = host.rfind(']') else {
            return Err("missing ']' in host".into());
        };
        let port = &host[i + 1..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {port:?} after host"));
        }
    } else if let Some(i) = host.rfind(':') {
        let port = &host[i..];
        if !valid_optional_port(port) {
            return Err(format!("invalid port {port:?} after host"));
        }
    }
    check_escapes(host)?;
    for c in host.chars() {
        let ok =
            c.is_ascii_alphanumeric() || !c.is_ascii() || "!$&'()*+,;=:[]<>\"-_.~%".contains(c);
        if !ok {
            return Err(format!(
                "invalid character {:?} in host name",
                c.to_string()
            ));
        }
    }
    Ok(host.to_string())
}

fn check_escapes(s: &str) -> Result<(), String> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let ok =
                b.len() >= i + 3 && b[i + 1].is_ascii_hexdigit() && b[i + 2].is_ascii_hexdigit();
            if !ok {
                let end = (i + 3).min(b.len());
                return Err(format!(
                    "invalid URL escape {:?}",
                    String::from_utf8_lossy(&b[i..end])
                ));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path never answers differently from Go's walk: 20,000 pseudo-random inputs
    /// over the alphabet, padding, line breaks and a few strangers.
    #[test]
    fn fast_base64_agrees_with_the_go_walk() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=\n\r -_*";
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            let input: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    // Mostly the plain alphabet, sometimes padding, breaks or strangers.
                    if r % 5 == 0 {
                        alphabet[64 + (r as usize / 5) % (alphabet.len() - 64)]
                    } else {
                        alphabet[(r as usize / 5) % 64]
                    }
                })
                .collect();
            assert_eq!(
                go_base64(&input),
                go_base64_walk(&input),
                "{:?}",
                String::from_utf8_lossy(&input)
            );
        }
    }
    use base64::Engine as _;

    fn b64(b: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(b)
    }

    #[test]
    fn base64_offsets_are_gos() {
        assert_eq!(go_base64(b"aGVsbG8="), Ok(b"hello".to_vec()));
        assert_eq!(go_base64(b"aGVs\r\nbG8="), Ok(b"hello".to_vec()));
        assert_eq!(go_base64(b""), Ok(vec![]));
        // A space, a tab, a `*`, URL-safe `-`: the offset of that byte.
        assert_eq!(go_base64(b"aGVs bG8="), Err(4));
        assert_eq!(go_base64(b"aGVsbG8\t"), Err(7));
        assert_eq!(go_base64(b"aG*sbG8="), Err(2));
        assert_eq!(go_base64(b"a-Vs"), Err(1));
        // Missing padding: the start of the partial quantum.
        assert_eq!(go_base64(b"aGVsbG8"), Err(4));
        assert_eq!(go_base64(b"aGVsbA"), Err(4));
        // Trailing garbage after padding, and padding in the wrong place.
        assert_eq!(go_base64(b"aGVsbG8=AAAA"), Err(8));
        assert_eq!(go_base64(b"aGVsbA=x"), Err(6));
        assert_eq!(go_base64(b"a==="), Err(1));
        // Newlines count in the offset but are otherwise skipped.
        assert_eq!(go_base64(b"aG\nVs b"), Err(5));
    }

    #[test]
    fn pem_blocks_as_go_finds_them() {
        let pem = format!(
            "junk\n-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n\nAAAA\n-----END EC PRIVATE KEY-----\n",
            b64(b"0123456789")
        );
        let blocks = pem_blocks(pem.as_bytes());
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].kind, "CERTIFICATE");
        assert_eq!(blocks[0].bytes, b"0123456789");
        assert!(!blocks[0].has_headers);
        assert_eq!(blocks[1].kind, "EC PRIVATE KEY");
        assert!(blocks[1].has_headers);
        // A mismatched END type or bad base64 inside: no block.
        assert!(pem_blocks(b"-----BEGIN A-----\nAAAA\n-----END B-----\n").is_empty());
        assert!(pem_blocks(b"-----BEGIN A-----\nA*AA\n-----END A-----\n").is_empty());
        assert!(pem_blocks(b"hello world").is_empty());
    }

    #[test]
    fn ca_pool_errors_are_client_gos() {
        assert_eq!(
            ca_pool_error(b"hello world").as_deref(),
            Some("unable to parse bytes as PEM block")
        );
        assert_eq!(
            ca_pool_error(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
                .as_deref(),
            Some("no valid certificate authority data seen")
        );
        assert_eq!(
            ca_pool_error(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
                .as_deref(),
            Some("failed to parse certificate: x509: malformed certificate")
        );
        assert_eq!(ca_pool_error(b""), None);
    }

    #[test]
    fn key_pair_input_errors() {
        let key = b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let cert = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert_eq!(
            key_pair_error(b"hello", key).as_deref(),
            Some("tls: failed to find any PEM data in certificate input")
        );
        assert_eq!(
            key_pair_error(key, key).as_deref(),
            Some("tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched")
        );
        assert_eq!(
            key_pair_error(cert, b"hello").as_deref(),
            Some("tls: failed to find any PEM data in key input")
        );
        assert_eq!(
            key_pair_error(cert, cert).as_deref(),
            Some("tls: found a certificate rather than a key in the PEM for the private key")
        );
        // An unparsable certificate fails the pair before the key is looked at, as in Go.
        assert_eq!(
            key_pair_error(cert, key).as_deref(),
            Some("x509: malformed certificate")
        );
    }

    #[test]
    fn url_parse_as_go() {
        let u = go_url_parse("https://127.0.0.1:6443/k8s/clusters/c-1").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str()),
            ("https", "127.0.0.1:6443")
        );
        assert_eq!(u.path, "/k8s/clusters/c-1");
        assert_eq!(
            go_url_parse("https://[::1").unwrap_err(),
            "missing ']' in host"
        );
        assert_eq!(
            go_url_parse("https://127.0.0.1 :1").unwrap_err(),
            "invalid character \" \" in host name"
        );
        assert_eq!(
            go_url_parse("127.0.0.1:1").unwrap_err(),
            "first path segment in URL cannot contain colon"
        );
        assert_eq!(
            go_url_parse("https://a:b").unwrap_err(),
            "invalid port \":b\" after host"
        );
        assert_eq!(go_url_parse("localhost:6443").unwrap().host, "");
        assert_eq!(go_url_parse("socks5h://p:1").unwrap().scheme, "socks5h");
        assert_eq!(go_url_parse("://x").unwrap_err(), "missing protocol scheme");
    }
}
