//! Resource libraries: who sees which library, whose contact details are shown, grants that
//! expire or are revoked, and text search over Chinese names, descriptions and tags.

use std::time::Duration;

use chrono::Utc;
use fulian_graph::domain::access::Role;
use fulian_graph::domain::libraries::{Contact, Library, Owner, Resource, ResourceKind, Visibility};
use fulian_graph::store::libraries::insert_library;
use serde_json::{Value, json};

use crate::common::{TestApp, error_code, token};
use crate::on_both_backends;

on_both_backends!(
    visibility_follows_ownership_partnership_and_grants,
    contact_details_are_masked_for_everyone_else,
    grants_expire_and_revoke_at_once,
    search_finds_chinese_substrings_in_a_sensible_order,
    writes_need_contribute_and_refusals_write_nothing,
    listing_libraries_costs_the_same_statements_for_two_or_nine,
);

fn resource(key: &str, name: &str, tags: &[&str], contact: bool) -> Resource {
    let now = Utc::now();
    Resource {
        id: 0,
        key: key.into(),
        library_id: None,
        category_id: None,
        kind: ResourceKind::Service,
        name: name.into(),
        description: Some(format!("{name}（测试数据）")),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        region_code: Some("110112".into()),
        provider_id: None,
        contact: if contact {
            Contact {
                name: Some("王女士".into()),
                phone: Some("010-00000000".into()),
                email: Some("wang@example.cn".into()),
            }
        } else {
            Contact::default()
        },
        report_id: None,
        excerpt: None,
        created_by: "test".into(),
        updated_by: "test".into(),
        created_at: now,
        updated_at: now,
    }
}

/// A library of 通州 with the given visibility, holding one resource with contact details.
async fn fixture(app: &TestApp, key: &str, visibility: Visibility) -> String {
    let library = Library {
        id: 0,
        key: key.into(),
        name: format!("测试资源库 {key}"),
        description: None,
        owner: Owner::Region("110112".into()),
        curator_id: None,
        visibility,
        reported_size: None,
        report_id: None,
        excerpt: None,
    };
    let resources = [resource(&format!("{key}-home-care"), "巾帼家政服务队", &["家政", "养老"], true)];
    let id = insert_library(&app.store, &library, &resources).await.unwrap();
    fulian_graph::graphql::ids::NodeId::ResourceLibrary(id).encode().0
}

const LIBRARIES: &str = "query($shared: Boolean) { resourceLibraries(first: 100, filter: { sharedWithMe: $shared }) { edges { node { key access { read contacts contribute manage } } } } }";
const GRANT: &str = "mutation($library: ID!, $region: String, $alliance: String, $permission: Permission!, $expiresAt: DateTime) {
    grantLibraryAccess(library: $library, region: $region, alliance: $alliance, permission: $permission, expiresAt: $expiresAt) { id active permission } }";

