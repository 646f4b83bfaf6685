SELECT 'it''s; fine', E'back\'slash;\\', "quoted;""ident" -- trailing; comment
FROM t;;
;  -- empty statements
INSERT INTO t VALUES (U&'\0041', e'\n');
SELECT 1 /* no terminator */
