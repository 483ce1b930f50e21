//! Persisted queries: Apollo's automatic persisted queries (a client sends a query's SHA-256
//! instead of its text once the server has seen it) and an allow-list mode for production
//! dashboards, where only operations registered in a manifest run at all.

use std::collections::HashMap;
use std::path::Path;
use std::sync::RwLock;

use anyhow::{Context as _, bail};
use async_graphql::Request;
use sha2::{Digest, Sha256};

/// How the server treats persisted queries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum PersistedMode {
    /// Automatic persisted queries: hashes are learnt from requests that carry the text too;
    /// any query may run.
    #[default]
    Auto,
    /// Only operations of the manifest run, by hash or by text; everything else is refused
    /// (`PERSISTED_QUERY_NOT_ALLOWED`).
    Allowlist,
    /// Queries are always sent as text; hashes are ignored.
    Off,
}

/// Queries known by hash, registered (manifest) or learnt (automatic mode).
#[derive(Debug)]
pub struct PersistedQueries {
    mode: PersistedMode,
    registered: HashMap<String, String>,
    learnt: RwLock<Learnt>,
}

/// Queries learnt from clients, with their total size.
#[derive(Debug, Default)]
struct Learnt {
    by_hash: HashMap<String, String>,
    bytes: usize,
}

/// Queries learnt in automatic mode at most, and their bytes at most (then everything learnt
/// is forgotten at once; clients send the text again when asked): clients cannot make the
/// server hold more than this.
const LEARNT_CAPACITY: usize = 10_000;
const LEARNT_BYTES: usize = 16 * 1024 * 1024;

/// Why a request was refused: its `extensions.code`, a message, and whether the request itself
/// was malformed (400) or only needs the text sent again (200, as Apollo clients expect).
pub struct Refused {
    pub code: &'static str,
    pub message: String,
    pub malformed: bool,
}

/// The SHA-256 of a query text, in lowercase hex (what clients send as `sha256Hash`).
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

