package stock

// Event types on the tenant feed. Data carries node_id and ticket_id (null
// when the change is not for a ticket). Requisitions for a ticket (Apply)
// emit no event of their own: the ticket action that calls Apply does.
const (
	TypeStockReceived  = "stock.received"
	TypeStockAdjusted  = "stock.adjusted"
	TypeLoanerCreated  = "loaner.created"
	TypeLoanerLent     = "loaner.lent"
	TypeLoanerReturned = "loaner.returned"
)
