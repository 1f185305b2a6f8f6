package customers

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/servicenet/servicenet/internal/i18n"
	"github.com/servicenet/servicenet/internal/pg"
	"github.com/servicenet/servicenet/tenants"
)

// DemoStorefrontCode is the code of the demo brand's storefront.
const DemoStorefrontCode = "TMALL-FLAGSHIP"

// DemoUnitCount is how many units SeedDemoUnits registers.
const DemoUnitCount = 30

// SeedDemoStorefront makes sure the tenant has the demo storefront (code
// TMALL-FLAGSHIP, on tmall) and returns its id. Idempotent: a second call
// returns the same storefront and writes nothing.
func (s *Service) SeedDemoStorefront(ctx context.Context, p tenants.Principal) (string, error) {
	var id string
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		sf, err := insertStorefront(ctx, tx, p, NewStorefront{Code: DemoStorefrontCode, Name: "海尔官方旗舰店（天猫）", Platform: "tmall",
			Contact: StorefrontContact{Name: "天猫旗舰店客服", Phone: "400-699-9999", Email: "tmall-flagship@example.cn"}}, "ON CONFLICT (tenant_id, livemode, code) DO NOTHING")
		if err == nil {
			id = sf.ID
			return nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return tx.QueryRow(ctx, `SELECT id FROM storefronts WHERE tenant_id = $1 AND code = $2`, tx.TenantID, DemoStorefrontCode).Scan(&id)
	})
	return id, pg.Translate(err)
}

// demoPeople are the demo customers: name, phone, district code and street.
var demoPeople = []struct{ name, phone, region, line string }{
	{"王丽", "13800138001", "370212", "崂山区海尔路1号 3单元502"},
	{"李强", "13800138002", "370202", "市南区香港中路8号 1802"},
	{"张伟", "13800138003", "110105", "朝阳区建国路88号 SOHO 2-1101"},
	{"刘洋", "13800138004", "110108", "海淀区中关村大街27号 605"},
	{"陈静", "13800138005", "310115", "浦东新区世纪大道100号 2301"},
	{"杨帆", "13800138006", "310104", "徐汇区漕溪北路18号 901"},
	{"赵敏", "13800138007", "330106", "西湖区文三路90号 1-702"},
	{"黄磊", "13800138008", "440106", "天河区天河路385号 1503"},
	{"周婷", "13800138009", "440305", "南山区科技园南区 R2-B 1201"},
	{"吴刚", "13800138010", "420106", "武昌区中南路99号 2208"},
	{"徐娜", "13800138011", "510107", "武侯区人民南路四段 12号 801"},
	{"孙浩", "13800138012", "500112", "渝北区金开大道 66号 3-5"},
	{"马超", "13800138013", "320106", "鼓楼区中山北路 30号 1104"},
	{"朱琳", "13800138014", "370102", "历下区泉城路 180号 502"},
	{"胡军", "13800138015", "610113", "雁塔区小寨东路 1号 1701"},
	{"郭敏", "13800138016", "440604", "禅城区季华五路 22号 903"},
	{"何静", "13800138017", "370214", "城阳区正阳路 177号 2-301"},
	{"高远", "13800138018", "330108", "滨江区江南大道 3850号 1608"},
	{"林峰", "13800138019", "440304", "福田区深南大道 6008号 2802"},
	{"罗琴", "13800138020", "420111", "洪山区珞喻路 1037号 12-402"},
}

// demoAges are how many days before today each demo unit was bought: fresh
// sales inside the 7- and 15-day statutory windows, units in and out of
// warranty, and old ones past extended terms.
var demoAges = []int{2, 5, 9, 14, 21, 40, 75, 120, 180, 250, 320, 400, 500, 600, 730, 800, 900, 1000, 1100, 1200,
	1300, 1400, 1500, 1600, 1800, 2000, 2200, 2500, 2800, 3200}

// SeedDemoUnits registers DemoUnitCount demo units of the given models (in
// turn) for the demo customers, bought on dates relative to today in the
// tenant's zone; every third is sold through storefrontID when it is given,
// and every fifth older unit has a paid repair in its history. Deterministic
// (serials DEMO-0001...) and idempotent: units whose serial and model are
// already registered are skipped. Returns how many it registered.
func (s *Service) SeedDemoUnits(ctx context.Context, p tenants.Principal, storefrontID string, modelIDs []string) (int, error) {
	if len(modelIDs) == 0 {
		return 0, tenants.InvalidMsg("model_ids", i18n.M("customers.model_required"), nil)
	}
	now := s.now()
	n := 0
	err := pg.InTenantTx(ctx, s.DB, p.TenantID, func(tx pg.TenantTx) error {
		st, err := tx.Settings(ctx)
		if err != nil {
			return err
		}
		today := now.In(st.Location)
		for i := range DemoUnitCount {
			model := modelIDs[i%len(modelIDs)]
			serial := fmt.Sprintf("DEMO-%04d", i+1)
			var exists bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT FROM units WHERE tenant_id = $1 AND model_id = $2 AND serial = $3)`,
				tx.TenantID, model, serial).Scan(&exists); err != nil {
				return err
			}
			if exists {
				continue
			}
			who := demoPeople[i%len(demoPeople)]
			bought := today.AddDate(0, 0, -demoAges[i%len(demoAges)])
			in := NewUnit{ModelID: model, Serial: serial, PurchaseDate: bought.Format(time.DateOnly),
				InstalledOn:   bought.AddDate(0, 0, min(2, demoAges[i%len(demoAges)])).Format(time.DateOnly),
				InvoiceNumber: fmt.Sprintf("0370019001%02d-%08d", i%7, 10000+i), Channel: []string{"brand_store", "retail", "other"}[i%3],
				PurchasePrice: tenants.Money{Amount: int64(199900 + 10000*(i%12)), Currency: st.Currency},
				Customer: &NewCustomer{Name: who.name, Phones: []string{who.phone},
					Addresses: []CustomerAddress{{Label: "home", RegionCode: who.region, Line: who.line}}}}
			if storefrontID != "" && i%3 == 0 {
				in.Channel, in.StorefrontID = ChannelStorefront, storefrontID
			}
			u, err := registerUnit(ctx, tx, p, in, now)
			if err != nil {
				return fmt.Errorf("demo unit %s: %w", serial, err)
			}
			n++
			if age := demoAges[i%len(demoAges)]; i%5 == 0 && age > 400 {
				_, err := recordService(ctx, tx, u, NewServiceRecord{Kind: "repair", OccurredOn: today.AddDate(0, 0, -age/3).Format(time.DateOnly),
					Basis: "out_of_warranty", FaultCause: "wear", PartCategories: []string{"motor"}, Paid: true,
					Amount: &tenants.Money{Amount: 32000, Currency: st.Currency}, Reference: "DEMO-R-" + serial,
					Note: "演示数据：保外付费维修"}, p.Subject(), now)
				if err != nil {
					return fmt.Errorf("demo history %s: %w", serial, err)
				}
			}
		}
		return nil
	})
	return n, pg.Translate(err)
}
