-- The ERP's gift card liability journal (NetSuite-like), one line per posting.
-- seam reads data/erp.db, built from this file:  sqlite3 data/erp.db < data/erp_liability.sql
CREATE TABLE liability_journal (
  doc       TEXT PRIMARY KEY,   -- journal entry number
  type      TEXT NOT NULL,      -- load, redemption, refund_to_credit, adjustment
  card      TEXT NOT NULL,
  amount    TEXT NOT NULL,      -- signed: loads raise the liability, redemptions lower it
  currency  TEXT NOT NULL,
  posted_at TEXT NOT NULL,
  memo      TEXT
);
INSERT INTO liability_journal VALUES
  ('JE-7001', 'load',             'GC-1001', '100.00', 'USD', '2026-03-02T10:05:00Z', 'GiftCo EV-1001'),
  ('JE-7002', 'redemption',       'GC-1001', '-30.00', 'USD', '2026-03-05T12:40:00Z', 'GiftCo EV-1002'),
  ('JE-7003', 'load',             'GC-1002', '50.00',  'USD', '2026-03-03T09:20:00Z', 'GiftCo EV-1003'),
  ('JE-7004', 'redemption',       'GC-1002', '-45.00', 'USD', '2026-03-08T16:10:00Z', 'GiftCo EV-1004'),
  ('JE-7005', 'refund_to_credit', 'GC-1002', '15.00',  'USD', '2026-03-12T11:05:00Z', 'GiftCo EV-1005'),
  -- GC-1003: the load EV-1006 never arrived (middleware said "synced"); what followed did.
  ('JE-7007', 'redemption',       'GC-1003', '-20.00', 'USD', '2026-03-06T18:30:00Z', 'GiftCo EV-1007'),
  ('JE-7008', 'refund_to_credit', 'GC-1003', '5.00',   'USD', '2026-03-15T10:10:00Z', 'GiftCo EV-1008'),
  ('JE-7009', 'load',             'GC-1004', '80.00',  'USD', '2026-03-06T08:05:00Z', 'GiftCo EV-1009'),
  -- GC-1004: the redemption was posted twice (a retried webhook).
  ('JE-7010', 'redemption',       'GC-1004', '-40.00', 'USD', '2026-03-09T13:50:00Z', 'GiftCo EV-1010'),
  ('JE-7011', 'redemption',       'GC-1004', '-40.00', 'USD', '2026-03-09T13:52:00Z', 'GiftCo EV-1010'),
  -- GC-1005: the load was keyed in by hand with the wrong amount.
  ('JE-7012', 'load',             'GC-1005', '75.00',  'USD', '2026-03-10T09:30:00Z', 'GiftCo EV-1011'),
  ('JE-7013', 'adjustment',       'GC-1005', '-2.50',  'USD', '2026-03-20T09:10:00Z', 'GiftCo EV-1012'),
  ('JE-7014', 'redemption',       'GC-1001', '-10.00', 'USD', '2026-03-21T15:15:00Z', 'GiftCo EV-1013'),
  ('JE-7015', 'load',             'GC-1006', '25.00',  'USD', '2026-03-22T11:10:00Z', 'GiftCo EV-1014');
