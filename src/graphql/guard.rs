//! What every GraphQL request passes around its resolvers, whatever field it asks for:
//!
//! - **Storable text.** No argument or variable may carry text the database cannot store (the
//!   NUL character): refused as `BAD_USER_INPUT` with the argument's path before anything runs,
//!   on both backends alike (PostgreSQL would fail with an internal error, SQLite silently cut
//!   the text).
//! - **Every mutation attempt audited.** The services record the attempts that reach them;
//!   this records the others: refused for their text, for a document that fails validation, or
//!   for arguments a resolver could not read (a malformed ID, a number out of range).
//!
//! Both walk the document once (fragments once each, not per spread): linear in its size.

use std::sync::{Arc, Mutex, PoisonError};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextResolve, NextValidation,
    ResolveInfo,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection, SelectionSet,
};
use async_graphql::{ErrorExtensions, Name, Request, ServerError, ServerResult, ValidationResult, Value, Variables};

use crate::domain::Services;
use crate::domain::access::Caller;
use crate::error::{AppError, Problem};

/// The extension; add it to the schema with `.extension(Guard)`.
pub struct Guard;

impl ExtensionFactory for Guard {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(GuardExtension::default())
    }
}

/// One request's state: the operation it names, and the root fields of its mutation (if it is one).
#[derive(Default)]
struct GuardExtension {
    operation_name: Mutex<Option<String>>,
    mutation_fields: Mutex<Option<Vec<String>>>,
}

/// What the audit log records as the target of an attempt refused before it was resolved.
const NOT_RESOLVED: &str = "(not resolved: arguments refused)";

impl GuardExtension {
    fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        mutex.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Records the refusal of every root field of the request's mutation, if it is one.
    async fn audit_refused(&self, ctx: &ExtensionContext<'_>, code: &str, message: &str) {
        let fields = Self::lock(&self.mutation_fields).clone();
        let (Some(fields), Some(services)) = (fields, ctx.data_opt::<Services>()) else { return };
        let caller = ctx.data_opt::<Caller>().cloned().unwrap_or_default();
        for field in fields {
            services.record_unaudited_attempt(&caller, &field, NOT_RESOLVED, Some((code, message))).await;
        }
    }
}

fn refusal(error: &AppError) -> ServerError {
    let extended = error.extend();
    let mut server_error = ServerError::new(extended.message, None);
    server_error.extensions = extended.extensions;
    server_error
}

#[async_graphql::async_trait::async_trait]
impl Extension for GuardExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        *Self::lock(&self.operation_name) = request.operation_name.clone();
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let name = Self::lock(&self.operation_name).clone();
        *Self::lock(&self.mutation_fields) = mutation_root_fields(&document, name.as_deref());
        let mut problems = Vec::new();
        for (name, value) in variables.iter() {
            unstorable(value, name.as_str(), &mut problems);
        }
        literal_problems(&document, &mut problems);
        if problems.is_empty() {
            return Ok(document);
        }
        let error = AppError::BadUserInput(problems);
        self.audit_refused(ctx, error.code(), &error.message()).await;
        Err(refusal(&error))
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await;
        if let Err(errors) = &result {
            let message = errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join("; ");
            self.audit_refused(ctx, "GRAPHQL_VALIDATION_FAILED", &message).await;
        }
        result
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        let root_mutation = info.path_node.parent.is_none() && Self::lock(&self.mutation_fields).is_some();
        if !root_mutation {
            return next.run(ctx, info).await;
        }
        let operation = info.name.to_owned();
        let (result, recorded) = crate::domain::audit::tracked(next.run(ctx, info)).await;
        if !recorded && let Some(services) = ctx.data_opt::<Services>() {
            let caller = ctx.data_opt::<Caller>().cloned().unwrap_or_default();
            let refused = result.as_ref().err().map(|error| {
                let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
                    Some(async_graphql::Value::String(code)) => code.clone(),
                    // Arguments async-graphql could not read (e.g. a number out of range).
                    _ => "BAD_USER_INPUT".to_owned(),
                };
                (code, error.message.clone())
            });
            let refused = refused.as_ref().map(|(code, message)| (code.as_str(), message.as_str()));
            services.record_unaudited_attempt(&caller, &operation, NOT_RESOLVED, refused).await;
        }
        result
    }
}

