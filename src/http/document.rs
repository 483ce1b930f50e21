//! What a GraphQL document costs, measured before anything else walks it.
//!
//! async-graphql's own checks (recursion depth, directives, complexity, depth) and several of
//! ours expand every fragment spread where it appears. A document whose fragments each spread
//! the previous one twice is a kilobyte long and expands to billions of selections, so every
//! such walk would take exponential time. The checks here are linear in the document's size:
//! the text is scanned once for nesting before it is parsed (the parser recurses), and the
//! parsed document is measured with each fragment's expanded size computed once. A document
//! within [`DocumentLimits`] expands to a bounded number of selections, which bounds every
//! later walk of it too.

use std::collections::HashMap;

use async_graphql::parser::types::{
    Directive, DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned};
use async_graphql_value::Value;

/// The bounds a document must stay within before it is validated and executed.
#[derive(Clone, Copy, Debug)]
pub struct DocumentLimits {
    /// Longest query text, in bytes.
    pub max_bytes: usize,
    /// Deepest nesting of `{`, `[` and `(` in the query text.
    pub max_text_nesting: usize,
    /// Most selections, arguments, directives and literal values once fragments are expanded.
    pub max_nodes: usize,
    /// Deepest field nesting once fragments are expanded.
    pub max_depth: usize,
    /// Most aliased fields written in the document.
    pub max_aliases: usize,
    /// Most root fields the operation selects (fragments at the root expanded).
    pub max_root_fields: usize,
    /// Most directives on one selection.
    pub max_directives: usize,
}

/// Why a document was refused: an `extensions.code` and a message a person understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
}

impl Refusal {
    fn new(code: &'static str, message: String) -> Self {
        Self { code, message }
    }
}

