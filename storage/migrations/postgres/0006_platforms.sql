-- slakeeper schema, version 6: the schema stops enumerating chat platforms.
--
-- A platform is whatever the program registers (platforms.go); the database
-- only checks that a name has the registry's form, so that a new platform
-- needs no migration.
ALTER TABLE person_identities DROP CONSTRAINT person_identities_platform_check;
ALTER TABLE person_identities ADD CONSTRAINT person_identities_platform_check CHECK (platform ~ '^[a-z0-9]+$');
ALTER TABLE channels DROP CONSTRAINT channels_platform_check;
ALTER TABLE channels ADD CONSTRAINT channels_platform_check CHECK (platform ~ '^[a-z0-9]+$');