async fn keys(app: &TestApp, who: Option<&str>, shared: bool) -> Vec<String> {
    let data = app.data_as(who, LIBRARIES, json!({ "shared": shared })).await;
    data["resourceLibraries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["key"].as_str().unwrap().to_owned())
        .collect()
}

async fn access_of(app: &TestApp, who: &str, key: &str) -> Value {
    let data = app.data_as(Some(who), LIBRARIES, json!({ "shared": false })).await;
    data["resourceLibraries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["node"]["key"] == key)
        .map(|e| e["node"]["access"].clone())
        .unwrap_or(Value::Null)
}

async fn visibility_follows_ownership_partnership_and_grants(app: TestApp) {
    let private = fixture(&app, "fixture-private", Visibility::Private).await;
    let owner = token("li", Role::Editor, Some("110112"));
    let owner_viewer = token("zhou", Role::Viewer, Some("110112-liyuan"));
    let partner = token("wu", Role::Viewer, Some("120114")); // 武清: 通武廊 partner of 通州
    let stranger = token("fang", Role::Editor, Some("110111")); // 房山: no alliance with 通州
    // Anonymous: public libraries only; the 通武廊 library (PARTNERS) and the private one are hidden.
    let anonymous = keys(&app, None, false).await;
    assert!(anonymous.contains(&"yunhe-liren-talent-pool".to_owned()));
    assert!(!anonymous.contains(&"tongwulang-she-economy-resource-pool".to_owned()));
    assert!(!anonymous.contains(&"fixture-private".to_owned()));
    // A partner region sees the alliance library, not the private one.
    let partner_keys = keys(&app, Some(&partner), false).await;
    assert!(partner_keys.contains(&"tongwulang-she-economy-resource-pool".to_owned()));
    assert!(!partner_keys.contains(&"fixture-private".to_owned()));
    // The owner's editor manages it; a viewer below the owner reads it.
    assert_eq!(
        access_of(&app, &owner, "fixture-private").await,
        json!({ "read": true, "contacts": true, "contribute": true, "manage": true })
    );
    assert_eq!(
        access_of(&app, &owner_viewer, "fixture-private").await,
        json!({ "read": true, "contacts": false, "contribute": false, "manage": false })
    );
    // Writes are confined to the editor's subtree: an editor below the owner reads like a
    // viewer there and may neither manage, contribute, see contacts nor grant; an editor above
    // the owner manages it. The same for an alliance's library: editors of a member or above.
    let editor_below = token("li-liyuan", Role::Editor, Some("110112-liyuan"));
    assert_eq!(
        access_of(&app, &editor_below, "fixture-private").await,
        json!({ "read": true, "contacts": false, "contribute": false, "manage": false })
    );
    let body = app
        .graphql_as(
            Some(&editor_below),
            GRANT,
            json!({ "library": private, "region": "110111", "permission": "CONTRIBUTE" }),
        )
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN", "{body}");
    let editor_above = token("bj", Role::Editor, Some("110000"));
    assert_eq!(
        access_of(&app, &editor_above, "fixture-private").await,
        json!({ "read": true, "contacts": true, "contribute": true, "manage": true })
    );
    let alliance_library = "tongwulang-she-economy-resource-pool";
    assert_eq!(access_of(&app, &owner, alliance_library).await["manage"], true, "a member's editor");
    assert_eq!(access_of(&app, &editor_above, alliance_library).await["manage"], true, "above a member");
    assert_eq!(
        access_of(&app, &editor_below, alliance_library).await,
        json!({ "read": true, "contacts": false, "contribute": false, "manage": false }),
        "below a member"
    );
    // A stranger: not listed, not found by ID, and not through a filter or node either.
    assert!(!keys(&app, Some(&stranger), false).await.contains(&"fixture-private".to_owned()));
    let body = app
        .graphql_as(Some(&stranger), "query($id: ID!) { resourceLibrary(id: $id) { name } }", json!({ "id": private }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    let body = app
        .graphql_as(
            Some(&stranger),
            "query($id: ID!) { resources(filter: { library: $id }) { totalCount } }",
            json!({ "id": private }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    let node = app.data_as(Some(&stranger), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": private })).await;
    assert_eq!(node["node"], Value::Null);
    // The stranger cannot grant themselves access; the attempt is refused and nothing changes.
    let body = app
        .graphql_as(Some(&stranger), GRANT, json!({ "library": private, "region": "110111", "permission": "READ" }))
        .await;
    assert_eq!(error_code(&body), "NOT_FOUND");
    // The owner grants READ to 房山: its people read it (contacts included), see it as shared.
    app.data_as(Some(&owner), GRANT, json!({ "library": private, "region": "110111", "permission": "READ" })).await;
    assert_eq!(
        access_of(&app, &stranger, "fixture-private").await,
        json!({ "read": true, "contacts": true, "contribute": false, "manage": false })
    );
    assert_eq!(keys(&app, Some(&stranger), true).await, ["fixture-private"]);
    // CONTRIBUTE to the 通武廊 alliance: a 廊坊 editor may contribute.
    app.data_as(
        Some(&owner),
        GRANT,
        json!({ "library": private, "alliance": "tongwulang", "permission": "CONTRIBUTE" }),
    )
    .await;
    let langfang = token("lang", Role::Editor, Some("131000"));
    assert_eq!(access_of(&app, &langfang, "fixture-private").await["contribute"], true);
    assert_eq!(access_of(&app, &partner, "fixture-private").await["contribute"], false, "a viewer never contributes");
}

async fn contact_details_are_masked_for_everyone_else(app: TestApp) {
    fixture(&app, "fixture-public", Visibility::Public).await;
    let query = r#"{ resources(filter: { search: "巾帼家政服务队" }) { edges { node { name contact { name phone email } contactMasked } } } }"#;
    let anonymous = app.data(query, json!({})).await;
    let node = &anonymous["resources"]["edges"][0]["node"];
    assert_eq!(node["name"], "巾帼家政服务队");
    assert_eq!(node["contact"], json!({ "name": null, "phone": null, "email": null }));
    assert_eq!(node["contactMasked"], true);
    let viewer = app.data_as(Some(&token("zhou", Role::Viewer, Some("110112"))), query, json!({})).await;
    assert_eq!(viewer["resources"]["edges"][0]["node"]["contactMasked"], true, "the owner's viewers see no contacts");
    let editor = app.data_as(Some(&token("li", Role::Editor, Some("110112"))), query, json!({})).await;
    let node = &editor["resources"]["edges"][0]["node"];
    assert_eq!(node["contact"]["phone"], "010-00000000");
    assert_eq!(node["contactMasked"], false);
    // Editors of the regions above see them too; an editor below the owner does not.
    let above = app.data_as(Some(&token("bj", Role::Editor, Some("110000"))), query, json!({})).await;
    assert_eq!(above["resources"]["edges"][0]["node"]["contactMasked"], false);
    let below = app.data_as(Some(&token("ly", Role::Editor, Some("110112-liyuan"))), query, json!({})).await;
    assert_eq!(below["resources"]["edges"][0]["node"]["contactMasked"], true, "an editor below the owner");
    // The same for an entry of the directory (no library), by its region.
    app.store
        .execute_script(
            "INSERT INTO resources (key, kind, name, tags, region_code, contact_name, contact_phone, created_by, updated_by) \
             VALUES ('fixture-directory', 'SERVICE', '目录测试服务站', '', '110112', '王五', '010-11111111', 't', 't')",
        )
        .await
        .unwrap();
    let directory = r#"{ resources(filter: { search: "目录测试服务站" }) { edges { node { key contactMasked } } } }"#;
    for (region, masked) in [("110112", false), ("110000", false), ("110112-liyuan", true), ("110111", true)] {
        let data = app.data_as(Some(&token("e", Role::Editor, Some(region))), directory, json!({})).await;
        let node = &data["resources"]["edges"][0]["node"];
        assert_eq!(
            (&node["library"], &node["contactMasked"]),
            (&Value::Null, &json!(masked)),
            "editor of {region}: {data}"
        );
    }
}

async fn grants_expire_and_revoke_at_once(app: TestApp) {
    let private = fixture(&app, "fixture-expiring", Visibility::Private).await;
    let owner = token("li", Role::Editor, Some("110112"));
    let fangshan = token("fang", Role::Viewer, Some("110111"));
    // An expiry in the past is refused.
    let past = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let body = app
        .graphql_as(
            Some(&owner),
            GRANT,
            json!({ "library": private, "region": "110111", "permission": "READ", "expiresAt": past }),
        )
        .await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    // A grant that expires in two seconds works, then stops by itself.
    let soon = (Utc::now() + chrono::Duration::seconds(2)).to_rfc3339();
    app.data_as(
        Some(&owner),
        GRANT,
        json!({ "library": private, "region": "110111", "permission": "READ", "expiresAt": soon }),
    )
    .await;
    assert!(keys(&app, Some(&fangshan), false).await.contains(&"fixture-expiring".to_owned()));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!keys(&app, Some(&fangshan), false).await.contains(&"fixture-expiring".to_owned()), "expired");
    // A grant revoked: gone at once; revoking is audited; the owner still sees the revoked grant.
    let grant =
        app.data_as(Some(&owner), GRANT, json!({ "library": private, "region": "110111", "permission": "READ" })).await;
    let id = grant["grantLibraryAccess"]["id"].clone();
    assert!(keys(&app, Some(&fangshan), false).await.contains(&"fixture-expiring".to_owned()));
    let revoked = app
        .data_as(Some(&owner), "mutation($g: Int!) { revokeLibraryGrant(grant: $g) { active } }", json!({ "g": id }))
        .await;
    assert_eq!(revoked["revokeLibraryGrant"]["active"], false);
    assert!(!keys(&app, Some(&fangshan), false).await.contains(&"fixture-expiring".to_owned()), "revoked");
    let log = app
        .data_as(
            Some(&crate::common::admin()),
            r#"{ auditLog(filter: { operation: "revokeLibraryGrant" }) { totalCount } }"#,
            json!({}),
        )
        .await;
    assert_eq!(log["auditLog"]["totalCount"], 1);
}

async fn search_finds_chinese_substrings_in_a_sensible_order(app: TestApp) {
    let search = |text: &str| json!({ "text": text });
    let query = "query($text: String) { resources(first: 50, filter: { search: $text }) { totalCount edges { node { name tags description } } } }";
    // Two characters (scanned) and three (through the trigram index) both work.
    let homes = app.data(query, search("家政")).await;
    let names: Vec<&str> =
        homes["resources"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"凤香家政") && names.contains(&"北京今日东方家政服务有限公司"), "{names:?}");
    let mushrooms = app.data(query, search("食用菌")).await;
    let edges = mushrooms["resources"]["edges"].as_array().unwrap();
    let names: Vec<&str> = edges.iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"精通松原食用菌合作社") && names.contains(&"北京金阳食用菌菌种生产专业合作社"),
        "{names:?}"
    );
    // Name matches come before matches in tags or descriptions only.
    let first_other = names.iter().position(|n| !n.contains("食用菌")).unwrap_or(names.len());
    assert!(names[first_other..].iter().all(|n| !n.contains("食用菌")), "{names:?}");
    assert!(first_other >= 2, "{names:?}");
    for edge in edges {
        let node = &edge["node"];
        let text = format!("{} {} {}", node["name"], node["description"], node["tags"]);
        assert!(text.contains("食用菌"), "{text}");
    }
    // Paging through search results keeps the order.
    let page = app.data("{ resources(first: 2, filter: { search: \"食用菌\" }) { pageInfo { endCursor } edges { node { name } } } }", json!({})).await;
    let after = page["resources"]["pageInfo"]["endCursor"].clone();
    let next = app
        .data("query($a: String) { resources(first: 50, after: $a, filter: { search: \"食用菌\" }) { edges { node { name } } } }", json!({ "a": after }))
        .await;
    let next: Vec<&str> =
        next["resources"]["edges"].as_array().unwrap().iter().map(|e| e["node"]["name"].as_str().unwrap()).collect();
    assert_eq!(next, names[2..].to_vec());
    let none = app.data(query, search("不存在的资源名称")).await;
    assert_eq!(none["resources"]["totalCount"], 0);
}

const CREATE_LIBRARY: &str =
    "mutation($input: LibraryInput!) { createLibrary(input: $input) { id key visibility access { manage } } }";
const ADD: &str = "mutation($library: ID!, $input: ResourceInput!) { addResource(library: $library, input: $input) { id name createdBy contactMasked } }";

async fn count_in(app: &TestApp, who: &str, library: &Value) -> i64 {
    app.data_as(
        Some(who),
        "query($l: ID!) { resources(filter: { library: $l }) { totalCount } }",
        json!({ "l": library }),
    )
    .await["resources"]["totalCount"]
        .as_i64()
        .unwrap()
}

async fn writes_need_contribute_and_refusals_write_nothing(app: TestApp) {
    let owner = token("li", Role::Editor, Some("110112"));
    let input = json!({ "key": "tz-home-services", "name": "通州家政服务资源库", "ownerRegion": "110112", "visibility": "PRIVATE" });
    // Another region's editor may not create a library for 通州.
    let body = app
        .graphql_as(Some(&token("fang", Role::Editor, Some("110111"))), CREATE_LIBRARY, json!({ "input": input }))
        .await;
    assert_eq!(error_code(&body), "FORBIDDEN");
    let created = app.data_as(Some(&owner), CREATE_LIBRARY, json!({ "input": input })).await;
    let library = created["createLibrary"]["id"].clone();
    assert_eq!(created["createLibrary"]["access"]["manage"], true);
    // Again: the same library; the key with other data: a conflict.
    let again = app.data_as(Some(&owner), CREATE_LIBRARY, json!({ "input": input })).await;
    assert_eq!(again["createLibrary"]["id"], library);
    let mut other = input.clone();
    other["name"] = json!("别的名字");
    assert_eq!(error_code(&app.graphql_as(Some(&owner), CREATE_LIBRARY, json!({ "input": other })).await), "CONFLICT");
    // A category tree: 家政 > 育婴.
    let add_category =
        "mutation($l: ID!, $p: Int, $n: String!) { addLibraryCategory(library: $l, parent: $p, name: $n) }";
    let top = app.data_as(Some(&owner), add_category, json!({ "l": library, "n": "家政" })).await["addLibraryCategory"]
        .clone();
    let child = app.data_as(Some(&owner), add_category, json!({ "l": library, "p": top, "n": "育婴" })).await["addLibraryCategory"].clone();
    // Moving 家政 under 育婴 would make a loop; renaming is fine.
    let update_category = "mutation($l: ID!, $c: Int!, $p: Int, $n: String!) { updateLibraryCategory(library: $l, category: $c, parent: $p, name: $n) }";
    let body =
        app.graphql_as(Some(&owner), update_category, json!({ "l": library, "c": top, "p": child, "n": "家政" })).await;
    assert_eq!(error_code(&body), "BAD_USER_INPUT");
    app.data_as(Some(&owner), update_category, json!({ "l": library, "c": child, "p": top, "n": "育婴护理" })).await;
    let tree = app
        .data_as(
            Some(&owner),
            "query($l: ID!) { resourceLibrary(id: $l) { categories { name parentId } } }",
            json!({ "l": library }),
        )
        .await;
    assert_eq!(tree["resourceLibrary"]["categories"][1], json!({ "name": "育婴护理", "parentId": top }));
    let resource = json!({ "key": "tz-nanny-team", "kind": "SERVICE", "name": "育婴师服务队", "tags": ["家政", "育婴"],
        "region": "110112", "category": child, "contact": { "name": "李女士", "phone": "010-11111111" } });
    let added = app.data_as(Some(&owner), ADD, json!({ "library": library, "input": resource })).await;
    assert_eq!(added["addResource"]["createdBy"], "li");
    assert_eq!(added["addResource"]["contactMasked"], false);
    let in_top = app
        .data_as(
            Some(&owner),
            "query($c: Int) { resources(filter: { category: $c }) { totalCount } }",
            json!({ "c": top }),
        )
        .await;
    assert_eq!(in_top["resources"]["totalCount"], 1, "a category includes its sub-categories");
    // A READ grantee may read but not contribute: refused, nothing written, on record.
    let grant = "mutation($l: ID!, $r: String, $a: String, $p: Permission!) { grantLibraryAccess(library: $l, region: $r, alliance: $a, permission: $p) { id } }";
    app.data_as(Some(&owner), grant, json!({ "l": library, "r": "110111", "p": "READ" })).await;
    let reader = token("fang", Role::Editor, Some("110111"));
    let second = json!({ "key": "tz-elder-care", "kind": "SERVICE", "name": "居家养老服务", "tags": ["家政"] });
    assert_eq!(
        error_code(&app.graphql_as(Some(&reader), ADD, json!({ "library": library, "input": second })).await),
        "FORBIDDEN"
    );
    assert_eq!(count_in(&app, &owner, &library).await, 1);
    let log = app
        .data_as(
            Some(&crate::common::admin()),
            r#"{ auditLog(filter: { actor: "fang", operation: "addResource" }) { edges { node { outcome } } } }"#,
            json!({}),
        )
        .await;
    assert_eq!(log["auditLog"]["edges"][0]["node"]["outcome"], "DENIED");
    // A stranger does not even find the library.
    let stranger = token("shen", Role::Editor, Some("440307"));
    assert_eq!(
        error_code(&app.graphql_as(Some(&stranger), ADD, json!({ "library": library, "input": second })).await),
        "NOT_FOUND"
    );
    // CONTRIBUTE to the 通武廊 alliance: a 廊坊 editor adds, changes and removes.
    app.data_as(Some(&owner), grant, json!({ "l": library, "a": "tongwulang", "p": "CONTRIBUTE" })).await;
    let langfang = token("lang", Role::Editor, Some("131000"));
    let added = app.data_as(Some(&langfang), ADD, json!({ "library": library, "input": second })).await;
    assert_eq!(added["addResource"]["createdBy"], "lang");
    let id = added["addResource"]["id"].clone();
    let mut changed = second.clone();
    changed["name"] = json!("居家养老上门服务");
    let updated = app
        .data_as(
            Some(&langfang),
            "mutation($id: ID!, $input: ResourceInput!) { updateResource(id: $id, input: $input) { name } }",
            json!({ "id": id, "input": changed }),
        )
        .await;
    assert_eq!(updated["updateResource"]["name"], "居家养老上门服务");
    let found =
        app.data_as(Some(&owner), r#"{ resources(filter: { search: "上门服务" }) { totalCount } }"#, json!({})).await;
    assert_eq!(found["resources"]["totalCount"], 1, "the search index follows updates");
    app.data_as(Some(&langfang), "mutation($id: ID!) { removeResource(id: $id) }", json!({ "id": id })).await;
    assert_eq!(count_in(&app, &owner, &library).await, 1);
    let gone =
        app.data_as(Some(&owner), r#"{ resources(filter: { search: "上门服务" }) { totalCount } }"#, json!({})).await;
    assert_eq!(gone["resources"]["totalCount"], 0, "and removals");
}

async fn listing_libraries_costs_the_same_statements_for_two_or_nine(app: TestApp) {
    let admin = crate::common::admin();
    let query = "query($n: Int) { resourceLibraries(first: $n) { edges { node { key categories { name }
        grants { permission } curator { name } ownerRegion { name } report { title } } } } }";
    // Access is computed from libraries and grants read once per data version: warm that first.
    app.data_as(Some(&admin), query, json!({ "n": 1 })).await;
    let mut counts = Vec::new();
    for n in [2, 9] {
        let before = app.store.statements();
        let data = app.data_as(Some(&admin), query, json!({ "n": n })).await;
        assert_eq!(data["resourceLibraries"]["edges"].as_array().unwrap().len(), n);
        counts.push(app.store.statements() - before);
    }
    assert_eq!(counts[0], counts[1], "2 libraries took {} statements, 9 took {}", counts[0], counts[1]);
}
