-- Seed database for fuzz_sqlite: scripts/fuzz.sh turns each .sql here into a .db with sqlite3.
CREATE TABLE liability_journal (doc TEXT PRIMARY KEY, type TEXT, card TEXT, amount, currency TEXT, posted_at TEXT, memo TEXT);
INSERT INTO liability_journal VALUES ('JE-1', 'load', 'GC-1', '100.00', 'USD', '2026-03-02T10:00:00Z', 'GiftCo EV-1001');
INSERT INTO liability_journal VALUES ('JE-2', 'redemption', 'GC-1', -30.5, 'USD', '2026-03-05T12:30:00Z', NULL);
INSERT INTO liability_journal VALUES ('JE-3', 'load', 'GC-2', 100, 'EUR', 'not a time', 'x');
INSERT INTO liability_journal VALUES (NULL, 'load', 'GC-3', '1', 'USD', '2026-03-02T10:00:00Z', '');
INSERT INTO liability_journal VALUES ('JE-5', 'load', 'GC-4', x'00ff', 'USD', '2026-03-02T10:00:00Z', 'blob amount');
INSERT INTO liability_journal VALUES ('JE-6', 'load', 'GC-5', '1e308', 'XYZ', '2026-03-02', 'GiftCo EV-');
