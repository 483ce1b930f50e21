//! Writes that target an existing row are checked against that row's owner, not only against
//! the input: an EDITOR cannot take over another region's report by submitting a revision of
//! it, and a revision cannot move a report to another region (issue 12, item 2).

use std::path::PathBuf;

use fulian_graph::domain::access::Role;
use fulian_graph::import::import;
use serde_json::{Value, json};

use crate::common::{TestApp, admin, error_code, only_error, token};
use crate::on_both_backends;

on_both_backends!(
    an_editor_cannot_revise_a_national_report,
    an_editor_cannot_revise_a_neighbouring_regions_report,
    editors_revise_their_own_reports_but_not_into_another_region,
    an_import_cannot_move_a_report,
    other_writes_check_the_existing_rows_owner,
    writes_that_list_themselves_under_another_region_are_refused,
);

const SUBMIT: &str = r#"mutation($input: ReportSubmissionInput!) { submitReport(input: $input) {
    status report { key revision region { code } } } }"#;

const AUDIT: &str = r#"query($actor: String) { auditLog(filter: { actor: $actor }, first: 10) {
    edges { node { operation outcome errorCode target detail } } } }"#;

/// A submission of `key` about `region` with one case statistic there.
fn report(key: &str, region: &str, received: i64) -> Value {
    json!({
        "key": key, "title": format!("Takeover attempt {key}"), "region": region,
        "period": { "start": "2022-01-01", "end": "2022-12-31" },
        "figures": { "caseStatistics": [{
            "id": "c1", "scope": { "region": region }, "period": { "start": "2022-01-01", "end": "2022-12-31" },
            "excerpt": "fixture", "category": "JUDICIAL_AID", "received": { "value": received },
            "peopleAided": { "value": 1 } }] }
    })
}

/// The current revision of a report key, with its region.
async fn current(app: &TestApp, key: &str) -> Value {
    let data = app
        .data(
            "{ reports(first: 100, filter: { includeSuperseded: true }) { edges { node { key revision isCurrent region { code } } } } }",
            json!({}),
        )
        .await;
    let current: Vec<Value> = data["reports"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["key"] == key && n["isCurrent"] == true)
        .collect();
    assert_eq!(current.len(), 1, "one current revision of {key}: {current:#?}");
    current[0].clone()
}

