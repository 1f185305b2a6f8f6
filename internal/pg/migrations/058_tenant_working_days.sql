-- tenants/payouts: a tenant's calendar can make a weekend day a working day.
--
-- China's official holiday arrangement moves working days (调休): around
-- 国庆 and 春节 the State Council makes some Saturdays or Sundays working
-- days (Saturday 2026-10-10 after the 2026 National Day holiday). The
-- tenant's calendar could only take days out of Monday to Friday, so every
-- working-day deadline (a payout's due date, the compensation due date an
-- entitlement decision shows) counted such a Saturday as a weekend and fell
-- a day later than the brand's own calendar.
--
-- kind says what a listed day is: a holiday (no working day falls on it;
-- every row so far, and the default) or a working_day (a Saturday or Sunday
-- that is worked). A working day on Monday to Friday says nothing the
-- calendar does not know already and is refused here as in the API; a
-- holiday on a weekend is harmless and allowed. Adding a column with a
-- constant default rewrites nothing; the checks scan the table once. The
-- table keeps its row security (forced, by tenant and mode: 010, 021) and
-- its audit trigger (022), which records the new column like the others.
ALTER TABLE tenant_holidays
  ADD COLUMN kind text NOT NULL DEFAULT 'holiday'
    CONSTRAINT tenant_holidays_kind_check CHECK (kind IN ('holiday', 'working_day')),
  ADD CONSTRAINT tenant_holidays_working_day_weekend_check
    CHECK (kind <> 'working_day' OR extract(isodow FROM day) IN (6, 7));
