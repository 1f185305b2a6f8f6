package tenants

import (
	"fmt"

	"github.com/servicenet/servicenet/internal/i18n"
)

// Money is an amount in integer minor units (fen for CNY) with its ISO 4217
// currency. Amounts are never floats.
type Money struct {
	Amount   int64  `json:"amount" doc:"Amount in minor units (fen for CNY): 3000 is 30.00." example:"3000"`
	Currency string `json:"currency" pattern:"^[A-Z]{3}$" doc:"ISO 4217 currency; must be the tenant's currency." example:"CNY"`
}

// Text shows the amount in major units with its currency, as reasons and
// messages write it: 650.00 CNY.
func (m Money) Text() string {
	return fmt.Sprintf("%d.%02d %s", m.Amount/100, m.Amount%100, m.Currency)
}

// MaxMoneyAmount bounds every amount (100 million in major units).
const MaxMoneyAmount = 10_000_000_000

// CheckMoney validates m at loc ("purchase_price") against the tenant's
// currency: the amount non-negative and bounded, the currency the tenant's.
func CheckMoney(v *Validation, loc string, m Money, currency string) {
	switch {
	case m.Amount < 0:
		v.AddMsg(loc+".amount", i18n.M("common.must_not_be_negative"), m.Amount)
	case m.Amount > MaxMoneyAmount:
		v.AddMsg(loc+".amount", i18n.M("common.max_minor_units", "Max", int64(MaxMoneyAmount)), m.Amount)
	}
	if m.Currency != currency {
		v.AddMsg(loc+".currency", i18n.M("common.tenant_currency", "Currency", currency), m.Currency)
	}
}
