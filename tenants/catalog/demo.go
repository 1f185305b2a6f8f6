package catalog

import (
	"context"

	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// The demo brand's catalog: models across every category with key-part
// terms as Chinese brands publish them (washer motors and refrigerator and
// air-conditioner compressors 10 years, water-heater tanks 8 years, TV
// panels 3 years), one discontinued washer with a similar cheaper
// successor, spare parts with their compatible models, and a price list
// effective from the day it is seeded. Amounts are in fen.

type demoModel struct {
	number, category, name string
	price                  int64 // yuan
	months                 int
	keyParts               []KeyPartTerm
	discontinued           bool
	specs                  Specs
}

var demoModels = []demoModel{
	{"EG100MATE2S", "washer", "10kg 直驱变频滚筒洗衣机 Mate2S", 3999, 36, []KeyPartTerm{{"motor", 120}}, true,
		Specs{"type": "front_load", "capacity_kg": "10", "drive": "direct_drive", "energy_class": "1"}},
	{"EG100MATE35S", "washer", "10kg 直驱变频滚筒洗衣机 Mate35S", 3699, 36, []KeyPartTerm{{"motor", 120}}, false,
		Specs{"type": "front_load", "capacity_kg": "10", "drive": "direct_drive", "energy_class": "1"}},
	{"EB80M30", "washer", "8kg 变频波轮洗衣机", 1699, 36, []KeyPartTerm{{"motor", 120}}, false,
		Specs{"type": "top_load", "capacity_kg": "8", "drive": "inverter", "energy_class": "2"}},
	{"BCD-470WGHFD", "refrigerator", "470升 十字对开门变频冰箱", 5999, 36, []KeyPartTerm{{"compressor", 120}}, false,
		Specs{"type": "french_door", "volume_l": "470", "cooling": "air_cooled", "energy_class": "1"}},
	{"BCD-218STPS", "refrigerator", "218升 三门冰箱", 1999, 36, []KeyPartTerm{{"compressor", 120}}, false,
		Specs{"type": "three_door", "volume_l": "218", "cooling": "direct_cooled", "energy_class": "2"}},
	{"KFR-35GW/N8MJA3", "air_conditioner", "1.5匹 新一级能效 变频冷暖 挂机", 3299, 72, []KeyPartTerm{{"compressor", 120}}, false,
		Specs{"type": "wall_mounted", "capacity_hp": "1.5", "inverter": "true", "energy_class": "1"}},
	{"KFR-72LW/N8MXC3", "air_conditioner", "3匹 新一级能效 变频冷暖 柜机", 7999, 72, []KeyPartTerm{{"compressor", 120}}, false,
		Specs{"type": "floor_standing", "capacity_hp": "3", "inverter": "true", "energy_class": "1"}},
	{"65E8K", "tv", "65英寸 Mini LED 4K 电视", 4999, 12, []KeyPartTerm{{"panel", 36}}, false,
		Specs{"screen_in": "65", "resolution": "4k", "backlight": "mini_led"}},
	{"EC6002-MC3", "water_heater", "60升 一级能效 电热水器", 1599, 36, []KeyPartTerm{{"inner_tank", 96}}, false,
		Specs{"type": "electric_storage", "volume_l": "60", "power_w": "3000"}},
	{"CXW-220-E900T6", "kitchen", "侧吸式 大吸力 抽油烟机", 2799, 12, []KeyPartTerm{{"motor", 60}}, false,
		Specs{"type": "side_draft", "airflow_m3min": "22"}},
	{"MB-FB40S701", "small_appliance", "4L IH 电饭煲", 399, 12, nil, false,
		Specs{"type": "rice_cooker", "capacity_l": "4", "heating": "ih"}},
	{"HN-P60-256", "phone", "HN P60 手机 12GB+256GB", 2999, 12, nil, false,
		Specs{"storage_gb": "256", "ram_gb": "12", "network": "5g"}},
	{"HN-BOOK14-R7", "laptop", "HN Book 14 笔记本电脑 R7/16GB/1TB", 4999, 12, []KeyPartTerm{{"mainboard", 24}}, false,
		Specs{"screen_in": "14", "cpu": "r7", "ram_gb": "16", "storage_gb": "1024"}},
	{"HN-CAM-Z5", "camera", "HN Z5 全画幅微单相机", 5999, 12, nil, false,
		Specs{"sensor": "full_frame", "megapixels": "24"}},
	{"HN-PAD11-128", "tablet", "HN Pad 11 平板电脑 8GB+128GB", 1999, 12, nil, false,
		Specs{"screen_in": "11", "storage_gb": "128", "network": "wifi"}},
}

type demoPart struct {
	number, name, category string
	price                  int64 // yuan
	models                 []string
}

var demoParts = []demoPart{
	{"0021800078A", "直驱变频电机", "motor", 680, []string{"EG100MATE2S", "EG100MATE35S"}},
	{"0021800112", "波轮变频电机", "motor", 420, []string{"EB80M30"}},
	{"0024000145", "排水泵", "drain_pump", 85, []string{"EG100MATE2S", "EG100MATE35S", "EB80M30"}},
	{"0020300591", "滚筒门封圈", "door_seal", 120, []string{"EG100MATE2S", "EG100MATE35S"}},
	{"0021800141", "滚筒轴承套件", "bearing", 160, []string{"EG100MATE2S", "EG100MATE35S"}},
	{"0024000331", "洗衣机电脑板", "control_board", 260, []string{"EG100MATE2S", "EG100MATE35S"}},
	{"0024000402", "进水阀", "inlet_valve", 45, []string{"EG100MATE2S", "EG100MATE35S", "EB80M30"}},
	{"0064001523", "变频压缩机 (对开门)", "compressor", 980, []string{"BCD-470WGHFD"}},
	{"0064001288", "定频压缩机 (三门)", "compressor", 620, []string{"BCD-218STPS"}},
	{"0060830201", "冰箱门封条", "door_seal", 90, []string{"BCD-470WGHFD", "BCD-218STPS"}},
	{"0064000899", "冷冻风扇电机", "fan_motor", 110, []string{"BCD-470WGHFD"}},
	{"0061800275", "温度传感器", "sensor", 35, []string{"BCD-470WGHFD", "BCD-218STPS"}},
	{"0064002041", "冰箱主控板", "control_board", 330, []string{"BCD-470WGHFD"}},
	{"17222000A1", "1.5匹 变频压缩机", "compressor", 1200, []string{"KFR-35GW/N8MJA3"}},
	{"17222000B3", "3匹 变频压缩机", "compressor", 2200, []string{"KFR-72LW/N8MXC3"}},
	{"17122000C2", "室内风机", "fan_motor", 180, []string{"KFR-35GW/N8MJA3", "KFR-72LW/N8MXC3"}},
	{"17122000D7", "室外机主控板", "control_board", 450, []string{"KFR-35GW/N8MJA3", "KFR-72LW/N8MXC3"}},
	{"R32-1KG", "R32 冷媒 (每公斤)", "refrigerant", 150, []string{"KFR-35GW/N8MJA3", "KFR-72LW/N8MXC3"}},
	{"17122000E1", "遥控器", "remote_control", 40, []string{"KFR-35GW/N8MJA3", "KFR-72LW/N8MXC3"}},
	{"65E8K-PNL", "65英寸 Mini LED 屏幕组件", "panel", 2600, []string{"65E8K"}},
	{"65E8K-PWR", "电源板", "power_board", 280, []string{"65E8K"}},
	{"65E8K-MB", "主板", "mainboard", 420, []string{"65E8K"}},
	{"0040400188", "电加热管", "heating_element", 120, []string{"EC6002-MC3"}},
	{"0040400190", "镁棒", "anode_rod", 40, []string{"EC6002-MC3"}},
	{"0040400201", "温控器", "thermostat", 60, []string{"EC6002-MC3"}},
	{"CXW-MTR-220", "油烟机电机", "motor", 380, []string{"CXW-220-E900T6"}},
	{"MB-POT-40", "4L 内胆", "inner_pot", 120, []string{"MB-FB40S701"}},
	{"HN-P60-LCD", "P60 屏幕总成", "screen", 1100, []string{"HN-P60-256"}},
	{"HN-P60-BAT", "P60 电池", "battery", 199, []string{"HN-P60-256"}},
	{"HN-B14-MB", "Book 14 主板", "mainboard", 1800, []string{"HN-BOOK14-R7"}},
	{"HN-B14-BAT", "Book 14 电池", "battery", 399, []string{"HN-BOOK14-R7"}},
	{"HN-Z5-SHT", "Z5 快门组件", "shutter", 1500, []string{"HN-CAM-Z5"}},
	{"HN-PAD11-LCD", "Pad 11 屏幕总成", "screen", 680, []string{"HN-PAD11-128"}},
}

// demoLabor is labor in yuan by category and service kind.
var demoLabor = map[string]map[string]int64{
	"washer":          {"install": 80, "repair": 120, "maintenance": 100, "remote": 0},
	"refrigerator":    {"install": 50, "repair": 150, "maintenance": 80, "remote": 0},
	"air_conditioner": {"install": 200, "repair": 150, "maintenance": 100, "remote": 0},
	"tv":              {"install": 100, "repair": 150, "carry_in": 120, "remote": 0},
	"water_heater":    {"install": 100, "repair": 100, "maintenance": 120, "remote": 0},
	"kitchen":         {"install": 150, "repair": 120, "maintenance": 150, "remote": 0},
	"small_appliance": {"repair": 50, "carry_in": 40, "remote": 0},
	"phone":           {"repair": 100, "carry_in": 80, "remote": 0},
	"laptop":          {"repair": 150, "carry_in": 120, "remote": 0},
	"camera":          {"carry_in": 150, "remote": 0},
	"tablet":          {"carry_in": 80, "remote": 0},
}

// demoVisitFees are visit fees in yuan for large appliances; others pay the
// default.
var demoVisitFees = []struct {
	category string
	yuan     int64
}{{"air_conditioner", 60}, {"kitchen", 40}, {"refrigerator", 50}, {"tv", 40}, {"washer", 50}, {"water_heater", 40}}

const demoDefaultVisitFee = 30

// SeedDemo fills the principal's tenant with the demo catalog and a price
// list version effective today, in one transaction. It does nothing when the
// tenant already has product models, so running it again is harmless.
func (s *Service) SeedDemo(ctx context.Context, p tenants.Principal) error {
	now := s.now()
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		var seeded bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM product_models WHERE tenant_id = $1)`, tx.TenantID).Scan(&seeded); err != nil {
			return err
		}
		if seeded {
			return nil
		}
		st, today, err := tx.Today(ctx, now)
		if err != nil {
			return err
		}
		fen := func(yuan int64) tenants.Money { return money(yuan*100, st.Currency) }
		ids := map[string]string{}
		for _, d := range demoModels {
			m, err := createModel(ctx, tx, p.Subject(), NewProductModel{ModelNumber: d.number, Category: d.category, Name: d.name,
				RetailPrice: fen(d.price), WarrantyMonths: d.months, KeyParts: d.keyParts, Discontinued: d.discontinued, Specs: d.specs}, st.Currency)
			if err != nil {
				return err
			}
			ids[d.number] = m.ID
		}
		var overrides []PartPrice
		for _, d := range demoParts {
			models := make([]string, len(d.models))
			for i, n := range d.models {
				models[i] = ids[n]
			}
			part, err := createPart(ctx, tx, NewPart{PartNumber: d.number, Name: d.name, Category: d.category, Price: fen(d.price),
				CompatibleModelIDs: models}, st.Currency)
			if err != nil {
				return err
			}
			if d.number == "R32-1KG" {
				// The price list charges refrigerant below its catalog price.
				overrides = append(overrides, PartPrice{PartID: part.ID, Price: fen(120)})
			}
		}
		pl := NewPriceList{EffectiveFrom: today, DefaultVisitFee: ptr(fen(demoDefaultVisitFee)), Parts: overrides,
			Note: "Demo price list: labor, visit fees and parts in fen"}
		for _, c := range Categories {
			for _, k := range ServiceKinds {
				if yuan, ok := demoLabor[c][k]; ok {
					pl.Labor = append(pl.Labor, LaborRate{Category: c, ServiceKind: k, Amount: fen(yuan)})
				}
			}
		}
		for _, f := range demoVisitFees {
			pl.VisitFees = append(pl.VisitFees, VisitFee{Category: f.category, Amount: fen(f.yuan)})
		}
		_, err = createPriceList(ctx, tx, p.Subject(), pl, st.Currency, today)
		return err
	})
	return pg.Translate(err)
}

func ptr[T any](v T) *T { return &v }
