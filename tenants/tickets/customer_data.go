package tickets

import (
	"slices"
	"time"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/catalog"
	"github.com/servicenet/servicenet/tenants/warranty/entitlement"
)

// dataBackups are the answers to what was agreed with the customer about
// the data on a unit that holds it: at a carry-in (CarryInInput.DataBackup)
// and before work on its storage or system (DataLossAcknowledgement).
var dataBackups = []string{"backed_up", "not_backed_up", "no_data"}

// checkDataBackup adds to v a data_backup statement at loc that is not one
// of dataBackups (empty is left to the caller: required or not).
func checkDataBackup(v *tenants.Validation, loc, backup string) {
	if backup != "" && !slices.Contains(dataBackups, backup) {
		v.AddMsg(loc, i18n.M("common.one_of", "Values", joinComma(dataBackups)), backup)
	}
}

// holdsData says whether the ticket's unit holds the customer's data
// (catalog.DataCategories).
func (t *Ticket) holdsData() bool {
	return t.Category != nil && slices.Contains(catalog.DataCategories, *t.Category)
}

// DataLossAcknowledgement is the customer's signed acknowledgement, before
// the technician works on the storage or the system of a unit that holds
// the customer's data, that the data may be lost, and what the customer
// chose about it (seed 001 三.2(1) 注: 在重装系统或对系统进行维护操作时,有可能
// 会发生数据丢失或系统崩溃,提醒客户先把重要数据进行备份,并让用户签字).
type DataLossAcknowledgement struct {
	CustomerAgreed bool   `json:"customer_agreed" doc:"The customer was told that the work may lose the data on the unit or leave its system unusable, was advised to back up what matters, and signed the service form to go ahead. Required (true) for the work that needs the acknowledgement: without it the diagnosis is 422 at diagnosis.data_loss.customer_agreed." example:"true"`
	DataBackup     string `json:"data_backup,omitempty" enum:"backed_up,not_backed_up,no_data" doc:"What the customer chose about the data before the work: backed_up, the data that matters was backed up; not_backed_up, the customer was told it may be lost and chose not to back it up; no_data, the unit holds none. Required with customer_agreed, 422 at diagnosis.data_loss.data_backup without it." example:"backed_up"`
	// Work, ReceiptNumber and RecordedAt are set by the diagnosis.
	Work          []string   `json:"work,omitempty" readOnly:"true" doc:"What of the diagnosed work touches the unit's storage or system, which the acknowledgement was asked for: software_tuning (a system reinstall or maintenance), and the part categories storage and mainboard, of the diagnosis or of the quoted parts." example:"[\"software_tuning\"]"`
	ReceiptNumber string     `json:"receipt_number,omitempty" readOnly:"true" doc:"The acknowledgement is the one the customer signed on this carry-in receipt (its customer_agreed and data_backup): a carried-in unit diagnosed at the node without a new one." example:"RC-SN-20261130-00042-1"`
	RecordedAt    *time.Time `json:"recorded_at,omitempty" readOnly:"true" doc:"When the acknowledgement was recorded: the diagnosis, or the carry-in whose receipt it is." example:"2026-12-01T09:40:00+08:00"`
}

// dataWork is what of diagnosis d and the work priced by q touches the
// storage or the system of a unit that holds the customer's data: the
// software_tuning cause, then the part categories of
// catalog.StoragePartCategories the diagnosis names or the quote's parts
// are of, each once. Empty for a unit that holds no data.
func (t *Ticket) dataWork(d Diagnosis, q catalog.Quote) []string {
	if !t.holdsData() {
		return nil
	}
	var work []string
	add := func(w string) {
		if !slices.Contains(work, w) {
			work = append(work, w)
		}
	}
	if d.Cause == string(entitlement.CauseSoftware) {
		add(d.Cause)
	}
	for _, pc := range d.PartCategories {
		if slices.Contains(catalog.StoragePartCategories, pc) {
			add(pc)
		}
	}
	for _, l := range q.Lines {
		if l.PartCategory != "" && slices.Contains(catalog.StoragePartCategories, l.PartCategory) {
			add(l.PartCategory)
		}
	}
	return work
}

// acknowledgeDataLoss requires, for work on the storage or system of a
// unit that holds the customer's data (dataWork), the customer's signed
// acknowledgement in d.DataLoss (customer_agreed, data_backup: invalid at
// each otherwise) and records it with the work it was asked for. A unit
// carried in whose receipt the customer signed with a data_backup
// statement has it there: without a new one, the receipt's is recorded.
// Other work needs none; an acknowledgement given anyway is kept.
func (c *change) acknowledgeDataLoss(d *Diagnosis, q catalog.Quote) error {
	t := c.T
	now := c.now
	ack := d.DataLoss
	if ack != nil {
		ack.Work, ack.ReceiptNumber, ack.RecordedAt = nil, "", &now
	}
	work := t.dataWork(*d, q)
	if len(work) == 0 {
		return nil
	}
	if ack == nil && t.State == StateCarryIn && t.CarryIn != nil && t.CarryIn.CustomerAgreed && t.CarryIn.DataBackup != "" {
		received := t.CarryIn.ReceivedAt
		ack = &DataLossAcknowledgement{CustomerAgreed: true, DataBackup: t.CarryIn.DataBackup,
			ReceiptNumber: t.CarryIn.ReceiptNumber, RecordedAt: &received}
	}
	if ack == nil {
		ack = &DataLossAcknowledgement{}
	}
	v := &tenants.Validation{}
	m := i18n.M("tickets.data_loss_unacknowledged", "Category", deref(t.Category), "Work", joinComma(work))
	if !ack.CustomerAgreed {
		v.AddMsg("diagnosis.data_loss.customer_agreed", m, ack.CustomerAgreed)
	}
	if ack.DataBackup == "" {
		v.AddMsg("diagnosis.data_loss.data_backup", m, nil)
	}
	if err := v.Err(); err != nil {
		return err
	}
	ack.Work = work
	d.DataLoss = ack
	return nil
}
