-- The case workflow (yuqing-cases), PostgreSQL. Keep in step with ../sqlite/0002_cases.sql.
-- A case follows one event: 待受理 → 已受理 → 已转办 → 已反馈 → 已回应 → 办结 (with reassignment and
-- reopening). case_audit is the append-only record of who did what and when (accountability:
-- 迟报、漏报); a trigger refuses UPDATE, DELETE and TRUNCATE on it.
CREATE TABLE cases (
    case_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    grade TEXT NOT NULL,
    state TEXT NOT NULL,
    department TEXT,
    region TEXT,
    assigned_to TEXT,
    url TEXT,
    first_seen_ms BIGINT NOT NULL,
    first_alert_ms BIGINT NOT NULL,
    opened_ms BIGINT NOT NULL,
    accepted_ms BIGINT,
    assigned_ms BIGINT,
    feedback_ms BIGINT,
    responded_ms BIGINT,
    closed_ms BIGINT,
    feedback TEXT,
    response_channel TEXT,
    response_link TEXT,
    deadlines TEXT NOT NULL,
    reopened BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX cases_state ON cases (state, grade);
CREATE INDEX cases_assigned ON cases (assigned_to);
CREATE INDEX cases_first_alert ON cases (first_alert_ms);

CREATE TABLE case_audit (
    id BIGSERIAL PRIMARY KEY,
    case_id TEXT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_state TEXT,
    to_state TEXT,
    department TEXT,
    detail TEXT NOT NULL,
    alert_id TEXT,
    UNIQUE (case_id, alert_id)
);
CREATE INDEX case_audit_case ON case_audit (case_id, id);
CREATE INDEX case_audit_at ON case_audit (at_ms);

CREATE FUNCTION yuqing_case_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'case_audit is append-only: % is not allowed', TG_OP;
END;
$$;

CREATE TRIGGER case_audit_no_change BEFORE UPDATE OR DELETE ON case_audit
    FOR EACH ROW EXECUTE FUNCTION yuqing_case_audit_append_only();

CREATE TRIGGER case_audit_no_truncate BEFORE TRUNCATE ON case_audit
    FOR EACH STATEMENT EXECUTE FUNCTION yuqing_case_audit_append_only();
