-- SPDX-License-Identifier: Apache-2.0
-- The psql session recorded as psql_session.bin (see README.md).
CREATE TABLE IF NOT EXISTS orders (id int PRIMARY KEY, item text, qty int);
TRUNCATE orders;
INSERT INTO orders VALUES (1, 'apple', 3), (2, 'pear', 5);
UPDATE orders SET qty = qty + 1 WHERE id <= 2;
SELECT id, item, qty FROM orders ORDER BY id;
SELECT 1 AS a \; SELECT 'x;y' AS b \; DELETE FROM orders WHERE id = 2;
SELECT 1/0;
SELECT 1 \; SELECT 1/0 \; SELECT 3;
DO $$BEGIN RAISE NOTICE 'hello notice'; END$$;
LISTEN chan;
NOTIFY chan, 'payload';
COPY orders TO STDOUT;
COPY orders (id, item, qty) FROM STDIN;
3	plum	7
4	kiwi	9
\.
SELECT count(*) FROM orders;
SET application_name = 'shop-app';
BEGIN;
SELECT * FROM nosuchtable;
ROLLBACK;
