//! Bearer tokens (JWT): verifying the ones clients send, issuing ones for small deployments.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::{Context as _, bail};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::access::{Principal, Role};

/// Where verification keys come from, and which claims to insist on.
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    /// HS256 shared secret.
    pub secret: Option<String>,
    /// A PEM public key (RSA for RS256, EC P-256 for ES256).
    pub public_key_pem: Option<String>,
    /// A JWKS document (RSA and EC keys), keys picked by `kid`.
    pub jwks_json: Option<String>,
    /// Required `iss`, if set.
    pub issuer: Option<String>,
    /// Required `aud`, if set.
    pub audience: Option<String>,
}

/// The claims fulian-graph reads and writes.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// Subject.
    pub sub: String,
    /// `VIEWER`, `EDITOR` or `ADMIN`.
    pub role: String,
    /// Region code the principal acts for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Not before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    /// Audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
}

struct Key {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Checks tokens against the configured keys and claims.
pub struct TokenVerifier {
    keys: Vec<Key>,
    issuer: Option<String>,
    audience: Option<String>,
}

impl std::fmt::Debug for TokenVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenVerifier").field("keys", &self.keys.len()).finish()
    }
}

impl TokenVerifier {
    /// A verifier for the configured keys; `None` when no key is configured (then every
    /// presented token is refused).
    pub fn new(settings: &AuthSettings) -> anyhow::Result<Option<Self>> {
        let mut keys = Vec::new();
        if let Some(secret) = &settings.secret {
            if secret.len() < 32 {
                bail!("the JWT secret must be at least 32 bytes long");
            }
            keys.push(Key { kid: None, algorithm: Algorithm::HS256, key: DecodingKey::from_secret(secret.as_bytes()) });
        }
        if let Some(pem) = &settings.public_key_pem {
            let (algorithm, key) = if pem.contains("BEGIN EC PUBLIC KEY") || ec_pem(pem) {
                (Algorithm::ES256, DecodingKey::from_ec_pem(pem.as_bytes()).context("invalid EC public key PEM")?)
            } else {
                (Algorithm::RS256, DecodingKey::from_rsa_pem(pem.as_bytes()).context("invalid RSA public key PEM")?)
            };
            keys.push(Key { kid: None, algorithm, key });
        }
        if let Some(jwks) = &settings.jwks_json {
            let set: JwkSet = serde_json::from_str(jwks).context("invalid JWKS document")?;
            for jwk in &set.keys {
                let algorithm = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => continue,
                };
                let key = DecodingKey::from_jwk(jwk).context("unusable key in the JWKS document")?;
                keys.push(Key { kid: jwk.common.key_id.clone(), algorithm, key });
            }
        }
        if keys.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self { keys, issuer: settings.issuer.clone(), audience: settings.audience.clone() }))
    }

    /// Verifies signature, `exp`, `nbf`, and `iss`/`aud` when configured; returns the principal.
    /// The error text says what is wrong, for the client.
    pub fn verify(&self, token: &str) -> Result<Principal, String> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| "the bearer token is not a JWT".to_owned())?;
        let candidates = self
            .keys
            .iter()
            .filter(|k| k.algorithm == header.alg && (header.kid.is_none() || k.kid.is_none() || k.kid == header.kid));
        let mut last = format!("tokens signed with {:?} are not accepted", header.alg);
        for key in candidates {
            let mut validation = Validation::new(key.algorithm);
            validation.leeway = 30;
            validation.validate_nbf = true;
            validation.required_spec_claims = HashSet::from(["exp".to_owned(), "sub".to_owned()]);
            match &self.issuer {
                Some(issuer) => validation.set_issuer(&[issuer]),
                None => validation.iss = None,
            }
            match &self.audience {
                Some(audience) => validation.set_audience(&[audience]),
                None => validation.validate_aud = false,
            }
            match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return principal(data.claims),
                Err(error) => last = describe(&error),
            }
        }
        Err(last)
    }
}

fn ec_pem(pem: &str) -> bool {
    // SPKI PEMs ("BEGIN PUBLIC KEY") do not name the key type; EC P-256 keys are far shorter.
    pem.contains("BEGIN PUBLIC KEY") && pem.len() < 300
}

fn describe(error: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".to_owned(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        ErrorKind::InvalidSignature => "the token's signature is invalid".to_owned(),
        ErrorKind::InvalidIssuer => "the token's issuer is not accepted".to_owned(),
        ErrorKind::InvalidAudience => "the token's audience is not accepted".to_owned(),
        ErrorKind::MissingRequiredClaim(claim) => format!("the token lacks the {claim} claim"),
        ErrorKind::Json(_) => "the token's claims are malformed (sub, role and exp are required)".to_owned(),
        _ => "the bearer token is invalid".to_owned(),
    }
}

fn principal(claims: Claims) -> Result<Principal, String> {
    let role: Role = claims.role.parse()?;
    if let Some(region) = &claims.region
        && !crate::domain::is_region_code(region)
    {
        return Err(format!("the token's region {region:?} is not a region code"));
    }
    if claims.sub.trim().is_empty() {
        return Err("the token's subject is empty".to_owned());
    }
    Ok(Principal { sub: claims.sub, role, region: claims.region })
}