/// Refuses variables holding more values than a document may (`max_nodes`): for subscriptions,
/// which hold their variables for as long as they live. Counts without recursion, stopping at
/// the limit.
pub fn check_variables(variables: &async_graphql::Variables, limits: &DocumentLimits) -> Result<(), Refusal> {
    let mut count = 0usize;
    let mut pending: Vec<&async_graphql::Value> = variables.values().collect();
    while let Some(value) = pending.pop() {
        count += 1;
        if count > limits.max_nodes {
            return Err(Refusal::new(
                "QUERY_TOO_LARGE",
                format!(
                    "the variables hold more than {} values; at most {} are allowed",
                    limits.max_nodes, limits.max_nodes
                ),
            ));
        }
        match value {
            async_graphql::Value::List(items) => pending.extend(items),
            async_graphql::Value::Object(fields) => pending.extend(fields.values()),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses query text nested deeper than the limit, before the parser recurses into it.
/// Strings, block strings and comments are skipped; one pass over the bytes.
pub fn check_text(query: &str, limits: &DocumentLimits) -> Result<(), Refusal> {
    if query.len() > limits.max_bytes {
        return Err(Refusal::new(
            "QUERY_TOO_LARGE",
            format!("the query is {} bytes long; at most {} are allowed", query.len(), limits.max_bytes),
        ));
    }
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    i += if bytes[i..].starts_with(b"\\\"\"\"") { 4 } else { 1 };
                }
                i += 2;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > limits.max_text_nesting {
                    return Err(Refusal::new(
                        "QUERY_TOO_DEEP",
                        format!("the query nests brackets more than {} levels deep", limits.max_text_nesting),
                    ));
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    Ok(())
}

/// The size of a selection set with its fragments expanded.
#[derive(Clone, Copy, Debug, Default)]
struct Cost {
    /// Selections, arguments, directives and literal values (saturating).
    nodes: usize,
    /// Deepest field nesting below (a leaf field is 1).
    depth: usize,
    /// Fields at this level, through fragments (saturating).
    fields: usize,
}

/// Measures a parsed document against the limits: each fragment is measured once, so the
/// time is linear in the document's size whatever its fragments expand to.
///
/// Every operation in the document is measured, not only the one the request runs
/// (`operation`): validation walks them all with their fragments expanded before it picks one,
/// so their expanded sizes together must be within `max_nodes` and each within `max_depth`.
/// The root-field limit holds for the operation that runs (every one when none is named).
pub fn check_document(
    document: &ExecutableDocument,
    operation: Option<&str>,
    limits: &DocumentLimits,
) -> Result<(), Refusal> {
    let fragments = fragment_costs(document, limits)?;
    let aliases: usize = document
        .operations
        .iter()
        .map(|(_, op)| aliases_in(&op.node.selection_set.node))
        .chain(document.fragments.values().map(|f| aliases_in(&f.node.selection_set.node)))
        .fold(0, usize::saturating_add);
    if aliases > limits.max_aliases {
        return Err(Refusal::new(
            "QUERY_TOO_LARGE",
            format!("the query uses {aliases} aliases; at most {} are allowed", limits.max_aliases),
        ));
    }
    let single = matches!(document.operations, DocumentOperations::Single(_));
    let mut nodes = 0usize;
    for (name, op) in document.operations.iter() {
        let cost = set_cost(&op.node.selection_set.node, &fragments, limits)?;
        let variables = op.node.variable_definitions.iter().map(|v| 1 + v.node.directives.len());
        nodes = variables.fold(nodes.saturating_add(cost.nodes), usize::saturating_add);
        if nodes > limits.max_nodes {
            return Err(Refusal::new(
                "QUERY_TOO_LARGE",
                format!(
                    "the query expands to {} selections, arguments and values (fragments counted where they \
                     are spread, every operation in the document counted); at most {} are allowed",
                    human(nodes),
                    limits.max_nodes
                ),
            ));
        }
        if cost.depth > limits.max_depth {
            return Err(Refusal::new(
                "QUERY_TOO_DEEP",
                format!("the query nests fields {} levels deep; at most {} are allowed", cost.depth, limits.max_depth),
            ));
        }
        let runs = single || operation.is_none() || name.map(Name::as_str) == operation;
        if runs && cost.fields > limits.max_root_fields {
            return Err(Refusal::new(
                "QUERY_TOO_LARGE",
                format!(
                    "the operation selects {} root fields; at most {} are allowed",
                    human(cost.fields),
                    limits.max_root_fields
                ),
            ));
        }
    }
    Ok(())
}

/// "12345" or "more than 10^18" for saturated counts.
fn human(n: usize) -> String {
    if n == usize::MAX { "more than 10^18".to_owned() } else { n.to_string() }
}

/// The expanded cost of every fragment, dependencies first; refuses cycles.
fn fragment_costs<'d>(
    document: &'d ExecutableDocument,
    limits: &DocumentLimits,
) -> Result<HashMap<&'d str, Cost>, Refusal> {
    // The spreads each fragment makes directly (not through other fragments).
    let spreads: HashMap<&str, Vec<&str>> = document
        .fragments
        .iter()
        .map(|(name, fragment)| {
            let mut out = Vec::new();
            spreads_in(&fragment.node.selection_set.node, &mut out);
            (name.as_str(), out)
        })
        .collect();
    let mut costs: HashMap<&str, Cost> = HashMap::with_capacity(spreads.len());
    // Iterative depth-first order: a fragment is measured once every fragment it spreads is.
    let mut on_path: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for start in spreads.keys() {
        if costs.contains_key(start) {
            continue;
        }
        let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
        on_path.insert(start);
        while let Some((name, next)) = stack.pop() {
            let children = &spreads[name];
            if let Some(&child) = children.get(next) {
                stack.push((name, next + 1));
                if costs.contains_key(child) || !spreads.contains_key(child) {
                    continue;
                }
                if !on_path.insert(child) {
                    return Err(Refusal::new(
                        "GRAPHQL_VALIDATION_FAILED",
                        format!("fragment \"{child}\" spreads itself (directly or through other fragments)"),
                    ));
                }
                stack.push((child, 0));
            } else {
                on_path.remove(name);
                let fragment = &document.fragments[&Name::new(name)];
                let cost = set_cost(&fragment.node.selection_set.node, &costs, limits)?;
                costs.insert(name, cost);
            }
        }
    }
    Ok(costs)
}

fn spreads_in<'d>(set: &'d SelectionSet, out: &mut Vec<&'d str>) {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => spreads_in(&field.node.selection_set.node, out),
            Selection::InlineFragment(fragment) => spreads_in(&fragment.node.selection_set.node, out),
            Selection::FragmentSpread(spread) => out.push(spread.node.fragment_name.node.as_str()),
        }
    }
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .fold(0, usize::saturating_add)
}

