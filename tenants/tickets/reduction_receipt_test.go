package tickets_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/tenants/tickets"
)

// Seed 000 (五.收费): 严格按收费标准进行收费,并开具收据 … 根据中心批示处理. The
// receipt of a completion the centre reduced lists what the customer pays
// after the reduction, line by line, and its lines add up to its total;
// the completion's event says what the reductions took off. Out of
// warranty, the demo price list charges labour 120.00 + visit 50.00 =
// 170.00; the centre takes 50.00 off before the completion, the brand
// bearing it: the customer pays 120.00. Before, the receipt listed the
// 170.00 of lines under a 120.00 total.
func TestRolledBackReducedCompletionsReceipt(t *testing.T) {
	e := newMoneyEnv(t)
	for _, c := range []struct {
		name      string
		reduction tickets.ReduceChargesInput
		lines     map[string]int64 // the customer's, by kind
	}{
		// the visit line named: the customer pays the labour only
		{"VisitFeeWaived", visitFeeWaived, map[string]int64{"labor": washerLabour}},
		// an amount: taken from the lines in their order, labour first
		{"FiftyOff", fiftyOff(), map[string]int64{"labor": washerLabour - washerVisit, "visit": washerVisit}},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := e.diagnosedOutOfWarranty(t)
			_, err := e.Tickets.ReduceCharges(e.Ctx, e.Admin, tk.ID, c.reduction, 0)
			require.NoError(t, err)
			tk = e.complete(t, tk.ID)
			customer, brand, _ := totals(t, tk)
			require.Equal(t, reducedRepair, customer)
			require.Equal(t, int64(washerVisit), brand, "the brand bears the 50.00")

			require.Len(t, tk.Receipts, 1)
			r := tk.Receipts[0]
			lines := map[string]int64{}
			var sum int64
			for _, l := range r.Lines {
				lines[l.Kind] += l.Amount.Amount
				sum += l.Amount.Amount
			}
			require.Equal(t, c.lines, lines)
			require.Equal(t, reducedRepair, r.Total.Amount)
			require.Equal(t, r.Total.Amount, sum, "the lines add up to the total")

			require.Equal(t, 1, e.Count(t, `SELECT count(*) FROM events WHERE tenant_id = $1 AND subject_id = $2
				AND type = 'ticket.completed' AND data->'reduction'->>'amount' = '5000' AND data->'reduction'->>'currency' = 'CNY'`, tk.ID),
				"the completion's event names the 50.00 the reduction took off")
		})
	}
}
