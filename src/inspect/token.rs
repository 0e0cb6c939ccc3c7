//! Bearer tokens: a static `token:` that is a JWT (Kubernetes service-account tokens, OIDC ID
//! tokens) carries its expiry in the `exp` claim. Only the payload is decoded; the signature
//! is not checked (kubefix has no key to check it with, and does not need one to read a date).
//! Opaque tokens yield `None` and are left alone.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;

/// What a JWT's claims say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Jwt {
    pub exp: Option<i64>,
    pub iat: Option<i64>,
    pub issuer: Option<String>,
    pub subject: Option<String>,
    /// `namespace/name` of the service account, from the bound-token claims, the legacy
    /// secret-token claims, or a `system:serviceaccount:NS:NAME` subject.
    pub service_account: Option<String>,
}

const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn json_part(part: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = B64URL.decode(part.as_bytes()).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(m) => Some(m),
        _ => None,
    }
}

/// Decode `token` if it is a JWT (three base64url parts, a JSON header with `alg`, a JSON
/// object payload).
pub fn decode(token: &str) -> Option<Jwt> {
    let token = token.trim();
    let mut parts = token.split('.');
    let (header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    if !json_part(header)?.contains_key("alg") {
        return None;
    }
    let claims = json_part(payload)?;
    let int = |k: &str| {
        claims.get(k).and_then(|v| {
            v.as_i64()
                .or_else(|| v.as_f64().filter(|f| f.is_finite()).map(|f| f as i64))
        })
    };
    let string = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_string);
    let subject = string(claims.get("sub"));
    let bound = claims.get("kubernetes.io").and_then(|k| {
        let ns = k.get("namespace")?.as_str()?;
        let name = k.get("serviceaccount")?.get("name")?.as_str()?;
        Some(format!("{ns}/{name}"))
    });
    let legacy = (|| {
        let ns = claims
            .get("kubernetes.io/serviceaccount/namespace")?
            .as_str()?;
        let name = claims
            .get("kubernetes.io/serviceaccount/service-account.name")?
            .as_str()?;
        Some(format!("{ns}/{name}"))
    })();
    let from_sub = subject.as_deref().and_then(|s| {
        let rest = s.strip_prefix("system:serviceaccount:")?;
        let (ns, name) = rest.split_once(':')?;
        Some(format!("{ns}/{name}"))
    });
    Some(Jwt {
        exp: int("exp"),
        iat: int("iat"),
        issuer: string(claims.get("iss")),
        service_account: bound.or(legacy).or(from_sub),
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            B64URL.encode(br#"{"alg":"RS256","kid":"x"}"#),
            B64URL.encode(payload.as_bytes())
        )
    }

    #[test]
    fn bound_service_account_token() {
        let t = jwt(
            r#"{"aud":["https://kubernetes.default.svc"],"exp":1700000000,"iat":1690000000,"iss":"https://oidc.eks.us-east-1.amazonaws.com/id/X","kubernetes.io":{"namespace":"ci","serviceaccount":{"name":"deployer","uid":"u"}},"sub":"system:serviceaccount:ci:deployer"}"#,
        );
        let j = decode(&t).unwrap();
        assert_eq!(j.exp, Some(1_700_000_000));
        assert_eq!(j.service_account.as_deref(), Some("ci/deployer"));
    }

    #[test]
    fn legacy_token_without_exp() {
        let t = jwt(
            r#"{"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"kube-system","kubernetes.io/serviceaccount/service-account.name":"admin"}"#,
        );
        let j = decode(&t).unwrap();
        assert_eq!(j.exp, None);
        assert_eq!(j.service_account.as_deref(), Some("kube-system/admin"));
    }

    #[test]
    fn opaque_tokens_are_not_jwts() {
        assert_eq!(decode("kubefix-e2e-token-0123456789"), None);
        assert_eq!(decode("a.b.c"), None);
        assert_eq!(decode("k8s-aws-v1.aHR0cHM6Ly9zdHM"), None);
        assert_eq!(decode(&format!("{}.e30", B64URL.encode(b"{}"))), None);
    }
}