/// The cost of a selection set, given the costs of the fragments it may spread. Unknown
/// fragments cost nothing here (validation reports them).
fn set_cost(set: &SelectionSet, fragments: &HashMap<&str, Cost>, limits: &DocumentLimits) -> Result<Cost, Refusal> {
    let mut cost = Cost::default();
    for selection in &set.items {
        let directives = selection.node.directives();
        if directives.len() > limits.max_directives {
            return Err(Refusal::new(
                "QUERY_TOO_LARGE",
                format!(
                    "a selection carries {} directives; at most {} are allowed",
                    directives.len(),
                    limits.max_directives
                ),
            ));
        }
        let directive_nodes = directives
            .iter()
            .map(|d| d.node.arguments.iter().map(|(_, v)| value_nodes(&v.node)).fold(1, usize::saturating_add))
            .fold(0, usize::saturating_add);
        cost.nodes = cost.nodes.saturating_add(1).saturating_add(directive_nodes);
        let inner = match &selection.node {
            Selection::Field(field) => {
                if field.node.name.node == "__typename" {
                    typename_directives(directives)?;
                }
                let arguments =
                    field.node.arguments.iter().map(|(_, v)| value_nodes(&v.node)).fold(0, usize::saturating_add);
                let sub = set_cost(&field.node.selection_set.node, fragments, limits)?;
                cost.nodes = cost.nodes.saturating_add(arguments);
                cost.fields = cost.fields.saturating_add(1);
                Cost { depth: sub.depth + 1, fields: 0, ..sub }
            }
            Selection::InlineFragment(fragment) => set_cost(&fragment.node.selection_set.node, fragments, limits)?,
            Selection::FragmentSpread(spread) => {
                fragments.get(spread.node.fragment_name.node.as_str()).copied().unwrap_or_default()
            }
        };
        cost.nodes = cost.nodes.saturating_add(inner.nodes);
        cost.fields = cost.fields.saturating_add(inner.fields);
        cost.depth = cost.depth.max(inner.depth);
    }
    Ok(cost)
}

/// async-graphql's validation does not look at the directives of `__typename`: an unknown
/// directive, or `@skip` without its argument, ran as if it were not there. They are checked
/// here: only `@skip(if:)` and `@include(if:)`, given a Boolean or a variable.
fn typename_directives(directives: &[Positioned<Directive>]) -> Result<(), Refusal> {
    for directive in directives {
        let name = directive.node.name.node.as_str();
        if name != "skip" && name != "include" {
            return Err(Refusal::new("GRAPHQL_VALIDATION_FAILED", format!("Unknown directive \"{name}\"")));
        }
        let well_formed = matches!(
            directive.node.arguments.as_slice(),
            [(argument, value)] if argument.node == "if" && matches!(value.node, Value::Boolean(_) | Value::Variable(_))
        );
        if !well_formed {
            return Err(Refusal::new(
                "GRAPHQL_VALIDATION_FAILED",
                format!("@{name} takes exactly one argument, if: Boolean!"),
            ));
        }
    }
    Ok(())
}

/// A literal value's size: one, plus its items or fields.
fn value_nodes(value: &Value) -> usize {
    match value {
        Value::List(items) => items.iter().map(value_nodes).fold(1, usize::saturating_add),
        Value::Object(fields) => fields.values().map(value_nodes).fold(1, usize::saturating_add),
        _ => 1,
    }
}

/// The operation a request runs: by name, or the only one.
pub fn operation<'d>(
    document: &'d ExecutableDocument,
    name: Option<&str>,
) -> Option<&'d Positioned<async_graphql::parser::types::OperationDefinition>> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

/// The type of the operation a request runs, if it names one that exists.
pub fn operation_type(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    operation(document, name).map(|op| op.node.ty)
}

