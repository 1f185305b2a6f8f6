package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"
)

// The demo brand's network and the large benchmark network are generated
// files in the import format (JSON Lines), so they are loaded through the
// same path as a brand's own file.

// demoCity is a city the generated networks serve, with districts whose
// GB/T 2260 codes are in the regions table (003_regions.sql).
type demoCity struct {
	code, name string
	lat, lon   float64
	districts  []demoDistrict
}

type demoDistrict struct{ code, name string }

// demoRegions are the service centers' areas: each serves some cities.
var demoRegions = []struct {
	code, name string
	cities     []demoCity
}{
	{"NORTH", "华北", []demoCity{
		{"110100", "北京", 39.904, 116.407, []demoDistrict{{"110101", "东城区"}, {"110102", "西城区"}, {"110105", "朝阳区"}, {"110106", "丰台区"}, {"110108", "海淀区"}}},
	}},
	{"EAST", "华东", []demoCity{
		{"310100", "上海", 31.230, 121.474, []demoDistrict{{"310101", "黄浦区"}, {"310104", "徐汇区"}, {"310105", "长宁区"}, {"310112", "闵行区"}, {"310115", "浦东新区"}}},
		{"330100", "杭州", 30.274, 120.155, []demoDistrict{{"330102", "上城区"}, {"330105", "拱墅区"}, {"330106", "西湖区"}, {"330108", "滨江区"}}},
		{"320100", "南京", 32.060, 118.797, []demoDistrict{{"320102", "玄武区"}, {"320104", "秦淮区"}, {"320105", "建邺区"}, {"320106", "鼓楼区"}}},
	}},
	{"SHANDONG", "山东", []demoCity{
		{"370200", "青岛", 36.067, 120.383, []demoDistrict{{"370202", "市南区"}, {"370203", "市北区"}, {"370211", "黄岛区"}, {"370212", "崂山区"}, {"370213", "李沧区"}, {"370214", "城阳区"}}},
		{"370100", "济南", 36.651, 117.120, []demoDistrict{{"370102", "历下区"}, {"370103", "市中区"}}},
	}},
	{"SOUTH", "华南", []demoCity{
		{"440100", "广州", 23.129, 113.264, []demoDistrict{{"440103", "荔湾区"}, {"440104", "越秀区"}, {"440105", "海珠区"}, {"440106", "天河区"}, {"440111", "白云区"}}},
		{"440300", "深圳", 22.543, 114.058, []demoDistrict{{"440303", "罗湖区"}, {"440304", "福田区"}, {"440305", "南山区"}, {"440306", "宝安区"}}},
		{"440600", "佛山", 23.022, 113.122, []demoDistrict{{"440604", "禅城区"}, {"440605", "南海区"}, {"440606", "顺德区"}}},
	}},
	{"CENTRAL", "华中", []demoCity{
		{"420100", "武汉", 30.593, 114.305, []demoDistrict{{"420102", "江岸区"}, {"420103", "江汉区"}, {"420106", "武昌区"}, {"420111", "洪山区"}}},
		{"610100", "西安", 34.341, 108.940, []demoDistrict{{"610102", "新城区"}, {"610103", "碑林区"}, {"610113", "雁塔区"}}},
	}},
	{"WEST", "西南", []demoCity{
		{"510100", "成都", 30.573, 104.066, []demoDistrict{{"510104", "锦江区"}, {"510105", "青羊区"}, {"510107", "武侯区"}, {"510108", "成华区"}}},
		{"500100", "重庆", 29.563, 106.551, []demoDistrict{{"500103", "渝中区"}, {"500105", "江北区"}, {"500106", "沙坪坝区"}, {"500112", "渝北区"}}},
	}},
}

// demoProvinces are the provinces (and municipalities) of demoRegions: the
// manufacturer's coverage.
var demoProvinces = []string{"110000", "310000", "330000", "320000", "370000", "440000", "420000", "610000", "510000", "500000"}

// DemoReferenceDate is the date the demo's licence expiries are spread
// around: some expired before it, some expiring within 90 days after it.
var DemoReferenceDate = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

