-- Up Migration
-- The changed days' customer reference is checked where it comes from: every day recorded is
-- an order's day, and that order's customer passed the orders foreign key in the same
-- statement (or was stored so before). A second check here cost the import a lookup and a
-- row lock on the customer for every (customer, day) a page records, some 10 % of a page's
-- database time on a bulk import (BENCHMARKS.md, import).
ALTER TABLE import_affected_days DROP CONSTRAINT import_affected_days_customer_id_fkey;

-- Down Migration
ALTER TABLE import_affected_days ADD CONSTRAINT import_affected_days_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers (id);
