-- The anchor: what a platform writes by hand today, PL/pgSQL row triggers
-- doing what pg_tenancy's C++ triggers do (version bump and superseded
-- version, one audit row per inserted, updated or deleted row).
CREATE FUNCTION bench.plpgsql_files_before_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (NEW.path, NEW.size_bytes, NEW.checksum) IS DISTINCT FROM
       (OLD.path, OLD.size_bytes, OLD.checksum) THEN
        NEW.version := OLD.version + 1;
    ELSE
        NEW.version := OLD.version;
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

CREATE FUNCTION bench.plpgsql_files_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    content_changed boolean;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO bench.file_access_log_plpgsql (organization_id, file_id, user_id, action, bytes)
        VALUES (NEW.organization_id, NEW.id, tenancy.current_user_id(), 'upload', NEW.size_bytes);
        RETURN NULL;
    ELSIF TG_OP = 'DELETE' THEN
        DELETE FROM bench.file_versions_plpgsql
        WHERE organization_id = OLD.organization_id AND file_id = OLD.id;
        INSERT INTO bench.file_access_log_plpgsql (organization_id, file_id, user_id, action)
        VALUES (OLD.organization_id, OLD.id, tenancy.current_user_id(), 'delete');
        RETURN NULL;
    END IF;
    content_changed := (NEW.path, NEW.size_bytes, NEW.checksum) IS DISTINCT FROM
                       (OLD.path, OLD.size_bytes, OLD.checksum);
    IF content_changed THEN
        INSERT INTO bench.file_versions_plpgsql
            (organization_id, file_id, version, path, size_bytes, checksum, created_by)
        VALUES (OLD.organization_id, OLD.id, OLD.version, OLD.path, OLD.size_bytes,
                OLD.checksum, tenancy.current_user_id());
    END IF;
    INSERT INTO bench.file_access_log_plpgsql (organization_id, file_id, user_id, action, bytes)
    VALUES (NEW.organization_id, NEW.id, tenancy.current_user_id(),
            CASE WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'delete'
                 WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'restore'
                 ELSE 'update' END::tenancy.file_action,
            CASE WHEN content_changed THEN NEW.size_bytes END);
    RETURN NULL;
END
$$;

CREATE TRIGGER files_before_update BEFORE UPDATE ON bench.files_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.plpgsql_files_before_update();
CREATE TRIGGER files_audit AFTER INSERT OR UPDATE OR DELETE ON bench.files_plpgsql
    FOR EACH ROW EXECUTE FUNCTION bench.plpgsql_files_audit();
