package entitlement

import "time"

// civil returns t's calendar date at midnight UTC.
func civil(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// DayOf returns which day of ownership date is: the purchase date is day 1.
func DayOf(purchase, date time.Time) int {
	return int(civil(date).Sub(civil(purchase)).Hours()/24) + 1
}

// DaysAfter returns how many days date is after start, the day of start
// not counted: the next day is 1. A period of n days from an event runs
// through the day DaysAfter is n: rule 9's seven days from receipt run
// from the day after it (《网络购买商品七日无理由退货暂行办法》: 七日期间自消费者
// 签收商品的次日开始起算; 民法典 第二百零一条: 开始的当日不计入，自下一日开始
// 计算), so the day of receipt + 7 is the last day.
func DaysAfter(start, date time.Time) int { return DayOf(start, date) - 1 }

// MonthOf returns which month of ownership date is: month 1 runs from the
// purchase date through TermEnd(purchase, 1), month m through
// TermEnd(purchase, m). A date before the purchase is month 1.
func MonthOf(purchase, date time.Time) int {
	p, d := civil(purchase), civil(date)
	m := (d.Year()-p.Year())*12 + int(d.Month()) - int(p.Month())
	if m < 1 {
		m = 1
	}
	for m > 1 && !d.After(TermEnd(p, m-1)) {
		m--
	}
	for d.After(TermEnd(p, m)) {
		m++
	}
	return m
}

// TermEnd returns the last day of a term of months starting on start, the
// start counting as its first day: the day before start's day of the month
// months later, or, when that month has no such day (start the 29th, 30th
// or 31st), that month's last day. So one month from 31 January covers
// through 28 February (29 in a leap year), never into March; twelve months
// from 29 February 2028 through 28 February 2029; a term from any other
// day ends as start.AddDate(0, months, -1) does. It is PostgreSQL's
// month arithmetic (and Java's plusMonths), which clamps date + months to
// the month's last day, with the clamped day the term's last: the
// retention's SQL (tenants/customers) computes the same day. Every package
// computing warranty, key-part and plan terms in months uses this.
func TermEnd(start time.Time, months int) time.Time {
	s := civil(start)
	last := time.Date(s.Year(), s.Month()+time.Month(months)+1, 0, 0, 0, 0, 0, time.UTC) // the last day of the term's month
	if s.Day() > last.Day() {
		return last
	}
	return s.AddDate(0, months, -1)
}

// PlanWindow returns the first and last day a plan's contract covers.
// startsAfterWarranty (extended warranties) starts it on the day after the
// manufacturer warranty of warrantyMonths from purchase ends; otherwise it
// starts startOffsetDays after the purchase date (30 for "day 31": the
// accidental-damage plan and the kitchen/small-appliance swap plan; 1 for
// "the next day": the no-reason plan and the tablet swap plan). It runs
// durationMonths by TermEnd. Contracts (tenants/warranty) store exactly
// this window.
func PlanWindow(startOffsetDays int, startsAfterWarranty bool, durationMonths int, purchase time.Time, warrantyMonths int) (start, end time.Time) {
	if startsAfterWarranty {
		start = TermEnd(purchase, warrantyMonths).AddDate(0, 0, 1)
	} else {
		start = civil(purchase).AddDate(0, 0, startOffsetDays)
	}
	return start, TermEnd(start, durationMonths)
}

// DefaultPlanStart returns the seed's start of a plan of kind for a unit of
// category: extended warranties start after the manufacturer warranty; the
// accidental-damage plan and the kitchen/small-appliance swap plan on day 31
// (offset 30); the tablet swap plan and the no-reason plan on the next day
// (offset 1).
func DefaultPlanStart(kind, category string) (startOffsetDays int, startsAfterWarranty bool) {
	switch kind {
	case KindExtendedWarranty:
		return 0, true
	case KindAccidentalDamage:
		return 30, false
	case KindSwapForRepair:
		if category == CategoryTablet {
			return 1, false
		}
		return 30, false
	case KindNoReasonRepair:
		return 1, false
	}
	return 0, false
}

// WeekdaysAfter returns the date n business days after from, skipping
// Saturdays and Sundays (the default calendar; tenants pass their own
// holiday calendar in Input.BusinessDays).
func WeekdaysAfter(from time.Time, n int) time.Time { return BusinessDaysAfter(from, n, nil) }

// BusinessDaysAfter returns the date n business days after from: each of
// the following days counts unless it is a Saturday, a Sunday or isHoliday
// says so (nil: no holidays). from itself never counts; n <= 0 returns from.
// Dates are civil dates (the time of day is dropped).
func BusinessDaysAfter(from time.Time, n int, isHoliday func(time.Time) bool) time.Time {
	return WorkingDaysAfter(from, n, func(d time.Time) bool {
		wd := d.Weekday()
		return wd != time.Saturday && wd != time.Sunday && (isHoliday == nil || !isHoliday(d))
	})
}

// WorkingDaysAfter returns the date n working days after from on a calendar
// that says itself which days are worked (isWorkingDay), for one that
// moves working days rather than only removing them: China's 调休 makes some
// Saturdays working days around 国庆 and 春节. from itself never counts;
// n <= 0 returns from. Dates are civil dates (the time of day is dropped).
// A calendar that works no day after from would never return; the
// tenant's (calendar.Calendar) is Monday to Friday past the days it knows.
func WorkingDaysAfter(from time.Time, n int, isWorkingDay func(time.Time) bool) time.Time {
	d := civil(from)
	for n > 0 {
		d = d.AddDate(0, 0, 1)
		if isWorkingDay(d) {
			n--
		}
	}
	return d
}
