-- Owned by tenants/tickets: ticket_number_days
--
-- Ticket numbers without a lock: SN-YYYYMMDD-NNNNN, numbered per tenant and
-- per day (the tenant's zone), from a sequence per tenant.
--
-- The counter row of 011 was locked from the intake's numbering to its
-- COMMIT, so concurrent intakes of one tenant queued behind each other. A
-- sequence never blocks: nextval is outside transactions. A day's numbers
-- are the tenant sequence's values minus the day's base, the sequence's
-- last value when the day's first intake asked; only that first intake
-- writes a row (ticket_number_days), and only intakes racing it wait for
-- its commit. The price is the sequence's: a rolled-back intake leaves a
-- gap in the day's numbers.
--
-- The sequences belong to the owner role (a trigger creates one per new
-- tenant); the application role reaches them only through
-- next_ticket_number, a SECURITY DEFINER function that serves the tenant of
-- the current transaction.

CREATE TABLE ticket_number_days (
  tenant_id text   NOT NULL REFERENCES tenants (id),
  day       date   NOT NULL,
  base      bigint NOT NULL,
  PRIMARY KEY (tenant_id, day)
);
SELECT enable_tenant_rls('ticket_number_days');

CREATE FUNCTION ticket_number_sequence(tenant text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'ticket_number_' || tenant $$;

CREATE FUNCTION create_ticket_number_sequence() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
BEGIN
  EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I AS bigint CACHE 1', ticket_number_sequence(NEW.id));
  RETURN NEW;
END $$;

CREATE TRIGGER tenants_ticket_number_sequence AFTER INSERT ON tenants
  FOR EACH ROW EXECUTE FUNCTION create_ticket_number_sequence();

DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT id FROM tenants LOOP
    EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I AS bigint CACHE 1', ticket_number_sequence(t.id));
  END LOOP;
END $$;

-- next_ticket_number is the current tenant's next ticket number for the day
-- at `at` in its zone.
CREATE FUNCTION next_ticket_number(at timestamptz) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
  tenant text := app_current_tenant();
  seq    text;
  d      date;
  b      bigint;
  last   bigint;
  called boolean;
  n      bigint;
BEGIN
  IF tenant IS NULL THEN
    RAISE EXCEPTION 'next_ticket_number: no tenant in this transaction';
  END IF;
  SELECT (at AT TIME ZONE time_zone)::date INTO d FROM tenants WHERE id = tenant;
  seq := quote_ident(ticket_number_sequence(tenant));
  SELECT base INTO b FROM ticket_number_days WHERE tenant_id = tenant AND day = d;
  IF NOT FOUND THEN
    EXECUTE 'SELECT last_value, is_called FROM ' || seq INTO last, called;
    INSERT INTO ticket_number_days (tenant_id, day, base)
      VALUES (tenant, d, CASE WHEN called THEN last ELSE last - 1 END)
      ON CONFLICT DO NOTHING RETURNING base INTO b;
    IF b IS NULL THEN -- the day's first intake was another's, now committed
      SELECT base INTO b FROM ticket_number_days WHERE tenant_id = tenant AND day = d;
    END IF;
  END IF;
  n := nextval(seq::regclass) - b;
  RETURN 'SN-' || to_char(d, 'YYYYMMDD') || '-' || lpad(n::text, greatest(5, length(n::text)), '0');
END $$;

REVOKE ALL ON FUNCTION next_ticket_number(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION next_ticket_number(timestamptz) TO servicenet_app;

DROP TABLE ticket_counters;