var (
	demoSurnames = []string{"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马", "罗"}
	demoGiven    = []string{"伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "超", "明", "刚", "平", "辉", "鹏", "华", "飞", "鑫", "波", "宇", "浩"}
	demoStreets  = []string{"人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "黄河路", "香港路", "东风路"}
	demoShifts   = [][]Shift{
		{{1, "08:00", "18:00"}, {2, "08:00", "18:00"}, {3, "08:00", "18:00"}, {4, "08:00", "18:00"}, {5, "08:00", "18:00"}},
		{{1, "09:00", "18:00"}, {2, "09:00", "18:00"}, {3, "09:00", "18:00"}, {4, "09:00", "18:00"}, {5, "09:00", "18:00"}, {6, "09:00", "12:00"}},
		{{3, "08:30", "17:30"}, {4, "08:30", "17:30"}, {5, "08:30", "17:30"}, {6, "08:30", "17:30"}, {7, "08:30", "17:30"}},
		{{1, "13:00", "21:00"}, {2, "13:00", "21:00"}, {4, "13:00", "21:00"}, {6, "09:00", "18:00"}, {7, "09:00", "18:00"}},
	}
	// Appliance categories weigh more than the electronics ones.
	demoCategoryWeights = map[string]int{"washer": 9, "refrigerator": 9, "air_conditioner": 9, "tv": 6, "water_heater": 6,
		"kitchen": 5, "small_appliance": 4, "phone": 2, "laptop": 2, "camera": 1, "tablet": 1}
)

// demoGen writes one generated network.
type demoGen struct {
	rnd     *rand.Rand
	out     bytes.Buffer
	prefix  string
	nodes   int
	techs   int
	phoneNo int
}

func newDemoGen(seed int64, prefix string) *demoGen {
	return &demoGen{rnd: rand.New(rand.NewPCG(uint64(seed), 0x5e41ce7e7)), prefix: prefix}
}

func (g *demoGen) line(row map[string]any) {
	b, err := json.Marshal(row)
	if err != nil {
		panic(err) // only maps of plain values
	}
	g.out.Write(b)
	g.out.WriteByte('\n')
}

func (g *demoGen) pick(xs []string) string { return xs[g.rnd.IntN(len(xs))] }

func (g *demoGen) person() string { return g.pick(demoSurnames) + g.pick(demoGiven) }

func (g *demoGen) phone() string {
	g.phoneNo++
	return fmt.Sprintf("+86 13%d %04d %04d", g.rnd.IntN(10), g.phoneNo/10000%10000, g.phoneNo%10000)
}

func (g *demoGen) near(c demoCity) map[string]any {
	return map[string]any{"latitude": demoRound(c.lat + (g.rnd.Float64()-0.5)*0.3), "longitude": demoRound(c.lon + (g.rnd.Float64()-0.5)*0.3)}
}

func demoRound(f float64) float64 { return float64(int64(f*10000+0.5*demoSign(f))) / 10000 }

func demoSign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// categories picks n distinct categories, weighted.
func (g *demoGen) categories(n int) []string {
	var out []string
	for len(out) < n {
		total := 0
		for _, c := range Categories {
			if !slices.Contains(out, c) {
				total += demoCategoryWeights[c]
			}
		}
		x := g.rnd.IntN(total)
		for _, c := range Categories {
			if slices.Contains(out, c) {
				continue
			}
			if x -= demoCategoryWeights[c]; x < 0 {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func (g *demoGen) grade() string {
	return []string{"A", "B", "B", "C", "C", "C", "D", "E"}[g.rnd.IntN(8)]
}

type demoNode struct {
	code       string
	city       demoCity
	district   demoDistrict
	categories []string
}

func (g *demoGen) node(code, name, tier, parent string, city demoCity, district demoDistrict, coverage, categories, kinds []string, capacity int) demoNode {
	row := map[string]any{"type": "node", "external_code": code, "name": name, "tier": tier, "status": "active",
		"grade": g.grade(), "contact": map[string]any{"name": g.person(), "phone": g.phone()},
		"address":  map[string]any{"region_code": district.code, "line": fmt.Sprintf("%s%d号", g.pick(demoStreets), 1+g.rnd.IntN(300))},
		"location": g.near(city), "coverage": coverage, "categories": categories, "service_kinds": kinds,
		"daily_capacity": capacity}
	if parent != "" {
		row["parent_code"] = parent
	}
	if tier == string(TierRepairPoint) && g.rnd.IntN(10) == 0 {
		row["status"] = "probation"
		delete(row, "grade")
	}
	g.line(row)
	g.nodes++
	return demoNode{code: code, city: city, district: district, categories: categories}
}

func (g *demoGen) technician(code string, n demoNode) {
	var skills []map[string]any
	for _, c := range g.categories(1 + g.rnd.IntN(min(3, len(n.categories)))) {
		if !slices.Contains(n.categories, c) && g.rnd.IntN(3) > 0 {
			c = n.categories[g.rnd.IntN(len(n.categories))]
		}
		dup := false
		for _, s := range skills {
			dup = dup || s["category"] == c
		}
		if !dup {
			skills = append(skills, map[string]any{"category": c, "level": 1 + min(4, g.rnd.IntN(3)+g.rnd.IntN(3))})
		}
	}
	ref := DemoReferenceDate
	var expires time.Time
	switch x := g.rnd.IntN(100); {
	case x < 8: // already expired
		expires = ref.AddDate(0, 0, -1-g.rnd.IntN(300))
	case x < 18: // expiring soon
		expires = ref.AddDate(0, 0, 1+g.rnd.IntN(90))
	default:
		expires = ref.AddDate(0, 0, 91+g.rnd.IntN(1000))
	}
	issued := expires.AddDate(-3, 0, 0)
	if latest := ref.AddDate(0, 0, -30-g.rnd.IntN(300)); issued.After(latest) {
		issued = latest
	}
	row := map[string]any{"type": "technician", "external_code": code, "node_code": n.code,
		"name": g.person() + "师傅", "phone": g.phone(), "skills": skills,
		"shifts": demoShifts[g.rnd.IntN(len(demoShifts))], "daily_job_limit": 4 + g.rnd.IntN(9),
		"home": map[string]any{"region_code": n.district.code, "location": g.near(n.city)}}
	if g.rnd.IntN(50) > 0 { // a few have no licence yet
		row["licence"] = map[string]any{"number": fmt.Sprintf("SL-%d-%06d", issued.Year(), g.rnd.IntN(1000000)),
			"issued_on": issued.Format(time.DateOnly), "expires_on": expires.Format(time.DateOnly)}
	}
	switch g.rnd.IntN(40) {
	case 0:
		row["status"] = "on_leave"
	case 1:
		row["status"] = "suspended"
	}
	g.line(row)
	g.techs++
}

var repairKinds = []string{"install", "maintenance", "carry_in"}

func (g *demoGen) kinds() []string {
	out := []string{"repair"}
	for _, k := range repairKinds {
		if g.rnd.IntN(2) == 0 {
			out = append(out, k)
		}
	}
	return out
}

func cityCodes(cs []demoCity) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.code
	}
	return out
}

func districtCodes(ds []demoDistrict) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.code
	}
	return out
}

// generate writes a network: the manufacturer, the six service centers,
// depotsPerCity depots in each city, repair points spread over the
// districts, and technicians spread over repair points and depots.
func (g *demoGen) generate(depots, points, techs int) []byte {
	first := demoRegions[0].cities[0]
	root := g.node(g.prefix+"MFR", "示例家电集团", string(TierManufacturer), "", first, first.districts[0],
		demoProvinces, Categories, []string{"repair", "maintenance", "remote"}, 50)
	var allCities []demoCity
	cityCenter := map[string]demoNode{}
	for _, r := range demoRegions {
		hub := r.cities[0]
		sc := g.node(g.prefix+"SC-"+r.code, "示例家电"+r.name+"服务中心", string(TierServiceCenter), root.code, hub,
			hub.districts[0], cityCodes(r.cities), Categories, []string{"repair", "maintenance", "carry_in", "remote"}, 60+g.rnd.IntN(60))
		for _, c := range r.cities {
			cityCenter[c.code] = sc
			allCities = append(allCities, c)
		}
	}
	cityDepots := map[string][]demoNode{}
	for i := range depots {
		c := allCities[i%len(allCities)]
		d := c.districts[(i/len(allCities))%len(c.districts)]
		cover := districtCodes(c.districts)
		if len(cover) > 3 {
			start := g.rnd.IntN(len(cover))
			cover = append(cover[start:], cover[:start]...)[:3]
		}
		n := g.node(fmt.Sprintf("%sSD-%s-%03d", g.prefix, c.code, i+1), fmt.Sprintf("%s%s专业维修站%d", c.name, d.name, i/len(allCities)+1),
			string(TierSpecialistDepot), cityCenter[c.code].code, c, d, cover, g.categories(3+g.rnd.IntN(4)), g.kinds(), 20+g.rnd.IntN(40))
		cityDepots[c.code] = append(cityDepots[c.code], n)
	}
	var districts []struct {
		city demoCity
		d    demoDistrict
	}
	for _, c := range allCities {
		for _, d := range c.districts {
			districts = append(districts, struct {
				city demoCity
				d    demoDistrict
			}{c, d})
		}
	}
	var workers []demoNode
	for i := range points {
		cd := districts[i%len(districts)]
		parents := cityDepots[cd.city.code]
		parent := cityCenter[cd.city.code]
		if len(parents) > 0 {
			parent = parents[g.rnd.IntN(len(parents))]
		}
		cover := []string{cd.d.code}
		if g.rnd.IntN(3) == 0 {
			if o := cd.city.districts[g.rnd.IntN(len(cd.city.districts))]; o.code != cd.d.code {
				cover = append(cover, o.code)
			}
		}
		n := g.node(fmt.Sprintf("%sRP-%05d", g.prefix, i+1), fmt.Sprintf("%s%s授权服务网点%d", cd.city.name, cd.d.name, i/len(districts)+1),
			string(TierRepairPoint), parent.code, cd.city, cd.d, cover, g.categories(2+g.rnd.IntN(4)), g.kinds(), 5+g.rnd.IntN(36))
		workers = append(workers, n)
	}
	for _, c := range allCities { // not the map: the output must be deterministic
		workers = append(workers, cityDepots[c.code]...)
	}
	if len(workers) == 0 {
		workers = append(workers, root)
	}
	for i := range techs {
		// Mostly round robin, so every node gets technicians; some nodes get more.
		n := workers[i%len(workers)]
		if g.rnd.IntN(4) == 0 {
			n = workers[g.rnd.IntN(len(workers))]
		}
		g.technician(fmt.Sprintf("%sT-%06d", g.prefix, i+1), n)
	}
	return g.out.Bytes()
}

// DemoNetwork is the demo brand's network as a JSON Lines import file: one
// manufacturer root, 6 service centers, 40 specialist depots and 312 repair
// points across 52 real districts of 13 cities, and 1,500 technicians with
// mixed skills and levels, shifts, daily limits and licences spread around
// DemoReferenceDate (some expired, some expiring soon, a few missing). The
// same seed always gives the same bytes.
func DemoNetwork(seed int64) []byte {
	return newDemoGen(seed, "DEMO-").generate(40, 312, 1500)
}

// LargeNetwork is a JSON Lines import file of about nodes nodes (the
// manufacturer, 6 service centers, a depot per 25 nodes, the rest repair
// points) and technicians technicians, for the import's scale test and
// benchmark. Deterministic in seed.
func LargeNetwork(seed int64, nodes, technicians int) []byte {
	depots := max(1, nodes/25)
	points := max(0, nodes-1-len(demoRegions)-depots)
	return newDemoGen(seed, "L-").generate(depots, points, technicians)
}
