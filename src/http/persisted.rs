//! Persisted queries: Apollo's automatic persisted queries (a client sends a query's SHA-256
//! instead of its text once the server has seen it) and an allow-list mode for production
//! dashboards, where only operations registered in a manifest run at all.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::path::Path;
use std::sync::Mutex;

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
    learnt: Mutex<Learnt>,
}

/// Queries learnt from clients: at most [`LEARNT_CAPACITY`] of them and [`LEARNT_BYTES`]
/// together, the least recently used forgotten first; and at most [`PER_CLIENT`] queries and
/// [`PER_CLIENT_BYTES`] taught by any one client, so that no client can push out what the
/// others use: a client over its share forgets its own least recently used queries (a query
/// forgotten is asked for again with `PERSISTED_QUERY_NOT_FOUND`, and the client sends the
/// text again).
#[derive(Debug, Default)]
struct Learnt {
    by_hash: HashMap<String, Entry>,
    /// Hashes by their last use, oldest first.
    by_use: BTreeMap<u64, String>,
    /// What each client has taught that is still held: queries and bytes.
    by_client: HashMap<Option<IpAddr>, (usize, usize)>,
    bytes: usize,
    clock: u64,
}

#[derive(Debug)]
struct Entry {
    query: String,
    used: u64,
    client: Option<IpAddr>,
}

impl Learnt {
    /// The query learnt under `hash`, now its most recently used.
    fn get(&mut self, hash: &str) -> Option<String> {
        self.clock += 1;
        let entry = self.by_hash.get_mut(hash)?;
        self.by_use.remove(&entry.used);
        entry.used = self.clock;
        self.by_use.insert(self.clock, hash.to_owned());
        Some(entry.query.clone())
    }

    /// Learns `query` under `hash` from `client`, within the bounds.
    fn learn(&mut self, hash: String, query: &str, client: Option<IpAddr>) {
        if self.get(&hash).is_some() {
            return;
        }
        let size = hash.len() + query.len();
        if size > PER_CLIENT_BYTES {
            return;
        }
        // A client over its share makes room among its own queries, least recently used first.
        while let Some(&(count, bytes)) = self.by_client.get(&client)
            && (count >= PER_CLIENT || bytes + size > PER_CLIENT_BYTES)
        {
            let oldest =
                self.by_use.values().find(|h| self.by_hash.get(*h).is_some_and(|e| e.client == client)).cloned();
            match oldest {
                Some(hash) => self.forget(&hash),
                None => break,
            }
        }
        while self.by_hash.len() >= LEARNT_CAPACITY || self.bytes + size > LEARNT_BYTES {
            let Some((_, oldest)) = self.by_use.pop_first() else { break };
            self.forget(&oldest);
        }
        self.by_use.insert(self.clock, hash.clone());
        self.bytes += size;
        let taught = self.by_client.entry(client).or_default();
        taught.0 += 1;
        taught.1 += size;
        self.by_hash.insert(hash, Entry { query: query.to_owned(), used: self.clock, client });
    }

    fn forget(&mut self, hash: &str) {
        let Some(entry) = self.by_hash.remove(hash) else { return };
        self.by_use.remove(&entry.used);
        let size = hash.len() + entry.query.len();
        self.bytes -= size;
        if let Some(taught) = self.by_client.get_mut(&entry.client) {
            taught.0 -= 1;
            taught.1 -= size;
            if taught.0 == 0 {
                self.by_client.remove(&entry.client);
            }
        }
    }
}

