//! Bearer tokens (JWT): verifying the ones clients send, issuing ones for small deployments.

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
    /// Audience: one, or several (RFC 7519 allows both forms).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aud: Option<Audience>,
}

/// The `aud` claim: a single string or an array of them (RFC 7519, section 4.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "fulian"`.
    One(String),
    /// `"aud": ["fulian", "another"]`.
    Many(Vec<String>),
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
            match jsonwebtoken::decode::<Claims>(token, &key.key, &self.validation(key.algorithm)) {
                Ok(data) => return principal(data.claims),
                Err(error) => last = describe(&error),
            }
        }
        Err(last)
    }

    /// What a token signed with `algorithm` must satisfy. A configured issuer or audience is
    /// also a required claim: jsonwebtoken checks `iss` and `aud` only when present, so a token
    /// without them would otherwise pass where one with the wrong value fails.
    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = 30;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        let mut required = vec!["exp", "sub"];
        match &self.issuer {
            Some(issuer) => {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            None => validation.iss = None,
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        validation
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
        aud: audience.map(|a| Audience::One(a.to_owned())),
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

    /// A verifier insisting on issuer `fulian` and audience `dashboards`, with `keys` configured.
    fn strict(keys: AuthSettings) -> TokenVerifier {
        let settings = AuthSettings { issuer: Some("fulian".into()), audience: Some("dashboards".into()), ..keys };
        TokenVerifier::new(&settings).unwrap().unwrap()
    }

    /// Claims of a valid EDITOR token for issuer `fulian` and audience `dashboards`, with
    /// `changes` applied.
    fn claims_with(changes: serde_json::Value) -> serde_json::Value {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = serde_json::json!({
            "sub": "li", "role": "EDITOR", "region": "110112", "exp": now + 60, "iat": now,
            "iss": "fulian", "aud": "dashboards",
        });
        edit(claims, changes)
    }

    /// `claims` with each claim of `changes` set (`null`: removed).
    fn edit(mut claims: serde_json::Value, changes: serde_json::Value) -> serde_json::Value {
        for (name, value) in changes.as_object().unwrap() {
            if value.is_null() {
                claims.as_object_mut().unwrap().remove(name);
            } else {
                claims[name] = value.clone();
            }
        }
        claims
    }

    fn hs256(claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &EncodingKey::from_secret(SECRET.as_bytes()))
            .unwrap()
    }

    fn rs256(claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some("test-rsa".into());
        let key = EncodingKey::from_rsa_pem(fixture("rsa-private.pem").as_bytes()).unwrap();
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    #[test]
    fn a_required_issuer_or_audience_must_be_present_and_match() {
        let jwks = AuthSettings { jwks_json: Some(fixture("jwks.json")), ..AuthSettings::default() };
        type Signer = fn(&serde_json::Value) -> String;
        let cases: [(&str, Signer, AuthSettings); 2] = [("HS256", hs256, settings()), ("RS256 via JWKS", rs256, jwks)];
        for (name, sign, keys) in cases {
            let verifier = strict(keys);
            let verify = |changes| verifier.verify(&sign(&claims_with(changes)));
            assert_eq!(verify(serde_json::json!({})).map(|p| p.sub), Ok("li".to_owned()), "{name}");
            // Absent is refused like wrong.
            assert_eq!(verify(serde_json::json!({ "iss": null })).unwrap_err(), "the token lacks the iss claim");
            assert_eq!(verify(serde_json::json!({ "aud": null })).unwrap_err(), "the token lacks the aud claim");
            let neither = verify(serde_json::json!({ "iss": null, "aud": null })).unwrap_err();
            assert!(neither.starts_with("the token lacks the "), "{name}: {neither}");
            assert_eq!(
                verify(serde_json::json!({ "iss": "elsewhere" })).unwrap_err(),
                "the token's issuer is not accepted"
            );
            assert_eq!(
                verify(serde_json::json!({ "aud": "others" })).unwrap_err(),
                "the token's audience is not accepted"
            );
            assert_eq!(verify(serde_json::json!({ "aud": "" })).unwrap_err(), "the token's audience is not accepted");
            // RFC 7519: `aud` may be an array; it must contain ours.
            assert_eq!(verify(serde_json::json!({ "aud": ["others", "dashboards"] })).unwrap().sub, "li", "{name}");
            assert_eq!(
                verify(serde_json::json!({ "aud": ["others", "more"] })).unwrap_err(),
                "the token's audience is not accepted"
            );
            assert_eq!(verify(serde_json::json!({ "aud": [] })).unwrap_err(), "the token's audience is not accepted");
        }
    }

    #[test]
    fn expiry_is_required_and_not_before_is_honoured() {
        let now = jsonwebtoken::get_current_timestamp();
        let verifier = TokenVerifier::new(&settings()).unwrap().unwrap();
        let plain = |changes| hs256(&edit(claims_with(serde_json::json!({ "iss": null, "aud": null })), changes));
        assert!(verifier.verify(&plain(serde_json::json!({}))).is_ok());
        assert!(verifier.verify(&plain(serde_json::json!({ "exp": null }))).unwrap_err().contains("exp"));
        assert!(verifier.verify(&plain(serde_json::json!({ "exp": "tomorrow" }))).is_err());
        assert_eq!(
            verifier.verify(&plain(serde_json::json!({ "exp": now - 120 }))).unwrap_err(),
            "the token has expired"
        );
        assert_eq!(
            verifier.verify(&plain(serde_json::json!({ "nbf": now + 120 }))).unwrap_err(),
            "the token is not valid yet (nbf)"
        );
        assert!(verifier.verify(&plain(serde_json::json!({ "nbf": now - 5 }))).is_ok());
        assert!(verifier.verify(&plain(serde_json::json!({ "sub": null }))).is_err());
    }

    #[test]
    fn algorithm_confusion_is_refused() {
        use base64::Engine as _;
        let b64 = |json: serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string());
        let claims = claims_with(serde_json::json!({ "iss": null, "aud": null }));
        let public_pem = fixture("rsa-public.pem");
        let rsa_only = AuthSettings { public_key_pem: Some(public_pem.clone()), ..AuthSettings::default() };
        let jwks = AuthSettings { jwks_json: Some(fixture("jwks.json")), ..AuthSettings::default() };
        let rsa_and_secret = AuthSettings { public_key_pem: Some(public_pem.clone()), ..settings() };
        for keys in [rsa_only, jwks, rsa_and_secret, settings()] {
            let verifier = TokenVerifier::new(&keys).unwrap().unwrap();
            // `alg: none`, unsigned, in any spelling.
            for alg in ["none", "None", "NONE"] {
                let unsigned =
                    format!("{}.{}.", b64(serde_json::json!({ "alg": alg, "typ": "JWT" })), b64(claims.clone()));
                assert!(verifier.verify(&unsigned).is_err(), "alg {alg} accepted with {keys:?}");
            }
            // HS256 keyed with the RSA public key (PEM text or its bytes as a JWKS would give).
            let confused = jsonwebtoken::encode(
                &Header::new(Algorithm::HS256),
                &claims,
                &EncodingKey::from_secret(public_pem.as_bytes()),
            )
            .unwrap();
            assert!(verifier.verify(&confused).is_err(), "HS256 with the public key accepted with {keys:?}");
            // A genuine RS256 token whose header claims HS256: the signature is not an HMAC.
            let genuine = rs256(&claims);
            let mut parts: Vec<&str> = genuine.split('.').collect();
            let relabelled = b64(serde_json::json!({ "alg": "HS256", "typ": "JWT", "kid": "test-rsa" }));
            parts[0] = &relabelled;
            assert!(verifier.verify(&parts.join(".")).is_err());
        }
    }

    #[test]
    fn ttl_units() {
        assert_eq!(parse_ttl("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_ttl("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_ttl("7d"), Ok(Duration::from_secs(604_800)));
        assert!(parse_ttl("soon").is_err());
    }
}