/// Names of the root fields an operation selects, fragments at the root expanded, each
/// fragment visited once (so the walk is linear however fragments spread each other).
pub fn root_fields(document: &ExecutableDocument, name: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(op) = operation(document, name) else { return out };
    let mut seen = std::collections::HashSet::new();
    let mut stack = vec![&op.node.selection_set.node];
    while let Some(set) = stack.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.to_string();
                    if !out.contains(&name) {
                        out.push(name);
                    }
                }
                Selection::InlineFragment(fragment) => stack.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    if seen.insert(name.as_str())
                        && let Some(fragment) = document.fragments.get(name)
                    {
                        stack.push(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: DocumentLimits = DocumentLimits {
        max_bytes: 1 << 20,
        max_text_nesting: 64,
        max_nodes: 5_000,
        max_depth: 16,
        max_aliases: 30,
        max_root_fields: 20,
        max_directives: 8,
    };

    fn check(query: &str) -> Result<(), Refusal> {
        check_text(query, &LIMITS)?;
        let document = async_graphql::parser::parse_query(query).expect("parses");
        check_document(&document, None, &LIMITS)
    }

    /// Fragments that each spread the previous one twice: 2^levels selections.
    fn doubling(levels: usize) -> String {
        let mut query = String::from("fragment L0 on Region { parent { name } }\n");
        for level in 1..=levels {
            query.push_str(&format!("fragment L{level} on Region {{ ...L{p} ...L{p} }}\n", p = level - 1));
        }
        query.push_str(&format!("{{ region(code: \"110112\") {{ ...L{levels} }} }}"));
        query
    }

    #[test]
    fn fragment_fan_out_is_measured_without_expanding_it() {
        assert!(check(&doubling(5)).is_ok(), "2^5 selections are fine");
        let started = std::time::Instant::now();
        for levels in [20, 64, 200, 2_000] {
            let refusal = check(&doubling(levels)).unwrap_err();
            assert_eq!(refusal.code, "QUERY_TOO_LARGE", "{refusal:?}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "took {:?}", started.elapsed());
    }

    #[test]
    fn cycles_and_deep_text_are_refused_before_they_recurse() {
        let cycle =
            "fragment A on Region { ...B } fragment B on Region { parent { ...A } } { region(code: \"1\") { ...A } }";
        assert_eq!(check(cycle).unwrap_err().code, "GRAPHQL_VALIDATION_FAILED");
        let deep = format!("{}{}", "{ a ".repeat(100_000), "}".repeat(100_000));
        assert_eq!(check(&deep).unwrap_err().code, "QUERY_TOO_DEEP");
        let list = format!("{{ regions(codes: {}1{}) {{ name }} }}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(check(&list).unwrap_err().code, "QUERY_TOO_DEEP");
        // Brackets inside strings and comments are not nesting.
        let quoted = format!("{{ search(text: \"{}\") # {}\n }}", "{".repeat(500), "[".repeat(500));
        assert!(check_text(&quoted, &LIMITS).is_ok());
        let block = format!("{{ search(text: \"\"\"{} \\\"\"\" {}\"\"\") }}", "{".repeat(500), "(".repeat(500));
        assert!(check_text(&block, &LIMITS).is_ok());
    }

    #[test]
    fn depth_roots_directives_and_values_count_through_fragments() {
        let deep = format!(
            "fragment F on Region {{ {}name{} }} {{ region(code: \"1\") {{ ...F }} }}",
            "parent { ".repeat(20),
            " }".repeat(20)
        );
        assert_eq!(check(&deep).unwrap_err().code, "QUERY_TOO_DEEP");
        let roots = format!(
            "fragment R on Query {{ {} }} {{ ...R }}",
            (0..25).map(|i| format!("a{i}: regions {{ name }}")).collect::<Vec<_>>().join(" ")
        );
        let refusal = check(&roots).unwrap_err();
        assert_eq!(refusal.code, "QUERY_TOO_LARGE");
        for bad in [
            "{ __typename @foo }",
            "{ __typename @skip }",
            "{ __typename @skip(if: 3) }",
            "{ __typename @include(if: true, x: 1) }",
        ] {
            assert_eq!(check(bad).unwrap_err().code, "GRAPHQL_VALIDATION_FAILED", "{bad}");
        }
        assert!(check("query($v: Boolean!) { __typename @skip(if: $v) a: __typename @include(if: true) }").is_ok());
        let directives = format!("{{ regions {}{{ name }} }}", "@skip(if: false) ".repeat(50));
        assert!(check(&directives).unwrap_err().message.contains("directives"));
        let values = format!("{{ regions(codes: [{}]) {{ name }} }}", vec!["\"1\""; 10_000].join(","));
        assert_eq!(check(&values).unwrap_err().code, "QUERY_TOO_LARGE");
        let fine =
            "query Q($c: String!) { region(code: $c) { name parent { name } children(first: 5) { nodes { name } } } }";
        assert!(check(fine).is_ok());
    }

    #[test]
    fn root_fields_visit_each_fragment_once() {
        let query = doubling(40)
            .replace("on Region", "on Query")
            .replace("{ region(code: \"110112\") { ...L40 } }", "{ ...L40 }");
        let document = async_graphql::parser::parse_query(&query).expect("parses");
        assert_eq!(root_fields(&document, None), vec!["parent".to_owned()]);
    }

    #[test]
    fn operations_the_request_does_not_run_are_measured_too() {
        // Validation expands every operation's fragments before it picks the one to run, so
        // naming a small operation must not let a huge one through (it did: 42 s at 24 levels).
        let big = "query Big { region(code: \"110112\") { ...L30 } }";
        let query =
            doubling(30).replace("{ region(code: \"110112\") { ...L30 } }", big) + " query Small { __typename }";
        let document = async_graphql::parser::parse_query(&query).expect("parses");
        for name in [None, Some("Small"), Some("Big"), Some("Absent")] {
            assert_eq!(check_document(&document, name, &LIMITS).unwrap_err().code, "QUERY_TOO_LARGE", "{name:?}");
        }
        let anonymous = async_graphql::parser::parse_query(doubling(30)).expect("parses");
        assert_eq!(check_document(&anonymous, Some("Other"), &LIMITS).unwrap_err().code, "QUERY_TOO_LARGE");
        let body = serde_json::json!({ "query": query, "operationName": "Small" }).to_string();
        let status = crate::http::decode_untrusted(Some(body.as_bytes()), "", &LIMITS);
        assert_eq!(status, axum::http::StatusCode::BAD_REQUEST);

        // The operations' sizes add up (validation walks them one after the other).
        let half =
            |name: &str| format!("query {name} {{ regions(codes: [{}]) {{ name }} }}", vec!["1"; 3_000].join(","));
        let one = async_graphql::parser::parse_query(half("A")).expect("parses");
        assert!(check_document(&one, Some("A"), &LIMITS).is_ok());
        let two = async_graphql::parser::parse_query(format!("{} {}", half("A"), half("B"))).expect("parses");
        assert_eq!(check_document(&two, Some("A"), &LIMITS).unwrap_err().code, "QUERY_TOO_LARGE");

        // The root-field limit is the running operation's: other operations' fields are nodes.
        let wide = format!(
            "query Wide {{ {} }}",
            (0..25).map(|i| format!("a{i}: regions {{ name }}")).collect::<Vec<_>>().join(" ")
        );
        let document =
            async_graphql::parser::parse_query(format!("{wide} query Narrow {{ __typename }}")).expect("parses");
        assert!(check_document(&document, Some("Narrow"), &LIMITS).is_ok());
        assert_eq!(check_document(&document, Some("Wide"), &LIMITS).unwrap_err().code, "QUERY_TOO_LARGE");
        assert_eq!(check_document(&document, None, &LIMITS).unwrap_err().code, "QUERY_TOO_LARGE");
    }

    /// A small deterministic generator (xorshift64*), so that property tests need no crate.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items[self.below(items.len())]
        }
    }

    /// The deepest bracket nesting of a text the way the GraphQL lexer sees it, written as a
    /// state machine over characters (unlike `check_text`, which scans bytes): brackets count
    /// outside comments (`#` to the end of the line), strings (to the closing quote or the end
    /// of the line, `\` escaping one character) and block strings (`\"""` escaping the quotes).
    fn reference_nesting(text: &str) -> usize {
        #[derive(PartialEq)]
        enum State {
            Code,
            Comment,
            Quoted,
            Block,
        }
        let chars: Vec<char> = text.chars().collect();
        let at = |i: usize, s: &str| chars[i..].iter().copied().take(s.chars().count()).eq(s.chars());
        let (mut state, mut depth, mut deepest, mut i) = (State::Code, 0usize, 0usize, 0usize);
        while i < chars.len() {
            match state {
                State::Code if at(i, "\"\"\"") => {
                    state = State::Block;
                    i += 3;
                    continue;
                }
                State::Code => match chars[i] {
                    '#' => state = State::Comment,
                    '"' => state = State::Quoted,
                    '{' | '[' | '(' => {
                        depth += 1;
                        deepest = deepest.max(depth);
                    }
                    '}' | ']' | ')' => depth = depth.saturating_sub(1),
                    _ => {}
                },
                State::Comment if matches!(chars[i], '\n' | '\r') => state = State::Code,
                State::Comment => {}
                State::Quoted => match chars[i] {
                    '\\' => i += 1,
                    '"' | '\n' => state = State::Code,
                    _ => {}
                },
                State::Block if at(i, "\\\"\"\"") => {
                    i += 4;
                    continue;
                }
                State::Block if at(i, "\"\"\"") => {
                    state = State::Code;
                    i += 3;
                    continue;
                }
                State::Block => {}
            }
            i += 1;
        }
        deepest
    }

    fn nesting_limits(max_text_nesting: usize) -> DocumentLimits {
        DocumentLimits { max_text_nesting, ..LIMITS }
    }

    #[test]
    fn text_nesting_agrees_with_a_reference_on_generated_text() {
        let tokens = [
            "{", "}", "[", "]", "(", ")", "\"", "\"\"\"", "\\", "\\\"\"\"", "#", "\n", "\r", "a", " ", "é", "\u{3000}",
        ];
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let length = rng.below(40);
            let text: String = (0..length).map(|_| rng.pick(&tokens)).collect();
            let deepest = reference_nesting(&text);
            for limit in [0, 1, 2, 3, 5] {
                let accepted = check_text(&text, &nesting_limits(limit)).is_ok();
                assert_eq!(accepted, deepest <= limit, "{text:?}: reference nesting {deepest}, limit {limit}");
            }
        }
    }

    /// A random valid document and the bracket nesting the parser recurses through: selection
    /// sets, arguments, list and object values, list types, with brackets in strings, block
    /// strings and comments that do not nest.
    fn generated_document(rng: &mut Rng) -> (String, usize) {
        fn value(rng: &mut Rng, budget: usize) -> (String, usize) {
            match rng.below(if budget == 0 { 4 } else { 6 }) {
                0 => ("1".to_owned(), 0),
                1 => ("\"{[( \\\" ]\"".to_owned(), 0),
                2 => ("\"\"\"{ \\\"\"\" ( \n [\"\"\"".to_owned(), 0),
                3 => ("$v".to_owned(), 0),
                4 => {
                    let items: Vec<(String, usize)> = (0..rng.below(3)).map(|_| value(rng, budget - 1)).collect();
                    let deepest = items.iter().map(|(_, d)| *d).max().unwrap_or(0);
                    let text = items.into_iter().map(|(t, _)| t).collect::<Vec<_>>().join(", ");
                    (format!("[{text}]"), deepest + 1)
                }
                _ => {
                    let (inner, deepest) = value(rng, budget - 1);
                    (format!("{{ k: {inner} }}"), deepest + 1)
                }
            }
        }
        fn selections(rng: &mut Rng, budget: usize) -> (String, usize) {
            let mut text = String::new();
            let mut deepest = 0;
            for _ in 0..=rng.below(3) {
                let comment = if rng.below(4) == 0 { " # } ] ) {{{ \n" } else { " " };
                match rng.below(if budget == 0 { 2 } else { 5 }) {
                    0 => text.push_str("name"),
                    1 => {
                        let (v, d) = value(rng, budget.saturating_sub(1));
                        text.push_str(&format!("region(code: {v})"));
                        deepest = deepest.max(d + 1);
                    }
                    2 => {
                        let (inner, d) = selections(rng, budget - 1);
                        text.push_str(&format!("parent {{{comment}{inner} }}"));
                        deepest = deepest.max(d + 1);
                    }
                    3 => {
                        let (inner, d) = selections(rng, budget - 1);
                        text.push_str(&format!("... on Region {{ {inner}{comment}}}"));
                        deepest = deepest.max(d + 1);
                    }
                    _ => {
                        let (v, vd) = value(rng, budget - 1);
                        let (inner, d) = selections(rng, budget - 1);
                        text.push_str(&format!("children(first: {v}) {{ {inner} }}"));
                        deepest = deepest.max(vd + 1).max(d + 1);
                    }
                }
                text.push_str(comment);
            }
            (text, deepest)
        }
        let budget = rng.below(7);
        let (body, deepest) = selections(rng, budget);
        let lists = rng.below(4);
        let variable = format!("{}Int{}", "[".repeat(lists), "]".repeat(lists));
        let text = format!("query Q($v: {variable}) {{ {body} }}");
        // The variables' parentheses, the list type inside them, and the outer selection set.
        (text, (lists + 1).max(deepest + 1))
    }

    #[test]
    fn text_nesting_is_the_nesting_the_parser_recurses_through() {
        let mut rng = Rng(0x5851_f42d_4c95_7f2d);
        for _ in 0..3_000 {
            let (text, deepest) = generated_document(&mut rng);
            async_graphql::parser::parse_query(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(reference_nesting(&text), deepest, "{text}");
            assert!(check_text(&text, &nesting_limits(deepest)).is_ok(), "{text}");
            assert_eq!(check_text(&text, &nesting_limits(deepest - 1)).unwrap_err().code, "QUERY_TOO_DEEP", "{text}");
        }
    }

    /// How long checking a query takes as a request does it (text, parse, measure).
    fn measure_time(query: &str) -> std::time::Duration {
        let started = std::time::Instant::now();
        let _ = check_text(query, &LIMITS)
            .ok()
            .and_then(|()| async_graphql::parser::parse_query(query).ok())
            .map(|document| check_document(&document, None, &LIMITS));
        started.elapsed()
    }

    /// The shortest times of checking two queries, measured in turns (so that a busy machine
    /// slows both alike).
    fn measure_times(small: &str, large: &str) -> (std::time::Duration, std::time::Duration) {
        (0..7).fold((std::time::Duration::MAX, std::time::Duration::MAX), |(s, l), _| {
            (s.min(measure_time(small)), l.min(measure_time(large)))
        })
    }

    #[test]
    fn measuring_takes_linear_time_in_the_size_of_the_document() {
        let spread_all = |k: usize| {
            let mut q = String::from("fragment F0 on Region { name }\n");
            for i in 1..k {
                q.push_str(&format!("fragment F{i} on Region {{ ...F{} parent {{ name }} }}\n", i - 1));
            }
            q + &format!("{{ region(code: \"1\") {{ ...F{} }} }}", k - 1)
        };
        let shapes: [(&str, &dyn Fn(usize) -> String); 9] = [
            ("fragment doubling", &|k| doubling(k)),
            ("fragment chain", &spread_all),
            ("operations sharing a fragment", &|k| {
                let ops: String = (0..k).map(|i| format!("query Q{i} {{ ...F }}\n")).collect();
                format!("fragment F on Query {{ regions {{ name parent {{ name }} }} }}\n{ops}")
            }),
            ("aliases", &|k| {
                format!("{{ {} }}", (0..k).map(|i| format!("a{i}: regions {{ name }}")).collect::<String>())
            }),
            ("nested siblings", &|k| {
                format!("{{ {} }}", "regions { parent { parent { parent { name } } } } ".repeat(k))
            }),
            ("list literal", &|k| format!("{{ regions(codes: [{}]) {{ name }} }}", "\"1\", ".repeat(k))),
            ("comments and strings", &|k| {
                format!("{{ {} regions {{ name }} }}", "# {{[( \n search(text: \"{[(\\\"\") ".repeat(k))
            }),
            ("directives", &|k| format!("{{ regions {}{{ name }} }}", "@skip(if: false) ".repeat(k))),
            ("variables", &|k| {
                format!(
                    "query Q({}) {{ regions {{ name }} }}",
                    (0..k).map(|i| format!("$v{i}: [Int] ")).collect::<String>()
                )
            }),
        ];
        for (shape, make) in shapes {
            // About 6 KB, and sixteen times as large: linear time is about sixteen times as long,
            // quadratic 256 times; the bound between leaves room for a busy machine.
            let k = (1..).map(|k| k * 10).find(|k| make(*k).len() >= 6_000).unwrap_or(10);
            let (small, large) = (make(k), make(16 * k));
            assert!(large.len() < LIMITS.max_bytes, "{shape}: {} bytes", large.len());
            let size = large.len() as f64 / small.len() as f64;
            let mut attempts = Vec::new();
            for _ in 0..3 {
                let (t_small, t_large) = measure_times(&small, &large);
                let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(1e-7);
                attempts.push(format!("{t_small:?} and {t_large:?} ({ratio:.1}×)"));
                if ratio < 4.0 * size {
                    break;
                }
            }
            assert!(
                attempts.len() < 3,
                "{shape}: {} and {} bytes ({size:.1}×) took {attempts:?}",
                small.len(),
                large.len()
            );
        }
    }
}
