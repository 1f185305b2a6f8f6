// Package entitlement is the pure entitlement engine: given a unit, its
// contracts, its repair history, a fault, the requested remedy, the date and
// the price-list quote, Decide says on what basis the work is done, who pays
// each line, which remedies the customer may choose, what compensation is
// owed by when, who pays the freight, which service promises apply, and why
// (a trace of every rule considered, applied or not). It has no database, no
// HTTP and no clock: everything is input, and the same input always gives the
// same decision.
//
// # Dates
//
// Dates are civil dates as time.Time at midnight UTC (parse "YYYY-MM-DD" with
// time.Parse(time.DateOnly, s)). The purchase date is day 1, so day 7 is the
// purchase date plus 6 days; the seven-day no-reason return alone counts
// its days from the day after receipt (the purchase date of an online sale),
// as its rule says (《网络购买商品七日无理由退货暂行办法》: 七日期间自消费者签收
// 商品的次日开始起算; DaysAfter), so its last day is the purchase date plus 7.
// A term of M months from D covers D through the day before D's day of the
// month M months later, or through that month's last day when it has no
// such day (TermEnd: one month from 31 January covers through 28 February,
// 29 in a leap year, as PostgreSQL's month arithmetic and every customer
// count it, never into March); every package uses TermEnd and PlanWindow,
// and the SQL that weighs a term (the customers' retention) the same rule,
// so the arithmetic is the same everywhere. The manufacturer
// warranty and the key-part terms start on the purchase date (a tenant
// setting to start them on the installation date is future work). A
// warranty promotion of the unit's model whose window holds the purchase
// date (seed 003: washers bought 3月1日-5月3日 get 三年免费保修) gives its
// longer whole-unit term, Unit.WarrantyMonths, from the same day; the
// trace names it (R2.warranty_promotion).
//
// Which date each rule counts from, and why: rule 3 (software tuning free
// within a month, charged after three) counts from the installation date
// (Unit.InstalledOn, which completing an install ticket sets), because the
// seed ties it to the installation ("上门安装一个月内的软件，给用户免费调试并
// 培训到位；三个月后的……收费", seed 000); without one, the purchase date. The
// statutory windows (return to day 7, exchange to day 15, the third
// failure), the manufacturer warranty, the key-part terms, the seven-day
// no-reason return and the plans' windows count from the purchase date: the
// seeds apply the national three guarantees (国家三包规定) and the
// marketplace's sale without reference to the installation. For an online
// sale the purchase date is the day the order completed, when the customer
// received the goods (签收; 交易成功): seed 002's cases count from the day
// 小明 received his soymilk maker (bought 2012-06-22, received 06-25), and
// its plans take effect the day after 交易成功. The unit's purchase_date
// documents this for integrators. A return or
// exchange ticket is decided on its own date (the day the customer asked),
// not the day of the inspection.
//
// # Services without a fault
//
// Maintenance, cleaning and installation are decided with cause no_fault:
// no statutory right or warranty covers them (R2.maintenance); an active plan
// whose terms cover maintenance pays maintenance and cleaning in full (basis
// maintenance_plan), never an installation (the quote's service kind
// install), which is not maintenance; otherwise the price list charges them
// (not_covered inside the warranty, out_of_warranty after it). The service promises still apply (an
// installation visited again because delivery was not in sync with it, the
// unit bought at the brand's own store, is free: R8.repeat_visit); the
// repeat-fault promise does not (no fault).
// A unit damaged at delivery or installation (cause delivery_damage) is
// exchanged at the seller's cost whatever the day (R9.delivery_damage, basis
// delivery_damage), may be returned within the seven-day window, is never
// repaired at the customer's cost, and the seller pays the freight.
//
// # Money
//
// Every amount is a tenants.Money in the purchase price's currency; a line
// or fee in another currency is invalid input. Percentages are integer
// percents applied per line and rounded half up to the minor unit (fen);
// a plan's discount is the rounded covered share and the customer pays the
// rest, so the shares of a line always add up to its list amount. Totals are
// sums of lines.
//
// # Which basis wins
//
// Every rule that applies offers remedies; rules are evaluated in this order
// of precedence and the first offer of a remedy kind wins:
//
//	no-reason return (R9) > delivery damage (R9) > statutory return/exchange
//	(R1, days 1-7 / 1-15, and the third failure) > manufacturer warranty (R2)
//	> installation tuning (R3) > maintenance plan (R2) > extended warranty (R4) > accidental-damage plan (R5) >
//	swap plan (R6) > no-reason repair plan (R7) > key-part term (R2) >
//	price list (not_covered inside the warranty, out_of_warranty after it).
//
// Within a plan kind the contracts are tried in input order. One exception:
// an environmental fault both an extended warranty and a no-reason plan
// repair free (the day they meet, after the manufacturer warranty) is the
// no-reason plan's repair, which alone owes the satisfaction compensation.
//
// The decision is priced for the requested remedy when it is allowed, else
// for a covered repair (one the price list does not charge in full), else
// for the first allowed remedy (so a plan's swap comes before a repair the
// customer would pay in full);
// Remedies lists every allowed one. So a performance fault on day 10 offers
// a statutory exchange and a statutory repair (basis statutory_exchange; the
// manufacturer warranty also applies and says so in the trace); within days
// 1-15 a repair's basis is the statutory window. Within a swap plan and the
// manufacturer warranty, the free warranty repair and the plan's swap for a
// fee are both offered.
//
// # Causes
//
// Statutory rights and the manufacturer warranty cover performance
// (quality) faults. Environmental causes (dust, heat, moisture/condensation,
// power surge, unstable voltage) are outside them: the extended warranty
// and the no-reason plan cover them. Accidental damage (drops, crushing,
// impact through carelessness) is never statutory; the accidental-damage
// plan (phones, laptops, cameras) and the no-reason plan (large appliances)
// cover it at a discount. Human damage means deliberate misuse, unauthorised
// disassembly or modification: like force majeure it is never free, not
// even inside a plan, and is charged by the price list. Rule 8's repeat-
// repair promise excludes "human or natural causes": accidental damage,
// human damage and force majeure.
//
// # Decisions made where the seeds are silent
//
//   - Software tuning (R3) is free within 1 month of installation (with
//     training) and charged after 3 months; between 1 and 3 months it is
//     free too, because the seed only authorises charging after three
//     months and the customer gets the benefit of the gap. Without an
//     installation date the purchase date counts.
//   - A key part within its own longer term after the whole unit's warranty:
//     the part is free (brand pays), labor and visit follow the price list
//     (the statutory rule for main parts).
//   - The lower of price list and warranty card (R2) caps what the customer
//     pays for a price-list repair (not_covered, out_of_warranty,
//     key_part_warranty); the brand bears the difference, spread over the
//     customer's lines in proportion, rounded half up, the last lines taking
//     the remainder, each within its own amount (never negative).
//   - Service promises (R8) waive the customer's charges for this service
//     (repairs; not a plan's swap fee), and the brand pays. Those for the
//     network's own failings (late arrival, price list, licence, conduct,
//     and an installation visited again because delivery was not in sync
//     with it, the unit bought at the brand's own store: 未送安同步而多次上门,
//     限美的专卖店购买) apply whatever the fault's cause: they are the
//     network's penalty, not coverage. The repeat-fault promise excludes
//     human and natural causes. A repair visited again (a reopened ticket)
//     is no repeat visit: its new round is decided like any repair, free
//     only when the repeat-fault promise or a coverage makes it so. A
//     charge beyond the price list (QuoteLine.Charged above Amount) is
//     never owed and makes the service free.
//   - The no-reason plan's compensation is owed for a repair under the plan
//     (the seed pays it "besides repairing"), due PayoutBusinessDays business
//     days after the decision date, which the caller sets to the repair date.
//   - Repair cost (the quote's list total) equal to the retail price is
//     repaired; above it is swapped (R7).
//   - Swap fees: the plan's flat fee, else its depreciation schedule's
//     percent of the purchase price for the month of ownership (MonthOf),
//     else its depreciation percent, else the cap, never above the cap
//     (tablets 39%, whatever the terms say), the cap rounded down ("at
//     most"). The kitchen/small-appliance swap defaults to 30.00 CNY when
//     the terms say nothing, and rule 7's compensation to 100.00 CNY: CNY
//     amounts, so a purchase in another currency (no rate is configured)
//     gets neither: no swap is offered for a made-up fee and the
//     compensation is left to a person, the trace saying why. Rules 5 and 7 require a depreciation fee: a
//     plan of theirs with none of these terms (made before plans had to
//     carry a schedule) is charged by DefaultAccidentalSchedule or
//     DefaultNoReasonSchedule, never swapped for free. The replacement is
//     priced no higher than the purchase price.
//   - A requested repair that the price list would charge in full yields to
//     a plan's swap (rule 7's repair costing more than the retail price,
//     rules 5 and 6): the ticket always asks for a repair, and the plan's
//     answer is the swap.
//   - Wrong or damaged goods on delivery get the statutory windows of a
//     performance fault (return until day 7, exchange until day 15) with the
//     seller paying the freight; a change of mind gets the seven-day
//     no-reason return or exchange (七天无理由退换货) for a resaleable
//     storefront sale, buyer paying, through the seventh day after receipt.
//   - An accidental-damage swap consumes the contract (ContractConsumed);
//     the caller marks it consumed.
package entitlement
