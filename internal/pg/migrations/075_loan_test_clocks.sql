-- tenants/stock: a loan to a ticket on a test clock lives on the clock.
--
-- A loaner lent for a ticket on a test clock (026) is lent and returned at
-- the ticket's clock time, and its due day is one of the clock's days; but
-- its overdue flag (GET /v1/loaners, ?overdue=true, a loaner's loan
-- history, a ticket's loan) was judged on the wall clock's today: after
-- advancing the clock ten days past the due day the loan was not overdue,
-- and a loan on a clock set in the past was overdue at once. The loan keeps
-- its clock (loaner_loans.test_clock_id; the loaner's current loan too,
-- loaners.test_clock_id), and is judged on the clock's today. NULL: the
-- wall clock.
ALTER TABLE loaner_loans ADD COLUMN test_clock_id text,
  ADD CONSTRAINT loaner_loans_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
ALTER TABLE loaners ADD COLUMN test_clock_id text,
  ADD CONSTRAINT loaners_test_clock_fkey FOREIGN KEY (tenant_id, livemode, test_clock_id)
    REFERENCES test_clocks (tenant_id, livemode, id);
