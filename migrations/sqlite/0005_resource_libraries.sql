-- Resource libraries shared between partner regions: libraries, their category trees,
-- resources, and sharing grants. Kept in lock-step with ../postgres/0005_resource_libraries.sql.

CREATE TABLE resource_libraries (
    id                   INTEGER PRIMARY KEY,
    key                  TEXT NOT NULL UNIQUE,
    name                 TEXT NOT NULL,
    description          TEXT,
    owner_region         TEXT REFERENCES regions (code),
    owner_alliance       INTEGER REFERENCES alliances (id),
    curator_id           INTEGER REFERENCES organizations (id),
    visibility           TEXT NOT NULL CHECK (visibility IN ('PRIVATE', 'PARTNERS', 'PUBLIC')),
    reported_size        INTEGER,
    reported_size_q      TEXT,
    reported_size_unit   TEXT,
    report_id            INTEGER REFERENCES reports (id),
    excerpt              TEXT,
    created_at           TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at           TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((owner_region IS NULL) <> (owner_alliance IS NULL))
);

CREATE TABLE library_categories (
    id          INTEGER PRIMARY KEY,
    library_id  INTEGER NOT NULL REFERENCES resource_libraries (id),
    parent_id   INTEGER REFERENCES library_categories (id),
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    UNIQUE (library_id, parent_id, name)
);

-- A resource belongs to a library, or (library_id NULL) to the public directory of its region.
CREATE TABLE resources (
    id             INTEGER PRIMARY KEY,
    key            TEXT NOT NULL UNIQUE,
    library_id     INTEGER REFERENCES resource_libraries (id),
    category_id    INTEGER REFERENCES library_categories (id),
    kind           TEXT NOT NULL,
    name           TEXT NOT NULL,
    description    TEXT,
    tags           TEXT NOT NULL DEFAULT '',
    region_code    TEXT REFERENCES regions (code),
    provider_id    INTEGER REFERENCES organizations (id),
    contact_name   TEXT,
    contact_phone  TEXT,
    contact_email  TEXT,
    report_id      INTEGER REFERENCES reports (id),
    excerpt        TEXT,
    created_by     TEXT NOT NULL,
    updated_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    updated_at     TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX resources_library ON resources (library_id, id);
CREATE INDEX resources_region ON resources (region_code, id);

CREATE TABLE library_grants (
    id                INTEGER PRIMARY KEY,
    library_id        INTEGER NOT NULL REFERENCES resource_libraries (id),
    grantee_region    TEXT REFERENCES regions (code),
    grantee_alliance  INTEGER REFERENCES alliances (id),
    permission        TEXT NOT NULL CHECK (permission IN ('READ', 'CONTRIBUTE')),
    granted_by        TEXT NOT NULL,
    granted_at        TEXT NOT NULL,
    expires_at        TEXT,
    revoked_at        TEXT,
    revoked_by        TEXT,
    created_at        TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CHECK ((grantee_region IS NULL) <> (grantee_alliance IS NULL))
);
CREATE INDEX library_grants_library ON library_grants (library_id);

-- Text search over names, descriptions and tags: substring matching that works for CJK.
CREATE VIRTUAL TABLE resources_search USING fts5(name, description, tags, content='resources', content_rowid='id', tokenize='trigram');
CREATE TRIGGER resources_search_insert AFTER INSERT ON resources BEGIN
    INSERT INTO resources_search (rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags);
END;
CREATE TRIGGER resources_search_delete AFTER DELETE ON resources BEGIN
    INSERT INTO resources_search (resources_search, rowid, name, description, tags) VALUES ('delete', old.id, old.name, old.description, old.tags);
END;
CREATE TRIGGER resources_search_update AFTER UPDATE ON resources BEGIN
    INSERT INTO resources_search (resources_search, rowid, name, description, tags) VALUES ('delete', old.id, old.name, old.description, old.tags);
    INSERT INTO resources_search (rowid, name, description, tags) VALUES (new.id, new.name, new.description, new.tags);
END;
