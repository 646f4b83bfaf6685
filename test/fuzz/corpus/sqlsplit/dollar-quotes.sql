-- mreg:no-transaction
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'a;b' || $x$;$x$ $body$;
SELECT $1, a$b, $$ ; $$ FROM t; /* outer /* nested ; */ still comment */
CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON t (a);