impl PersistedQueries {
    /// Reads the manifest, if any: Apollo's persisted query manifest
    /// (`{"format": "apollo-persisted-query-manifest", "operations": [{"id", "body", …}]}`) or
    /// a plain `{ "<sha256>": "<query>" }` object. Every id must be its body's SHA-256.
    pub fn load(mode: PersistedMode, manifest: Option<&Path>) -> anyhow::Result<Self> {
        let mut registered = HashMap::new();
        if let Some(path) = manifest {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let json: serde_json::Value =
                serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
            let pairs: Vec<(String, String)> = match json.get("operations").and_then(|o| o.as_array()) {
                Some(operations) => operations
                    .iter()
                    .map(|op| {
                        let field = |name: &str| op.get(name).and_then(|v| v.as_str()).map(str::to_owned);
                        Ok((
                            field("id").context("an operation without id")?,
                            field("body").context("an operation without body")?,
                        ))
                    })
                    .collect::<anyhow::Result<_>>()?,
                None => json
                    .as_object()
                    .context("the manifest is neither an operations list nor an object of hash → query")?
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.as_str().context("a query that is not a string")?.to_owned())))
                    .collect::<anyhow::Result<_>>()?,
            };
            for (id, body) in pairs {
                if sha256_hex(&body) != id.to_ascii_lowercase() {
                    bail!("{}: operation {id} is not the SHA-256 of its body", path.display());
                }
                registered.insert(id.to_ascii_lowercase(), body);
            }
        } else if mode == PersistedMode::Allowlist {
            bail!("FULIAN_PERSISTED_QUERIES=allowlist needs FULIAN_PERSISTED_QUERIES_FILE (the operations manifest)");
        }
        Ok(Self { mode, registered, learnt: RwLock::default() })
    }

    /// How many operations the manifest registers.
    pub fn registered(&self) -> usize {
        self.registered.len()
    }

    /// Fills in the query text of a request that sent only its hash, learns new hashes, and
    /// refuses what the mode does not allow.
    pub fn resolve(&self, request: &mut Request) -> Result<(), Refused> {
        if self.mode == PersistedMode::Off {
            return Ok(());
        }
        let hash = match request.extensions.get("persistedQuery") {
            None => None,
            Some(value) => {
                let json = value.clone().into_json().unwrap_or_default();
                let hash = json.get("sha256Hash").and_then(|h| h.as_str()).map(str::to_ascii_lowercase);
                match (json.get("version").and_then(|v| v.as_i64()), hash) {
                    (Some(1), Some(hash)) => Some(hash),
                    _ => {
                        return Err(Refused {
                            code: "BAD_REQUEST",
                            message: "extensions.persistedQuery must be { version: 1, sha256Hash }".into(),
                            malformed: true,
                        });
                    }
                }
            }
        };
        let text = request.query.trim();
        if text.is_empty() {
            let Some(hash) = hash else { return Ok(()) };
            let known = self.registered.get(&hash).cloned().or_else(|| {
                self.learnt.read().unwrap_or_else(std::sync::PoisonError::into_inner).by_hash.get(&hash).cloned()
            });
            return match known {
                Some(query) => {
                    request.query = query;
                    Ok(())
                }
                None if self.mode == PersistedMode::Allowlist => Err(not_allowed()),
                None => Err(Refused {
                    code: "PERSISTED_QUERY_NOT_FOUND",
                    message: "PersistedQueryNotFound".into(),
                    malformed: false,
                }),
            };
        }
        let computed = sha256_hex(&request.query);
        if let Some(hash) = &hash
            && *hash != computed
        {
            return Err(Refused {
                code: "BAD_REQUEST",
                message: "extensions.persistedQuery.sha256Hash is not the SHA-256 of the query".into(),
                malformed: true,
            });
        }
        match self.mode {
            PersistedMode::Allowlist if !self.registered.contains_key(&computed) => Err(not_allowed()),
            PersistedMode::Auto if hash.is_some() => {
                let mut learnt = self.learnt.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                let size = computed.len() + request.query.len();
                if learnt.by_hash.len() >= LEARNT_CAPACITY || learnt.bytes + size > LEARNT_BYTES {
                    *learnt = Learnt::default();
                }
                if learnt.by_hash.insert(computed, request.query.clone()).is_none() {
                    learnt.bytes += size;
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

fn not_allowed() -> Refused {
    Refused {
        code: "PERSISTED_QUERY_NOT_ALLOWED",
        message: "this server runs only registered operations (FULIAN_PERSISTED_QUERIES=allowlist); \
                  register the operation in the manifest"
            .into(),
        malformed: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apq(query: &str) -> Request {
        let mut request = Request::new(query);
        let extension = serde_json::json!({ "version": 1, "sha256Hash": sha256_hex(query) });
        request.extensions.insert("persistedQuery".into(), async_graphql::Value::from_json(extension).unwrap());
        request
    }

    #[test]
    fn learnt_queries_stay_within_their_byte_bound() {
        let queries = PersistedQueries::load(PersistedMode::Auto, None).unwrap();
        let big = |i: usize| format!("{{ __typename }} # {i} {}", "x".repeat(1024 * 1024));
        for i in 0..40 {
            assert!(queries.resolve(&mut apq(&big(i))).is_ok());
            let learnt = queries.learnt.read().unwrap();
            assert!(learnt.bytes <= LEARNT_BYTES, "{} bytes learnt", learnt.bytes);
            assert_eq!(learnt.bytes, learnt.by_hash.iter().map(|(h, q)| h.len() + q.len()).sum::<usize>());
        }
        // The latest is still known by hash alone.
        let latest = big(39);
        let mut by_hash = apq(&latest);
        by_hash.query = String::new();
        assert!(queries.resolve(&mut by_hash).is_ok());
        assert_eq!(by_hash.query, latest);
    }
}
