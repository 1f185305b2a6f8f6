package notifications

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
	"github.com/servicenet/servicenet/tenants/identity"
)

// Customer messages (purposes). Each is a template per language that the
// tenant may replace; its parameters are fixed (Purposes).
const (
	PurposeTicketReceived     = "ticket_received"
	PurposeTechnicianAssigned = "technician_assigned"
	PurposeRunningLate        = "running_late"
	PurposeOnTheWay           = "on_the_way"
	PurposePartsAwaited       = "parts_awaited"
	PurposeVisitRescheduled   = "visit_rescheduled"
	PurposeCompleted          = "completed"
	PurposeSignoffCode        = "signoff_code"
	PurposeCallbackDue        = "callback_due"
	PurposeClaimDecided       = "claim_decided"
	PurposePayoutSent         = "payout_sent"
)

// Purpose describes one customer message: when it is sent, whether a
// customer who opted out still gets it (Essential), its parameters and its
// built-in text per language.
type Purpose struct {
	Purpose   string            `json:"purpose" example:"technician_assigned"`
	When      string            `json:"when" doc:"The moment it is sent." example:"The appointment window is agreed with the customer (the technician is known)."`
	Essential bool              `json:"essential" doc:"Sent even to customers who opted out of non-essential messages (the sign-off code)." example:"false"`
	Params    []string          `json:"params" doc:"The parameters a template may use, as {name}." example:"[\"ticket_number\",\"technician_name\",\"licence_number\",\"window\"]"`
	Defaults  map[string]string `json:"defaults" doc:"The built-in text per language, used without a tenant template."`
}

// Purposes lists every customer message in the order of a ticket's life.
var Purposes = []Purpose{
	{PurposeTicketReceived, "A ticket is opened with a valid phone (or its phone is verified later).", false,
		[]string{"ticket_number"}, map[string]string{
			"zh-CN": "您的服务申请已受理，工单号 {ticket_number}。我们将尽快安排服务。",
			"en":    "We have received your service request, ticket {ticket_number}. We will arrange service shortly."}},
	{PurposeTechnicianAssigned, "The appointment window is agreed with the customer (the technician is known).", false,
		[]string{"ticket_number", "technician_name", "licence_number", "window"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：服务工程师{technician_name}（服务证号 {licence_number}）将于 {window} 上门。",
			"en":    "Ticket {ticket_number}: technician {technician_name} (licence {licence_number}) will visit {window}."}},
	{PurposeRunningLate, "The technician reports an arrival time after the agreed window's end.", false,
		[]string{"ticket_number", "technician_name", "new_time"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：很抱歉，工程师{technician_name}将晚到，预计 {new_time} 到达。",
			"en":    "Ticket {ticket_number}: sorry, technician {technician_name} is running late and expects to arrive at {new_time}."}},
	{PurposeOnTheWay, "The technician reports being on the way, in time.", false,
		[]string{"ticket_number", "technician_name", "eta"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：工程师{technician_name}已出发，预计 {eta} 到达。",
			"en":    "Ticket {ticket_number}: technician {technician_name} is on the way and expects to arrive at {eta}."}},
	{PurposePartsAwaited, "The repair waits for parts.", false,
		[]string{"ticket_number"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：维修所需配件正在调配中，到货后我们将与您预约新的上门时间。",
			"en":    "Ticket {ticket_number}: the parts for your repair are on their way; we will agree a new visit with you when they arrive."}},
	{PurposeVisitRescheduled, "The appointment moves (after parts arrived, or on request).", false,
		[]string{"ticket_number", "window"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：新的上门时间为 {window}。",
			"en":    "Ticket {ticket_number}: your new visit is {window}."}},
	{PurposeCompleted, "The work is completed and the charges settled.", false,
		[]string{"ticket_number", "charges"}, map[string]string{
			"zh-CN": "工单 {ticket_number} 已完工，本次应付费用 {charges}。签收码将另行发送。",
			"en":    "Ticket {ticket_number} is completed; you pay {charges}. Your sign-off code follows in a separate message."}},
	{PurposeSignoffCode, "The technician asks for the customer's sign-off code.", true,
		[]string{"ticket_number", "code", "minutes"}, map[string]string{
			"zh-CN": "您的服务签收码：{code}（{minutes} 分钟内有效），工单 {ticket_number}。请在服务完成并确认满意后告知师傅，切勿透露给他人。",
			"en":    "Your sign-off code: {code} (valid {minutes} minutes), ticket {ticket_number}. Tell it to the technician only when the work is done to your satisfaction; never share it otherwise."}},
	{PurposeCallbackDue, "A follow-up callback is scheduled.", false,
		[]string{"ticket_number", "due_at"}, map[string]string{
			"zh-CN": "工单 {ticket_number}：我们将在 {due_at} 前回访，了解您对服务的满意度。",
			"en":    "Ticket {ticket_number}: we will call you by {due_at} to ask how satisfied you are."}},
	{PurposeClaimDecided, "A claim filed for the customer's unit is approved or rejected (by adjudication or a reviewer); once per claim version.", false,
		[]string{"claim_reference", "decision", "amount"}, map[string]string{
			"zh-CN": "您的保修申请 {claim_reference} 已处理：{decision}，核定金额 {amount}。",
			"en":    "Your claim {claim_reference} has been decided: {decision}, amount approved {amount}."}},
	{PurposePayoutSent, "A payout to the customer (compensation, refund) is recorded as paid; once per payout.", false,
		[]string{"amount", "reference", "reason"}, map[string]string{
			"zh-CN": "已向您支付 {amount}（{reason}），付款流水号 {reference}，请注意查收。",
			"en":    "We have paid you {amount} ({reason}), payment reference {reference}."}},
}

