SELECT id, item, qty, price FROM orders ORDER BY id;
INSERT INTO orders (item, qty, price) VALUES ('fig', 5, 2.10);
UPDATE orders SET qty = qty + 1 WHERE qty < 5;
DELIMITER //
SELECT 1 AS one; UPDATE orders SET qty = 9 WHERE id = 1; SELECT 'two', 2 //
DELIMITER ;
SELECT * FROM missing_table;
SELECT 1; SELCT 2;
use other
SELECT DATABASE();
LOAD DATA LOCAL INFILE '@NOTES@' INTO TABLE notes FIELDS TERMINATED BY ',';
SELECT COUNT(*) FROM notes;
status
