// A storefront's day with the TypeScript client, run against a real server
// by api/clients_test.go (TestTypeScriptClientStorefrontDay).
import { newClient, type Event, type Schemas } from "./index";

declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
}

function check(ok: unknown, what: string): asserts ok {
  if (!ok) throw new Error(what);
}

const cny = (amount: number): Schemas["Money"] => ({ amount, currency: "CNY" });

async function main(): Promise<void> {
  const sn = newClient(env("SERVICENET_URL"), env("SERVICENET_KEY"));

  const unit = await sn.POST("/v1/units", {
    body: {
      model_id: env("PHONE_MODEL_ID"), serial: "SN-TS-0001",
      customer: { name: "钱七", phones: ["+86 139 0000 0002"] },
      purchase_date: env("PURCHASED_ON"), purchase_price: cny(499900), invoice_number: "FP-TS-0001",
    },
  });
  check(unit.data, `register unit: ${JSON.stringify(unit.error)}`);

  const contract = await sn.POST("/v1/contracts", {
    body: { unit_id: unit.data.id, plan_id: env("PLAN_ID"), sold_on: env("PURCHASED_ON"), external_reference: "TM-TS-0001" },
  });
  check(contract.data, `sell plan: ${JSON.stringify(contract.error)}`);
  check(contract.data.state === "active", `the plan runs on day 40, got ${contract.data.state}`);

  const claim = await sn.POST("/v1/claims", {
    body: {
      kind: "accidental_damage", unit_id: unit.data.id, contract_id: contract.data.id, reference: "TM-CLM-TS-1",
      fault: { cause: "accidental_damage", part_categories: ["screen"], description: "跌落碎屏" },
      occurred_on: env("TODAY"), total: cny(128000),
      lines: [
        { kind: "labor", description: "换屏工时", requested: cny(8000) },
        { kind: "part", part_id: env("SCREEN_PART_ID"), quantity: 1, requested: cny(120000) },
      ],
    },
  });
  check(claim.data, `file claim: ${JSON.stringify(claim.error)}`);
  check(claim.data.reference === "TM-CLM-TS-1", "the claim keeps its reference");

  // The adjudication, read from the feed as a typed event.
  let decided: Extract<Event, { type: "claim.under_review" }> | undefined;
  for (let i = 0; i < 300 && !decided; i++) {
    const page = await sn.GET("/v1/events", { params: { query: { type: ["claim.*"] } } });
    check(page.data, `read events: ${JSON.stringify(page.error)}`);
    for (const e of page.data.data) {
      if (e.type === "claim.under_review" && e.subject_id === claim.data.id) decided = e;
    }
    if (!decided) await new Promise((r) => setTimeout(r, 100));
  }
  check(decided, "no claim.under_review event for the claim");
  check(decided.data.to_state === "under_review" && decided.data.reference === "TM-CLM-TS-1", "typed claim data");

  const ticket = await sn.POST("/v1/tickets", {
    body: {
      channel: "web", type: "repair", external_reference: "TM-TKT-TS-1",
      contact: { name: "钱七", phone: "+86 139 0000 0002" },
      address: { region_code: env("REGION_CODE"), line: "中山路 9 号" },
      unit: { unit_id: unit.data.id }, fault: { symptom: "屏幕碎裂" },
    },
  });
  check(ticket.data, `open ticket: ${JSON.stringify(ticket.error)}`);
  check(ticket.data.channel === "storefront", "a storefront key opens storefront tickets");
  console.log(`storefront day done: ticket ${ticket.data.number}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