// PurposeOf returns the purpose named p.
func PurposeOf(p string) (Purpose, bool) {
	i := slices.IndexFunc(Purposes, func(x Purpose) bool { return x.Purpose == p })
	if i < 0 {
		return Purpose{}, false
	}
	return Purposes[i], true
}

var placeholder = regexp.MustCompile(`\{([a-z_]+)\}`)

// ParseTemplate checks a template's syntax and parameters: text with
// placeholders {name}, where name is one of the purpose's parameters. A
// brace that is not part of a placeholder is a syntax error. It returns
// why the template is wrong (a field message), or nil.
func ParseTemplate(purpose Purpose, text string) *i18n.Message {
	var why i18n.Message
	switch rest := placeholder.ReplaceAllStringFunc(text, func(string) string { return "" }); {
	case strings.TrimSpace(text) == "" || len([]rune(text)) > 1000:
		why = i18n.M("common.length", "Min", 1, "Max", 1000)
	case strings.ContainsAny(rest, "{}"):
		why = i18n.M("notifications.template_brace")
	default:
		for _, m := range placeholder.FindAllStringSubmatch(text, -1) {
			if !slices.Contains(purpose.Params, m[1]) {
				why = i18n.M("notifications.template_unknown_param", "Param", m[1], "Purpose", purpose.Purpose, "Params", strings.Join(purpose.Params, ", "))
				return &why
			}
		}
		return nil
	}
	return &why
}

// render fills a checked template with params (a missing one renders
// empty: every purpose's sender passes all of its parameters).
func render(text string, params map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		return params[m[1:len(m)-1]]
	})
}

// Template is a customer message's text in a language: the tenant's own
// or the built-in one.
type Template struct {
	Purpose   string     `json:"purpose" example:"technician_assigned"`
	Language  string     `json:"language" enum:"zh-CN,en" example:"zh-CN"`
	Text      string     `json:"text" doc:"The text, with {name} placeholders for the purpose's parameters." example:"工单 {ticket_number}：服务工程师{technician_name}（服务证号 {licence_number}）将于 {window} 上门。"`
	Custom    bool       `json:"custom" doc:"The tenant's own text (false: the built-in one)." example:"false"`
	Essential bool       `json:"essential" doc:"Sent even to customers who opted out of non-essential messages." example:"false"`
	Params    []string   `json:"params" doc:"The parameters the text may use." example:"[\"ticket_number\",\"technician_name\",\"licence_number\",\"window\"]"`
	Version   int        `json:"version" doc:"Increases with every change of the tenant's text (0: built-in)." example:"0"`
	UpdatedAt *time.Time `json:"updated_at,omitempty" example:"2026-12-01T09:30:00+08:00"`
}