async fn guangxi_judicial_aid(app: &TestApp) -> Value {
    app.data(r#"{ caseSummary(scope: { region: "450000" }) { peopleAided amountAided } }"#, json!({})).await["caseSummary"]
        [0]
        .clone()
}

async fn audit(app: &TestApp, actor: &str) -> Vec<Value> {
    let data = app.data_as(Some(&admin()), AUDIT, json!({ "actor": actor })).await;
    data["auditLog"]["edges"].as_array().unwrap().iter().map(|e| e["node"].clone()).collect()
}

async fn an_editor_cannot_revise_a_national_report(app: TestApp) {
    let editor = token("tongzhou-editor", Role::Editor, Some("110112"));
    let before = current(&app, "china-womens-news-regional-page").await;
    assert_eq!(guangxi_judicial_aid(&app).await["peopleAided"], 4962);
    let body = app
        .graphql_as(Some(&editor), SUBMIT, json!({ "input": report("china-womens-news-regional-page", "110112", 5) }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let message = only_error(&body)["message"].as_str().unwrap();
    assert!(message.contains("is not this editor's to revise"), "{message}");
    assert!(body["data"]["submitReport"].is_null());
    // Nothing changed: the national report is still current, Guangxi's figures still count.
    assert_eq!(current(&app, "china-womens-news-regional-page").await, before);
    assert_eq!(guangxi_judicial_aid(&app).await["peopleAided"], 4962);
    // The attempt is in the audit log as denied.
    let entries = audit(&app, "tongzhou-editor").await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    assert_eq!(
        (entries[0]["operation"].as_str(), entries[0]["outcome"].as_str()),
        (Some("submitReport"), Some("DENIED"))
    );
}

async fn an_editor_cannot_revise_a_neighbouring_regions_report(app: TestApp) {
    // 房山 (110111) is 通州's (110112) neighbour, not part of its subtree.
    let editor = token("tongzhou-editor", Role::Editor, Some("110112"));
    let before = current(&app, "fangshan-good-neighbour-feature").await;
    for region in ["110112", "110111"] {
        let input = report("fangshan-good-neighbour-feature", region, 5);
        let body = app.graphql_as(Some(&editor), SUBMIT, json!({ "input": input })).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "as {region}: {body:#}");
    }
    assert_eq!(current(&app, "fangshan-good-neighbour-feature").await, before);
    assert_eq!(before["region"]["code"], "110111");
}

async fn editors_revise_their_own_reports_but_not_into_another_region(app: TestApp) {
    let editor = token("tongzhou-editor", Role::Editor, Some("110112"));
    let created =
        app.data_as(Some(&editor), SUBMIT, json!({ "input": report("liyuan-2022", "110112-liyuan", 5) })).await;
    assert_eq!(created["submitReport"]["status"], "CREATED");
    let revised =
        app.data_as(Some(&editor), SUBMIT, json!({ "input": report("liyuan-2022", "110112-liyuan", 6) })).await;
    assert_eq!(revised["submitReport"]["status"], "REVISED");
    assert_eq!(revised["submitReport"]["report"]["revision"], 2);
    // Moving it to 台湖 (also in the editor's subtree), or by an ADMIN: refused, with the reason.
    for who in [editor.clone(), admin()] {
        let body =
            app.graphql_as(Some(&who), SUBMIT, json!({ "input": report("liyuan-2022", "110112-taihu", 7) })).await;
        assert_eq!(error_code(&body), "BAD_USER_INPUT", "{body:#}");
        let problem = &only_error(&body)["extensions"]["problems"][0];
        assert_eq!(problem["path"], "input.region");
        assert_eq!(
            problem["message"],
            "report \"liyuan-2022\" is about region 110112-liyuan; a revision cannot move it to region 110112-taihu \
             (submit it under a new key instead)"
        );
    }
    let now = current(&app, "liyuan-2022").await;
    assert_eq!((now["revision"].clone(), now["region"]["code"].clone()), (json!(2), json!("110112-liyuan")));
}

async fn an_import_cannot_move_a_report(app: TestApp) {
    // The import's file names the national report's key with a region: refused at its row,
    // nothing written.
    let services = app.services.clone();
    let text = std::fs::read_to_string(fixture("reports.csv")).unwrap();
    let header = text.lines().next().unwrap();
    let columns: Vec<&str> = header.split(',').collect();
    let mut cells = vec![String::new(); columns.len()];
    for (name, value) in [
        ("report_key", "china-womens-news-regional-page"),
        ("report_title", "Moved"),
        ("report_region", "110112"),
        ("kind", "CASE_STATISTIC"),
        ("id", "c1"),
        ("scope_region", "110112"),
        ("period_start", "2022-01-01"),
        ("period_end", "2022-12-31"),
        ("excerpt", "fixture"),
        ("category", "JUDICIAL_AID"),
        ("received", "5"),
    ] {
        cells[columns.iter().position(|c| *c == name).unwrap()] = value.to_owned();
    }
    let path =
        std::env::temp_dir().join(format!("fulian-move-{}-{:?}.csv", std::process::id(), std::thread::current().id()));
    std::fs::write(&path, format!("{header}\n{}\n", cells.join(","))).unwrap();
    let before = current(&app, "china-womens-news-regional-page").await;
    let problems = import(&services, &path).await.unwrap().expect_err("refused");
    let _ = std::fs::remove_file(&path);
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert!(
        rendered.iter().any(|p| p.starts_with("row 2, column report_region: report \"china-womens-news-regional-page\" is about no region; a revision cannot move it to region 110112")),
        "{rendered:#?}"
    );
    assert_eq!(current(&app, "china-womens-news-regional-page").await, before);
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import").join(name)
}

/// The other writes that name an existing row (organizations, libraries, resources, grants)
/// are decided by that row's owner: an editor of 通州 cannot change 房山's rows by naming them.
async fn other_writes_check_the_existing_rows_owner(app: TestApp) {
    let admin = admin();
    let editor = token("tongzhou-editor", Role::Editor, Some("110112"));
    // 房山's organization: updating it (even into 通州) is refused.
    let created = app
        .data_as(
            Some(&admin),
            "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "key": "fangshan-home", "name": "房山妇女之家", "kind": "WOMENS_HOME", "regionCode": "110111" } }),
        )
        .await;
    let org = created["createOrganization"]["id"].clone();
    let body = app
        .graphql_as(
            Some(&editor),
            "mutation($id: ID!, $i: OrganizationInput!) { updateOrganization(id: $id, input: $i) { id } }",
            json!({ "id": org, "i": { "key": "fangshan-home", "name": "通州的了", "kind": "WOMENS_HOME", "regionCode": "110112" } }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    // The same key through createOrganization: a conflict, not a takeover.
    let body = app
        .graphql_as(
            Some(&editor),
            "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }",
            json!({ "i": { "key": "fangshan-home", "name": "通州的了", "kind": "WOMENS_HOME", "regionCode": "110112" } }),
        )
        .await;
    assert_eq!(error_code(&body), "CONFLICT", "{body:#}");
    // 房山's private library, its resource and its grant: out of the editor's reach.
    let library = app
        .data_as(
            Some(&admin),
            "mutation($i: LibraryInput!) { createLibrary(input: $i) { id } }",
            json!({ "i": { "key": "fangshan-lib", "name": "房山资源库", "ownerRegion": "110111", "visibility": "PRIVATE" } }),
        )
        .await["createLibrary"]["id"]
        .clone();
    let resource = app
        .data_as(
            Some(&admin),
            "mutation($l: ID!, $i: ResourceInput!) { addResource(library: $l, input: $i) { id } }",
            json!({ "l": library, "i": { "key": "fangshan-res", "kind": "VENUE", "name": "房山场地" } }),
        )
        .await["addResource"]["id"]
        .clone();
    let grant = app
        .data_as(
            Some(&admin),
            "mutation($l: ID!) { grantLibraryAccess(library: $l, region: \"120000\", permission: READ) { id } }",
            json!({ "l": library }),
        )
        .await["grantLibraryAccess"]["id"]
        .clone();
    let attempts = [
        (
            "mutation($l: ID!) { updateLibrary(id: $l, input: { key: \"fangshan-lib\", name: \"通州的\", ownerRegion: \"110112\", visibility: PUBLIC }) { id } }",
            json!({ "l": library }),
        ),
        ("mutation($l: ID!) { addLibraryCategory(library: $l, name: \"x\") }", json!({ "l": library })),
        (
            "mutation($r: ID!) { updateResource(id: $r, input: { key: \"fangshan-res\", kind: VENUE, name: \"通州的\" }) { id } }",
            json!({ "r": resource }),
        ),
        ("mutation($r: ID!) { removeResource(id: $r) }", json!({ "r": resource })),
        (
            "mutation($l: ID!) { addResource(library: $l, input: { key: \"tz-res\", kind: VENUE, name: \"x\" }) { id } }",
            json!({ "l": library }),
        ),
        ("mutation($g: Int!) { revokeLibraryGrant(grant: $g) { id } }", json!({ "g": grant })),
        (
            "mutation($l: ID!) { grantLibraryAccess(library: $l, region: \"110112\", permission: CONTRIBUTE) { id } }",
            json!({ "l": library }),
        ),
    ];
    for (query, variables) in attempts {
        let body = app.graphql_as(Some(&editor), query, variables).await;
        let code = error_code(&body);
        assert!(code == "FORBIDDEN" || code == "NOT_FOUND", "{query}: {body:#}");
    }
    // Nothing changed.
    let seen = app
        .data_as(
            Some(&admin),
            "query($l: ID!) { resourceLibrary(id: $l) { name visibility ownerRegion { code } categories { name } grants { active region { code } } } }",
            json!({ "l": library }),
        )
        .await;
    assert_eq!(
        seen["resourceLibrary"],
        json!({ "name": "房山资源库", "visibility": "PRIVATE", "ownerRegion": { "code": "110111" }, "categories": [],
                "grants": [{ "active": true, "region": { "code": "120000" } }] })
    );
    let resources = app
        .data_as(
            Some(&admin),
            "query($l: ID!) { resources(filter: { library: $l }) { edges { node { key name } } } }",
            json!({ "l": library }),
        )
        .await;
    assert_eq!(resources["resources"]["edges"], json!([{ "node": { "key": "fangshan-res", "name": "房山场地" } }]));
}

/// A write that makes a row appear among another region's own is a write there (found by an
/// outside-in attack): a job fair's host regions list it under each host; an organization's
/// parent lists it among its children. An EDITOR may name only regions of their subtree.
async fn writes_that_list_themselves_under_another_region_are_refused(app: TestApp) {
    let editor = token("tongzhou-editor", Role::Editor, Some("110112"));
    let fairs = |code: &str| {
        let app = &app;
        let code = code.to_owned();
        async move {
            let data = app
                .data(
                    &format!(r#"{{ region(code: "{code}") {{ jobFairs(first: 100) {{ totalCount }} }} }}"#),
                    json!({}),
                )
                .await;
            data["region"]["jobFairs"]["totalCount"].as_i64().unwrap()
        }
    };
    let before = fairs("110111").await;
    let fair = |hosts: Vec<&str>| {
        json!({
        "key": "fixture-hosted-fair", "title": "Hosted fair", "region": "110112",
        "figures": { "jobFairs": [{ "id": "f", "scope": { "region": "110112" }, "excerpt": "fixture",
            "heldOn": "2031-05-01", "hostRegions": hosts, "positionsOffered": { "value": 10 } }] } })
    };
    let body = app.graphql_as(Some(&editor), SUBMIT, json!({ "input": fair(vec!["110112-liyuan", "110111"]) })).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    assert_eq!(fairs("110111").await, before, "nothing listed under 房山");
    let body = app.graphql_as(Some(&editor), SUBMIT, json!({ "input": fair(vec!["110112-liyuan"]) })).await;
    assert_eq!(body["data"]["submitReport"]["status"], "CREATED", "hosts within the subtree: {body:#}");

    // An organization attached to 房山's: refused on create and on update; within the subtree, fine.
    let create = "mutation($i: OrganizationInput!) { createOrganization(input: $i) { id } }";
    let fangshan = app
        .data_as(Some(&admin()), create, json!({ "i": { "key": "fangshan-parent", "name": "房山妇联", "kind": "WOMENS_HOME", "regionCode": "110111" } }))
        .await["createOrganization"]["id"]
        .clone();
    let own = app
        .data_as(Some(&editor), create, json!({ "i": { "key": "tongzhou-parent", "name": "通州妇联", "kind": "WOMENS_HOME", "regionCode": "110112" } }))
        .await["createOrganization"]["id"]
        .clone();
    let child = |parent: &Value| json!({ "i": { "key": "tongzhou-child", "name": "通州之家", "kind": "WOMENS_HOME", "regionCode": "110112", "parent": parent } });
    let body = app.graphql_as(Some(&editor), create, child(&fangshan)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let created = app.data_as(Some(&editor), create, child(&own)).await["createOrganization"]["id"].clone();
    let update = "mutation($id: ID!, $i: OrganizationInput!) { updateOrganization(id: $id, input: $i) { id } }";
    let mut moved = child(&fangshan);
    moved["id"] = created;
    let body = app.graphql_as(Some(&editor), update, moved).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let children = app
        .data(
            r#"query($id: ID!) { node(id: $id) { ... on Organization { children { key } } } }"#,
            json!({ "id": fangshan }),
        )
        .await;
    assert_eq!(children["node"]["children"], json!([]), "{children}");

    // A library's curator and a resource's region and provider likewise.
    let create_library = "mutation($i: LibraryInput!) { createLibrary(input: $i) { id } }";
    let library_input = |curator: &Value| {
        json!({ "i": { "key": "tongzhou-curated", "name": "通州库", "ownerRegion": "110112",
        "visibility": "PUBLIC", "curator": curator } })
    };
    let body = app.graphql_as(Some(&editor), create_library, library_input(&fangshan)).await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body:#}");
    let library = app.data_as(Some(&editor), create_library, library_input(&own)).await["createLibrary"]["id"].clone();
    let add = "mutation($l: ID!, $i: ResourceInput!) { addResource(library: $l, input: $i) { id } }";
    let resource = |region: &str, provider: &Value| {
        json!({ "l": library, "i": { "key": "tongzhou-venue", "kind": "VENUE",
        "name": "通州场地", "region": region, "provider": provider } })
    };
    for (region, provider) in [("440307", &own), ("110112", &fangshan)] {
        let body = app.graphql_as(Some(&editor), add, resource(region, provider)).await;
        assert_eq!(error_code(&body), "FORBIDDEN", "{region}: {body:#}");
    }
    let listed = app.data(r#"{ resources(filter: { region: "440307" }) { totalCount } }"#, json!({})).await;
    let planted = listed["resources"]["totalCount"].as_i64().unwrap();
    app.data_as(Some(&editor), add, resource("110112-liyuan", &own)).await;
    let after = app.data(r#"{ resources(filter: { region: "440307" }) { totalCount } }"#, json!({})).await;
    assert_eq!(after["resources"]["totalCount"].as_i64().unwrap(), planted, "nothing listed under 龙岗");
}