/// The operation the request runs: the named one, or the only one.
fn operation<'a>(document: &'a ExecutableDocument, name: Option<&str>) -> Option<&'a OperationDefinition> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(&op.node),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| &op.node),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| &op.node),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// The root fields a mutation asks for (through fragments at the top level too); `None` when
/// the request is not a mutation.
fn mutation_root_fields(document: &ExecutableDocument, name: Option<&str>) -> Option<Vec<String>> {
    let op = operation(document, name).filter(|op| op.ty == OperationType::Mutation)?;
    let mut fields = Vec::new();
    let mut pending: Vec<&SelectionSet> = vec![&op.selection_set.node];
    let mut expanded = std::collections::HashSet::new();
    while let Some(set) = pending.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.to_string();
                    if !name.starts_with("__") && !fields.contains(&name) {
                        fields.push(name);
                    }
                }
                Selection::InlineFragment(fragment) => pending.push(&fragment.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    let fragment_name = &spread.node.fragment_name.node;
                    if expanded.insert(fragment_name.clone())
                        && let Some(fragment) = document.fragments.get(fragment_name)
                    {
                        pending.push(&fragment.node.selection_set.node);
                    }
                }
            }
        }
    }
    Some(fields)
}

/// A literal argument's value with its variables as null (variables are checked by themselves).
macro_rules! without_variables {
    ($value:expr) => {
        $value.clone().into_const_with(|_| Ok::<_, std::convert::Infallible>(Value::Null)).unwrap_or(Value::Null)
    };
}

/// Every literal argument of the document (operations, fragments, directives, variable
/// defaults) that carries unstorable text.
fn literal_problems(document: &ExecutableDocument, problems: &mut Vec<Problem>) {
    let mut sets: Vec<&SelectionSet> = Vec::new();
    let mut directives = Vec::new();
    for (_, op) in document.operations.iter() {
        sets.push(&op.node.selection_set.node);
        directives.extend(&op.node.directives);
        for variable in &op.node.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                unstorable(&default.node, variable.node.name.node.as_str(), problems);
            }
            directives.extend(&variable.node.directives);
        }
    }
    for fragment in document.fragments.values() {
        sets.push(&fragment.node.selection_set.node);
        directives.extend(&fragment.node.directives);
    }
    while let Some(set) = sets.pop() {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    for (name, value) in &field.node.arguments {
                        let path = format!("{}.{}", field.node.name.node, name.node);
                        unstorable(&without_variables!(value.node), &path, problems);
                    }
                    directives.extend(&field.node.directives);
                    sets.push(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => {
                    directives.extend(&fragment.node.directives);
                    sets.push(&fragment.node.selection_set.node);
                }
                Selection::FragmentSpread(spread) => directives.extend(&spread.node.directives),
            }
        }
    }
    for directive in directives {
        for (name, value) in &directive.node.arguments {
            unstorable(
                &without_variables!(value.node),
                &format!("@{}.{}", directive.node.name.node, name.node),
                problems,
            );
        }
    }
}

/// Adds a problem for every string in `value` (at `path`) that cannot be stored.
fn unstorable(value: &Value, path: &str, problems: &mut Vec<Problem>) {
    let mut pending: Vec<(String, &Value)> = vec![(path.to_owned(), value)];
    while let Some((path, value)) = pending.pop() {
        match value {
            Value::String(text) => {
                if let Err(message) = crate::domain::text::check(text) {
                    problems.push(Problem::new(path, message));
                }
            }
            Value::List(items) => {
                pending.extend(items.iter().enumerate().map(|(i, item)| (format!("{path}[{i}]"), item)))
            }
            Value::Object(map) => pending.extend(map.iter().map(|(k, v): (&Name, _)| (format!("{path}.{k}"), v))),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems_of(query: &str) -> Vec<String> {
        let document = async_graphql::parser::parse_query(query).expect("a valid document");
        let mut problems = Vec::new();
        literal_problems(&document, &mut problems);
        problems.into_iter().map(|p| p.path).collect()
    }

    #[test]
    fn finds_nul_in_every_kind_of_literal() {
        assert!(problems_of(r#"{ region(code: "110112") { name } }"#).is_empty());
        assert_eq!(problems_of(r#"{ region(code: "11\u0000") { name } }"#), ["region.code"]);
        assert_eq!(
            problems_of(r#"mutation { submitReport(input: { key: "k", tags: ["a", "b\u0000"] }) { status } }"#),
            ["submitReport.input.tags[1]"]
        );
        assert_eq!(
            problems_of(
                r#"query { ...F } fragment F on Query { resources(filter: { search: "\u0000" }) { totalCount } }"#
            ),
            ["resources.filter.search"]
        );
        assert_eq!(problems_of(r#"query($c: String = "\u0000") { region(code: $c) { name } }"#), ["c"]);
    }

    #[test]
    fn finds_the_root_fields_of_a_mutation() {
        let document = async_graphql::parser::parse_query(
            "mutation M { a: removeResource(id: \"x\") ...F } fragment F on Mutation { revokeLibraryGrant(grant: 1) { id } }",
        )
        .expect("a valid document");
        assert_eq!(
            mutation_root_fields(&document, None),
            Some(vec!["removeResource".into(), "revokeLibraryGrant".into()])
        );
        let query = async_graphql::parser::parse_query("{ regions { totalCount } }").expect("a valid document");
        assert_eq!(mutation_root_fields(&query, None), None);
    }
}
