package api_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The receipt and the invoice over HTTP (seed 000, 五.收费: 开具收据,如用户
// 要求开发票,则必须给用户开发票; seed 003: 收费后为用户开示记录): an
// out-of-warranty washer repair charges the customer the demo price list's
// labour 120.00 + visit 50.00; the completion's receipt shows them, a bad
// taxpayer id is 422 at body.taxpayer_id with nothing changed, the invoice
// asked for is outstanding until recorded as issued, and the events say so.
func TestTicketReceiptAndInvoice(t *testing.T) {
	t.Parallel()
	f := newVisitFlow(t, "receipts")
	tk, start, key := f.scheduled(t, "RECEIPT-0001")
	id := tk["id"].(string)
	f.clock.Set(start.Add(-7 * time.Minute))
	ticketAct(t, f.env, key, id, "check-in", nil, http.StatusOK)
	f.clock.Set(start.Add(10 * time.Minute))
	f.diagnose(t, key, id)
	f.clock.Set(start.Add(50 * time.Minute))
	tk = f.complete(t, key, id)

	receipts := tk["receipts"].([]any)
	require.Len(t, receipts, 1)
	r := receipts[0].(map[string]any)
	assert.Equal(t, "PR-"+tk["number"].(string)+"-1", r["number"])
	assert.EqualValues(t, washerRepairAndVisit, amountOf(r["total"]), "labour 120.00 + visit 50.00")
	lines := map[string]int64{}
	for _, l := range r["lines"].([]any) {
		l := l.(map[string]any)
		lines[l["kind"].(string)] += amountOf(l["amount"])
	}
	assert.Equal(t, map[string]int64{"labor": 12000, "visit": 5000}, lines)
	assert.Equal(t, tk["technician_id"], r["technician_id"])
	assert.Equal(t, tk["node_id"], r["node_id"])
	completed := feedOf(t, f.env, f.d.AdminKey, "ticket.completed", id)
	require.Len(t, completed, 1)
	assert.Equal(t, r["number"], completed[0]["data"].(map[string]any)["receipt_number"])

	before := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)
	bad := f.env.Do(t, http.MethodPost, "/v1/tickets/"+id+"/invoice", key, map[string]any{"title_type": "company",
		"title": "青岛海尔路科技有限公司", "taxpayer_id": "91370212MA3C8BDN5P", "delivery": "mail"}, f.env.IfMatch(t, "/v1/tickets/"+id, key)...)
	assert.Equal(t, []string{"body.taxpayer_id"}, problemLocations(t, bad, http.StatusUnprocessableEntity))
	after := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, key, nil).JSON(t)
	assert.Equal(t, before["version"], after["version"], "nothing changed")

	tk = ticketAct(t, f.env, key, id, "invoice", map[string]any{"title_type": "company", "title": "青岛海尔路科技有限公司",
		"taxpayer_id": "91370212MA3C8BDN5D", "delivery": "mail"}, http.StatusOK)
	inv := tk["receipts"].([]any)[0].(map[string]any)["invoice"].(map[string]any)
	assert.Equal(t, tk["address"].(map[string]any)["line"], inv["address"].(map[string]any)["line"],
		"mailed to the ticket's address, masked for the technician as the ticket's is")
	clear := f.env.Do(t, http.MethodGet, "/v1/tickets/"+id, f.d.AdminKey, nil).JSON(t)
	assert.Equal(t, "人民路 9 号 1 单元 101", clear["receipts"].([]any)[0].(map[string]any)["invoice"].(map[string]any)["address"].(map[string]any)["line"],
		"the brand sees the address")
	assert.NotEmpty(t, tk["invoice_outstanding_since"])
	assert.Contains(t, listIDs(t, f.env, f.d.AdminKey, "/v1/tickets?invoice_outstanding=true"), id)
	assert.Len(t, feedOf(t, f.env, f.d.AdminKey, "ticket.invoice_requested", id), 1)

	tk = ticketAct(t, f.env, f.d.AdminKey, id, "invoice/issued", map[string]any{"invoice_number": "37021234", "issued_on": shanghaiToday(0)}, http.StatusOK)
	inv = tk["receipts"].([]any)[0].(map[string]any)["invoice"].(map[string]any)
	assert.Equal(t, "37021234", inv["number"])
	assert.Nil(t, tk["invoice_outstanding_since"], "the obligation is closed")
	assert.NotContains(t, listIDs(t, f.env, f.d.AdminKey, "/v1/tickets?invoice_outstanding=true"), id)
	issued := feedOf(t, f.env, f.d.AdminKey, "ticket.invoice_issued", id)
	require.Len(t, issued, 1)
	assert.Equal(t, "37021234", issued[0]["data"].(map[string]any)["invoice_number"])
}