// ListTemplates returns every purpose's template in every language, the
// tenant's own where it has one.
func (s *Service) ListTemplates(ctx context.Context, p tenants.Principal) ([]Template, error) {
	var out []Template
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		own, err := loadTemplates(ctx, tx)
		if err != nil {
			return err
		}
		for _, pu := range Purposes {
			for _, lang := range identity.Languages {
				t := Template{Purpose: pu.Purpose, Language: lang, Text: pu.Defaults[lang], Essential: pu.Essential, Params: pu.Params}
				if o, ok := own[pu.Purpose+"/"+lang]; ok {
					t.Text, t.Custom, t.Version, t.UpdatedAt = o.Text, true, o.Version, o.UpdatedAt
				}
				out = append(out, t)
			}
		}
		return nil
	})
	return out, pg.Translate(err)
}

func loadTemplates(ctx context.Context, tx pg.TenantTx) (map[string]Template, error) {
	rows, err := tx.Query(ctx, `SELECT purpose, language, text, version, updated_at FROM notification_templates
		WHERE tenant_id = $1`, tx.TenantID)
	if err != nil {
		return nil, err
	}
	own := map[string]Template{}
	for rows.Next() {
		var t Template
		var at time.Time
		if err := rows.Scan(&t.Purpose, &t.Language, &t.Text, &t.Version, &at); err != nil {
			rows.Close()
			return nil, err
		}
		t.UpdatedAt = &at
		own[t.Purpose+"/"+t.Language] = t
	}
	return own, rows.Err()
}

// SetTemplate sets the tenant's text of a purpose in a language. An
// unknown purpose is not_found; an unsupported language, an unknown
// parameter or a stray brace is invalid (language, text), and
// nothing changes.
func (s *Service) SetTemplate(ctx context.Context, p tenants.Principal, purpose, lang, text string) (Template, error) {
	pu, ok := PurposeOf(purpose)
	if !ok {
		return Template{}, tenants.NotFound("notification template")
	}
	v := &tenants.Validation{}
	if !slices.Contains(identity.Languages, lang) {
		v.AddMsg("language", i18n.M("notifications.language"), lang)
	}
	if why := ParseTemplate(pu, text); why != nil {
		v.AddMsg("text", *why, text)
	}
	if err := v.Err(); err != nil {
		return Template{}, err
	}
	t := Template{Purpose: purpose, Language: lang, Text: text, Custom: true, Essential: pu.Essential, Params: pu.Params}
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var at time.Time
		err := tx.QueryRow(ctx, `INSERT INTO notification_templates (tenant_id, purpose, language, text, updated_by)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (tenant_id, livemode, purpose, language) DO UPDATE SET text = EXCLUDED.text,
				updated_by = EXCLUDED.updated_by, version = notification_templates.version + 1, updated_at = now()
			RETURNING version, updated_at`, tx.TenantID, purpose, lang, text, p.Subject()).Scan(&t.Version, &at)
		t.UpdatedAt = &at
		return err
	})
	return t, pg.Translate(err)
}

