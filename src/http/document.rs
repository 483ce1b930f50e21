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

use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
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
    for (name, op) in document.operations.iter() {
        if operation.is_some() && name.map(Name::as_str) != operation {
            continue;
        }
        let cost = set_cost(&op.node.selection_set.node, &fragments, limits)?;
        let variables = op.node.variable_definitions.iter().map(|v| 1 + v.node.directives.len());
        let nodes = variables.fold(cost.nodes, usize::saturating_add);
        if nodes > limits.max_nodes {
            return Err(Refusal::new(
                "QUERY_TOO_LARGE",
                format!(
                    "the query expands to {} selections, arguments and values (fragments counted where they \
                     are spread); at most {} are allowed",
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
        if cost.fields > limits.max_root_fields {
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
}
