-- The read-only PostgreSQL role Grafana's "yuqing PostgreSQL" data source connects as
-- (provisioning/datasources/yuqing.yml). Grafana runs whatever SQL a dashboard holds, so it
-- gets SELECT on the tables its panels read and nothing else. Run once as the owner of the
-- yuqing database, with the password of your choice:
--
--   psql -d yuqing -v password="'…'" -f deploy/grafana/postgres-readonly.sql
--
-- crates/dashboards/tests/live.rs runs every panel query as this role.
CREATE ROLE grafana_reader LOGIN PASSWORD :password;
GRANT CONNECT ON DATABASE yuqing TO grafana_reader;
GRANT USAGE ON SCHEMA public TO grafana_reader;
GRANT SELECT ON events, event_history, alerts, deliveries, cases, case_audit TO grafana_reader;
ALTER ROLE grafana_reader SET statement_timeout = '30s';
ALTER ROLE grafana_reader SET default_transaction_read_only = on;