/// Signs an HS256 token, for `fulian-graph token issue`.
pub fn issue(
    secret: &str,
    principal: &Principal,
    ttl: Duration,
    issuer: Option<&str>,
    audience: Option<&str>,
) -> anyhow::Result<String> {
    if secret.len() < 32 {
        bail!("the JWT secret must be at least 32 bytes long");
    }
    if let Some(region) = &principal.region
        && !crate::domain::is_region_code(region)
    {
        bail!("{region:?} is not a region code");
    }
    let now = jsonwebtoken::get_current_timestamp();
    let claims = Claims {
        sub: principal.sub.clone(),
        role: principal.role.as_str().to_owned(),
        region: principal.region.clone(),
        exp: now + ttl.as_secs(),
        iat: Some(now),
        nbf: Some(now),
        iss: issuer.map(str::to_owned),
        aud: audience.map(str::to_owned),
    };
    Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret.as_bytes()))?)
}

/// Parses a duration like `90`, `90s`, `30m`, `12h` or `7d`.
pub fn parse_ttl(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text.split_at(text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len()));
    let n: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 3600, 30m, 12h or 7d"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{text:?}: unknown unit {unit:?} (s, m, h or d)")),
    };
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn settings() -> AuthSettings {
        AuthSettings { secret: Some(SECRET.into()), ..AuthSettings::default() }
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_principal() {
        let who = Principal { sub: "li".into(), role: Role::Editor, region: Some("110112".into()) };
        let token = issue(SECRET, &who, Duration::from_secs(60), None, None).unwrap();
        assert_eq!(TokenVerifier::new(&settings()).unwrap().unwrap().verify(&token), Ok(who));
    }

    #[test]
    fn wrong_secret_issuer_and_garbage_are_refused() {
        let who = Principal { sub: "li".into(), role: Role::Viewer, region: None };
        let token = issue("another-secret-another-secret-xx", &who, Duration::from_secs(60), None, None).unwrap();
        let verifier = TokenVerifier::new(&settings()).unwrap().unwrap();
        assert_eq!(verifier.verify(&token).unwrap_err(), "the token's signature is invalid");
        assert!(verifier.verify("not.a.token").is_err());
        let strict =
            TokenVerifier::new(&AuthSettings { issuer: Some("fulian".into()), ..settings() }).unwrap().unwrap();
        let token = issue(SECRET, &who, Duration::from_secs(60), Some("elsewhere"), None).unwrap();
        assert_eq!(strict.verify(&token).unwrap_err(), "the token's issuer is not accepted");
    }

    fn fixture(name: &str) -> String {
        std::fs::read_to_string(format!("{}/tests/fixtures/keys/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    fn claims() -> Claims {
        let now = jsonwebtoken::get_current_timestamp();
        Claims {
            sub: "li".into(),
            role: "EDITOR".into(),
            region: Some("110112".into()),
            exp: now + 60,
            iat: Some(now),
            nbf: None,
            iss: None,
            aud: None,
        }
    }

    #[test]
    fn rs256_and_es256_tokens_verify_with_pem_keys_and_jwks() {
        let rsa = EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap();
        let ec = EncodingKey::from_ec_pem(fixture("ec-private.pem").as_bytes()).unwrap();
        let with_pem = |pem: &str| {
            TokenVerifier::new(&AuthSettings { public_key_pem: Some(fixture(pem)), ..AuthSettings::default() })
                .unwrap()
                .unwrap()
        };
        let rs256 = jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims(), &rsa).unwrap();
        assert_eq!(with_pem("rsa-public.pem").verify(&rs256).unwrap().role, Role::Editor);
        let es256 = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims(), &ec).unwrap();
        assert_eq!(with_pem("ec-public.pem").verify(&es256).unwrap().region.as_deref(), Some("110112"));
        // The wrong key type, or an HS256 token against public keys: refused.
        assert!(with_pem("ec-public.pem").verify(&rs256).is_err());
        let hs = issue(
            SECRET,
            &Principal { sub: "x".into(), role: Role::Admin, region: None },
            Duration::from_secs(60),
            None,
            None,
        )
        .unwrap();
        assert!(with_pem("rsa-public.pem").verify(&hs).is_err());
        // JWKS: the key is picked by `kid`.
        let jwks =
            TokenVerifier::new(&AuthSettings { jwks_json: Some(fixture("jwks.json")), ..AuthSettings::default() })
                .unwrap()
                .unwrap();
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("test-rsa".into());
        let token = jsonwebtoken::encode(&header, &claims(), &rsa).unwrap();
        assert_eq!(jwks.verify(&token).unwrap().sub, "li");
        header.kid = Some("another-key".into());
        let token = jsonwebtoken::encode(&header, &claims(), &rsa).unwrap();
        assert!(jwks.verify(&token).is_err(), "an unknown kid is refused");
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_ttl("soon").is_err());
    }
}