// Notice is a customer message to send by template.
type Notice struct {
	// Purpose is one of Purposes.
	Purpose string
	// SubjectID is what it is about (a ticket id).
	SubjectID string
	// To is the customer's phone (E.164).
	To string
	// Params are the purpose's parameters. Times (time.Time) are written
	// in the tenant's zone and language; the rest with fmt's %v.
	Params map[string]any
	// Secret are parameters only the customer may read (the code).
	Secret map[string]any
	// ExpiresAt: see Message.
	ExpiresAt *time.Time
	// TestClockID: see Message.
	TestClockID string
	// OptedOut: the customer declined non-essential messages; a
	// non-essential notice is then not sent (NotifyTx returns nil).
	OptedOut bool
	// DedupeKey: see Message. A notice is sent once per key.
	DedupeKey string
	// Prefetched, when it was queued (QueueNotice) for this Purpose and
	// DedupeKey, spares NotifyTx its round trip of reads.
	Prefetched *Prefetch
}

// noticeReads are what NotifyTx reads for a notice.
type noticeReads struct {
	lang      string
	loc       *time.Location
	templates map[string]string
	l         lookup
}

// queueNoticeReads queues on b the reads of a notice of purpose with
// dedupeKey, into r.
func queueNoticeReads(b *pgx.Batch, tenantID, purpose, dedupeKey string, r *noticeReads) {
	identity.QueueLocale(b, tenantID, &r.lang, &r.loc)
	queueTemplates(b, tenantID, purpose, r)
	queueLookup(b, tenantID, ChannelSMS, dedupeKey, &r.l)
}

// queueTemplates queues on b the read of the tenant's templates of
// purpose, into r.
func queueTemplates(b *pgx.Batch, tenantID, purpose string, r *noticeReads) {
	r.templates = map[string]string{}
	b.Queue(`SELECT language, text FROM notification_templates WHERE tenant_id = $1 AND purpose = $2`,
		tenantID, purpose).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var language, text string
			if err := rows.Scan(&language, &text); err != nil {
				return err
			}
			r.templates[language] = text
		}
		return rows.Err()
	})
}

// Prefetch is a notice's reads queued on a caller's batch (QueueNotice).
type Prefetch struct {
	purpose, dedupeKey string
	r                  noticeReads
}

// QueueNotice queues on b the reads NotifyTx makes for a notice of
// purpose with dedupeKey (the purpose's templates, the gateway and the
// notification already requested with the key), so that they share the
// caller's round trip. The tenant's locale is not among them: the caller
// reads the tenant's default language and zone with the tenant row it
// reads anyway (pg.QueueSettingsLanguage) and gives them with SetLocale.
// Once b is sent and the locale set, pass the result as
// Notice.Prefetched, in the same transaction, with no write of those rows
// in between; without a locale NotifyTx reads everything itself.
func QueueNotice(b *pgx.Batch, tenantID, purpose, dedupeKey string) *Prefetch {
	return queueNotice(b, tenantID, purpose, dedupeKey, dedupeKey)
}

// QueueNewSubjectNotice is QueueNotice for a notice about a subject the
// caller's transaction creates (a ticket at intake): no notification can
// carry a key made of its ID yet, so the read of the one already
// requested with dedupeKey is left out. The key is still written, and
// its unique index stands behind the assumption.
func QueueNewSubjectNotice(b *pgx.Batch, tenantID, purpose, dedupeKey string) *Prefetch {
	return queueNotice(b, tenantID, purpose, dedupeKey, "")
}

// queueNotice queues a notice's reads: the purpose's templates, the
// gateway and, unless lookupKey is empty, the notification already
// requested with it.
func queueNotice(b *pgx.Batch, tenantID, purpose, dedupeKey, lookupKey string) *Prefetch {
	f := &Prefetch{purpose: purpose, dedupeKey: dedupeKey}
	queueTemplates(b, tenantID, purpose, &f.r)
	queueLookup(b, tenantID, ChannelSMS, lookupKey, &f.r.l)
	return f
}

// SetLocale gives a prefetched notice the tenant's default language and
// time zone.
func (f *Prefetch) SetLocale(lang string, loc *time.Location) {
	f.r.lang, f.r.loc = lang, loc
}

