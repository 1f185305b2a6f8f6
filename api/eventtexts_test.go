package api

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/servicenet/servicenet/internal/i18n"
)

// TestEventSummariesSayWhatHappened: an event's summary carries the params
// of its payload (a ticket's number, an amount, a status, counts) in both
// languages, and reads as the plain summary when the payload lacks them.
func TestEventSummariesSayWhatHappened(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		typ, data, en, zh string
	}{
		{"ticket.dispatched", `{"number":"SN-20261130-00042","state":"dispatched"}`,
			"SN-20261130-00042: Ticket dispatched to a node", "SN-20261130-00042：工单已派至网点"},
		{"ticket.sla_breached", `{"number":"SN-1","sla":"arrival","level":2,"escalated_to":"node_manager"}`,
			"SN-1: A service level was missed: arrival, escalated to the node manager (level 2)", "SN-1：工单未达到服务时限：上门，已升级至网点经理（第 2 级）"},
		{"payout.paid", `{"amount":{"amount":12050,"currency":"CNY"},"due_on":"2026-12-01"}`,
			"A payout was paid: CNY 120.50", "付款已完成：120.50 元"},
		{"payout.missed", `{"amount":{"amount":5,"currency":"USD"},"due_on":"2026-12-01"}`,
			"A payout missed its deadline (2026-12-01): USD 0.05", "付款已逾期（应付日 2026-12-01）：0.05 USD"},
		{"node.status_changed", `{"from":"active","to":"suspended"}`,
			"A network node's status changed: active → suspended", "网点状态已更改：正常运营 → 暂停"},
		{"network_import.finished", `{"state":"completed_with_errors","total_rows":1847,"errors":3}`,
			"A network import finished: completed with errors, 1847 rows, 3 row errors", "网点导入已完成：已完成，部分行有错误，共 1847 行，3 个行错误"},
		{"contract.redated", `{"starts_on":"2012-07-25","ends_on":"2013-07-24","from_starts_on":"2012-07-22","from_ends_on":"2013-07-21"}`,
			"A contract's coverage window moved with its unit's corrected purchase date: now 2012-07-25 to 2013-07-24", "合同保障期已随产品购买日期的更正调整：现为 2012-07-25 至 2013-07-24"},
		{"claim.approved", `{"reference":"RMA-7"}`, "A claim was approved: RMA-7", "索赔已批准：RMA-7"},
		{"node.created", `{}`, "A network node was created", "网点已创建"},
		{"api_key.created", `null`, "An API key was issued", "已签发 API 密钥"},
	} {
		m := eventMessage(c.typ, json.RawMessage(c.data))
		require.Equal(t, c.en, m.Render(i18n.English), c.typ)
		require.Equal(t, c.zh, m.Render(i18n.Chinese), c.typ)
		// As sent and read back (summary_i18n).
		b, err := json.Marshal(m)
		require.NoError(t, err)
		var back i18n.Message
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, c.zh, back.Render(i18n.Chinese), c.typ)
	}
}
