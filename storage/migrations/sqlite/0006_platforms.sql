-- slakeeper: foreign_keys=off
-- (person_identities and channels are rebuilt to change their CHECK.)
--
-- slakeeper schema, version 6: the schema stops enumerating chat platforms.
--
-- A platform is whatever the program registers (platforms.go); the database
-- only checks that a name has the registry's form, so that a new platform
-- needs no migration.
CREATE TABLE person_identities_v6 (
    platform          TEXT NOT NULL CHECK (platform <> '' AND platform NOT GLOB '*[^a-z0-9]*'),
    platform_user_id  TEXT NOT NULL,
    person_id         TEXT NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    PRIMARY KEY (platform, platform_user_id)
);
INSERT INTO person_identities_v6 (platform, platform_user_id, person_id)
    SELECT platform, platform_user_id, person_id FROM person_identities;
DROP TABLE person_identities;
ALTER TABLE person_identities_v6 RENAME TO person_identities;

CREATE TABLE channels_v6 (
    platform     TEXT NOT NULL CHECK (platform <> '' AND platform NOT GLOB '*[^a-z0-9]*'),
    chat_id      TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('customer', 'engineering', 'managers')),
    customer_id  TEXT REFERENCES customers (id),
    lang         TEXT NOT NULL CHECK (lang IN ('zh', 'en', 'both')),
    PRIMARY KEY (platform, chat_id),
    CHECK ((kind = 'customer') = (customer_id IS NOT NULL))
);
INSERT INTO channels_v6 (platform, chat_id, kind, customer_id, lang)
    SELECT platform, chat_id, kind, customer_id, lang FROM channels;
DROP TABLE channels;
ALTER TABLE channels_v6 RENAME TO channels;