// NotifyTx renders a notice with the tenant's template in the tenant's
// default language (the built-in text without one) and requests it
// (RequestTx) in the caller's transaction. It returns nil, and sends
// nothing, for a non-essential notice to a customer who opted out.
func (s *Service) NotifyTx(ctx context.Context, tx pg.TenantTx, actor string, n Notice) (*NotificationDelivery, error) {
	pu, ok := PurposeOf(n.Purpose)
	if !ok {
		return nil, errors.New("notifications: unknown purpose " + n.Purpose)
	}
	if n.OptedOut && !pu.Essential {
		return nil, nil
	}
	// One round trip reads the locale, the tenant's templates of the
	// purpose (one per language at most) and what the request needs
	// (queueLookup); none when the caller queued them on its own
	// (n.Prefetched).
	var r noticeReads
	if f := n.Prefetched; f != nil && f.purpose == n.Purpose && f.dedupeKey == n.DedupeKey && f.r.loc != nil {
		r = f.r
	} else {
		b := &pgx.Batch{}
		queueNoticeReads(b, tx.TenantID, n.Purpose, n.DedupeKey, &r)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return nil, err
		}
	}
	lang, loc, templates, l := r.lang, r.loc, r.templates, r.l
	text, ok := templates[lang]
	if !ok {
		text = pu.Defaults[lang]
	}
	shown := map[string]string{}
	public := map[string]any{}
	for k, v := range n.Params {
		shown[k] = formatParam(v, lang, loc)
		switch x := v.(type) {
		case Window:
			public[k] = map[string]any{"start": x.Start, "end": x.End}
		case Money:
			public[k] = map[string]any{"amount": x.Amount, "currency": x.Currency}
		case Decision:
			public[k] = string(x)
		default:
			public[k] = v
		}
	}
	for k, v := range n.Secret {
		shown[k] = formatParam(v, lang, loc)
	}
	public["language"] = lang
	m := Message{Channel: ChannelSMS, Purpose: n.Purpose, SubjectID: n.SubjectID, To: n.To,
		Text: render(text, shown), Params: public, Secret: n.Secret, ExpiresAt: n.ExpiresAt, TestClockID: n.TestClockID, DedupeKey: n.DedupeKey}
	if m.SubjectID == "" || m.To == "" || m.Text == "" {
		return nil, errors.New("notifications: a message needs a purpose, a subject, a recipient and a text")
	}
	d, err := s.request(ctx, tx, actor, m, l)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// Decision is a claim's outcome as a notice parameter (approved,
// partly_approved, rejected): the code on the event, words in the
// message's language.
type Decision string

var decisionWords = map[string]map[Decision]string{
	"zh-CN": {"approved": "已批准", "partly_approved": "部分批准", "rejected": "未获批准"},
	"en":    {"approved": "approved", "partly_approved": "partly approved", "rejected": "rejected"},
}

// Window is an appointment window as a notice parameter.
type Window struct{ Start, End time.Time }

// Money is an amount in minor units as a notice parameter.
type Money struct {
	Amount   int64
	Currency string
}

func formatParam(v any, lang string, loc *time.Location) string {
	switch x := v.(type) {
	case time.Time:
		return formatTime(x.In(loc), lang)
	case *time.Time:
		if x == nil {
			return ""
		}
		return formatTime(x.In(loc), lang)
	case Window:
		s, e := x.Start.In(loc), x.End.In(loc)
		if lang == "zh-CN" {
			return formatTime(s, lang) + "至" + e.Format("15:04")
		}
		return formatTime(s, lang) + "–" + e.Format("15:04")
	case Decision:
		if w, ok := decisionWords[lang][x]; ok {
			return w
		}
		return string(x)
	case Money:
		sym := x.Currency + " "
		if x.Currency == "CNY" {
			sym = "¥"
		}
		return fmt.Sprintf("%s%d.%02d", sym, x.Amount/100, x.Amount%100)
	}
	return fmt.Sprint(v)
}

func formatTime(t time.Time, lang string) string {
	if lang == "zh-CN" {
		return fmt.Sprintf("%d月%d日 %s", int(t.Month()), t.Day(), t.Format("15:04"))
	}
	return t.Format("Jan 2 15:04")
}
