// Package catalog owns the brand's product catalog: product models with
// their warranty terms, parts, versioned price lists and the quotes priced
// from them.
//
// A price list version takes effect on its effective_from date (in the
// tenant's time zone) and stays in effect until the next version's date; the
// version in effect on a date is the one with the greatest effective_from on
// or before it. Versions are immutable once created. A quote keeps the
// version it was priced with and its lines, so re-reading it never reprices
// it.
package catalog

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// Event types of the catalog context.
const (
	TypeProductModelCreated = "product_model.created"
	TypeProductModelUpdated = "product_model.updated"
	TypePriceListCreated    = "price_list.created"
)

// Categories are the product categories of models and price list rows.
var Categories = []string{
	"washer", "refrigerator", "air_conditioner", "tv", "water_heater", "kitchen",
	"small_appliance", "phone", "laptop", "camera", "tablet",
}

// DataCategories are the categories whose units hold the customer's data
// (files, photos, accounts): what is done to the data is agreed with the
// customer before the unit leaves them (seed 001: 硬盘数据备份).
var DataCategories = []string{"phone", "laptop", "camera", "tablet"}

// StoragePartCategories are the part categories whose replacement, on a
// unit of DataCategories, touches the customer's data: storage (a hard
// disk, an SSD, a flash module) and mainboard (the storage of phones,
// tablets and many laptops is soldered on it). With a
// software_tuning cause (reinstalling or maintaining the system), they are
// the work the customer is warned of first (seed 001 三.2(1) 注: 对硬盘进行
// 操作时…特别是在重装系统或对系统进行维护操作时,有可能会发生数据丢失).
var StoragePartCategories = []string{"storage", "mainboard"}

// ServiceKinds are the kinds of work a price list prices labor for.
var ServiceKinds = []string{"install", "repair", "maintenance", "carry_in", "remote"}

// Service is the catalog context's entry point. Each exported method runs in
// one tenant-scoped transaction.
type Service struct {
	DB  pg.DB
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// inTx runs fn in one transaction of p's tenant and returns what it read or
// wrote, its error translated (pg.Translate): the body of a method that
// reads or writes one thing.
func inTx[T any](ctx context.Context, s *Service, p tenants.Principal, fn func(tx pg.TenantTx) (T, error)) (T, error) {
	var out T
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var err error
		out, err = fn(tx)
		return err
	})
	return out, pg.Translate(err)
}

const dateLayout = time.DateOnly

var (
	// slug is the shape of part categories and specification keys.
	slug = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	// catalogNumber is the shape of model and part numbers: "BCD-470WGHFD", "KFR-35GW/N8MJA3".
	catalogNumber = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9./_+-]{0,63}$`)
)

func validDate(s string) bool {
	_, err := time.Parse(dateLayout, s)
	return err == nil
}

func checkName(v *tenants.Validation, loc, s string) {
	if n := len([]rune(strings.TrimSpace(s))); n < 1 || n > 200 {
		v.AddMsg(loc, i18n.M("common.length", "Min", 1, "Max", 200), s)
	}
}

func checkOneOf(v *tenants.Validation, loc, s string, allowed []string) bool {
	if !slices.Contains(allowed, s) {
		v.AddMsg(loc, i18n.M("common.one_of", "Values", strings.Join(allowed, ", ")), s)
		return false
	}
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }

// indexed returns a locator of the items of the list at loc: "loc[i]suffix".
func indexed(loc, suffix string) func(int) string {
	return func(i int) string { return fmt.Sprintf("%s[%d]%s", loc, i, suffix) }
}

func money(amount int64, currency string) tenants.Money {
	return tenants.Money{Amount: amount, Currency: currency}
}

// checkIDs adds a problem at at(i) for every ids[i] that is malformed,
// duplicated or not a row of table (product_models or parts).
func checkIDs(ctx context.Context, tx pg.TenantTx, v *tenants.Validation, at func(i int) string, table, prefix, what string, ids []string) error {
	seen := map[string]bool{}
	var lookup []string
	for _, id := range ids {
		if tenants.ValidID(prefix, id) && !seen[id] {
			lookup = append(lookup, id)
		}
		seen[id] = true
	}
	found := map[string]bool{}
	if len(lookup) > 0 {
		rows, err := tx.Query(ctx, `SELECT id FROM `+table+` WHERE tenant_id = $1 AND id = ANY($2)`, tx.TenantID, lookup)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return err
			}
			found[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	dup := map[string]bool{}
	for i, id := range ids {
		switch {
		case !found[id]:
			v.AddMsg(at(i), i18n.M("catalog.no_such", "What", what), id)
		case dup[id]:
			v.AddMsg(at(i), i18n.M("common.duplicate"), id)
		}
		dup[id] = true
	}
	return nil
}
