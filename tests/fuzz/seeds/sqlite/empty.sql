CREATE TABLE liability_journal (doc TEXT, type TEXT, card TEXT, amount TEXT, currency TEXT, posted_at TEXT, memo TEXT);