/// The bounds of what automatic persisted queries hold (see [`Learnt`]).
const LEARNT_CAPACITY: usize = 10_000;
const LEARNT_BYTES: usize = 16 * 1024 * 1024;
const PER_CLIENT: usize = 500;
const PER_CLIENT_BYTES: usize = 1024 * 1024;

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
        Ok(Self { mode, registered, learnt: Mutex::default() })
    }

    /// How many operations the manifest registers.
    pub fn registered(&self) -> usize {
        self.registered.len()
    }

    /// Fills in the query text of a request that sent only its hash, learns new hashes (taught
    /// by `client`, an address as [`super::listener::client_of`] counts it), and refuses what
    /// the mode does not allow.
    pub fn resolve(&self, request: &mut Request, client: Option<IpAddr>) -> Result<(), Refused> {
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
            let known = self.registered.get(&hash).cloned().or_else(|| self.learnt().get(&hash));
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
                self.learnt().learn(computed, &request.query, client);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn learnt(&self) -> std::sync::MutexGuard<'_, Learnt> {
        self.learnt.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
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

    fn by_hash(query: &str) -> Request {
        let mut request = apq(query);
        request.query = String::new();
        request
    }

    fn client(i: u32) -> Option<IpAddr> {
        Some(IpAddr::from(i.to_be_bytes()))
    }

    /// Whether `query` is known by its hash alone (which counts as a use).
    fn known(queries: &PersistedQueries, query: &str) -> bool {
        queries.resolve(&mut by_hash(query), None).is_ok()
    }

    fn assert_consistent(queries: &PersistedQueries) {
        let learnt = queries.learnt();
        assert!(learnt.bytes <= LEARNT_BYTES, "{} bytes learnt", learnt.bytes);
        assert!(learnt.by_hash.len() <= LEARNT_CAPACITY);
        assert_eq!(learnt.bytes, learnt.by_hash.iter().map(|(h, e)| h.len() + e.query.len()).sum::<usize>());
        assert_eq!(learnt.by_use.len(), learnt.by_hash.len());
        let taught: usize = learnt.by_client.values().map(|(count, _)| count).sum();
        assert_eq!(taught, learnt.by_hash.len());
    }

    #[test]
    fn learnt_queries_stay_within_their_byte_bound() {
        let queries = PersistedQueries::load(PersistedMode::Auto, None).unwrap();
        let big = |i: usize| format!("{{ __typename }} # {i} {}", "x".repeat(900 * 1024));
        for i in 0..40 {
            assert!(queries.resolve(&mut apq(&big(i)), client(i as u32)).is_ok());
            assert_consistent(&queries);
        }
        assert!(known(&queries, &big(39)), "the latest is still known by hash alone");
        assert!(!known(&queries, &big(0)), "the oldest made room");
    }

    #[test]
    fn one_client_cannot_push_out_what_others_use() {
        let queries = PersistedQueries::load(PersistedMode::Auto, None).unwrap();
        let dashboard = "query Dashboard { __typename }";
        assert!(queries.resolve(&mut apq(dashboard), client(1)).is_ok());
        // One address teaches far more than the store holds (the old store was wiped whole at
        // 10,000 queries): its queries still run, but the dashboard's stays known.
        for i in 0..(LEARNT_CAPACITY + 100) {
            let flood = format!("{{ __typename }} # flood {i}");
            assert!(queries.resolve(&mut apq(&flood), client(2)).is_ok());
        }
        assert_consistent(&queries);
        assert!(known(&queries, dashboard));
        assert_eq!(queries.learnt().by_client[&client(2)].0, PER_CLIENT);
        // The flooding client keeps learning, within its share: its latest queries are known,
        // its oldest forgotten (it had been refused every new query once at its share).
        let last = LEARNT_CAPACITY + 99;
        assert!(known(&queries, &format!("{{ __typename }} # flood {last}")));
        assert!(!known(&queries, "{ __typename } # flood 0"));
    }

    #[test]
    fn many_clients_push_out_the_least_recently_used_first() {
        let queries = PersistedQueries::load(PersistedMode::Auto, None).unwrap();
        let dashboard = "query Dashboard { __typename }";
        let forgotten = "query Forgotten { __typename }";
        assert!(queries.resolve(&mut apq(forgotten), client(0)).is_ok());
        assert!(queries.resolve(&mut apq(dashboard), client(0)).is_ok());
        for i in 0..(2 * LEARNT_CAPACITY) {
            if i % 1000 == 0 {
                assert!(known(&queries, dashboard), "in use, so kept (at {i})");
            }
            let query = format!("{{ __typename }} # {i}");
            assert!(queries.resolve(&mut apq(&query), client(1 + i as u32 / 100)).is_ok());
        }
        assert_consistent(&queries);
        assert!(known(&queries, dashboard));
        assert!(!known(&queries, forgotten));
        assert_eq!(queries.learnt().by_hash.len(), LEARNT_CAPACITY);
    }
}
