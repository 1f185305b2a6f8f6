package pg

import (
	"fmt"

	"github.com/jackc/pgx/v5"
)

// QueueSettingsLanguage is QueueSettings that also reads the tenant's
// default language into lang, from the same row in the same statement:
// for a caller that needs both (an intake reckons its dates with the
// settings and tells the customer in the tenant's language).
func QueueSettingsLanguage(b *pgx.Batch, s *TenantSettings, lang *string) {
	b.Queue(`SELECT time_zone, currency, default_language FROM tenants WHERE id = app_current_tenant()`).QueryRow(func(row pgx.Row) error {
		var zone, currency string
		if err := row.Scan(&zone, &currency, lang); err != nil {
			return fmt.Errorf("tenant settings: %w", err)
		}
		var err error
		*s, err = settingsOf(zone, currency)
		return err
	})
}
