package network

// RegionLevel is 1 for a province code (XX0000), 2 for a city (XXYY00), 3 for
// a district or county, and 0 for anything that is not a 6-digit GB/T 2260
// code.
func RegionLevel(code string) int {
	if len(code) != 6 || code[0] < '1' || code[0] > '9' {
		return 0
	}
	for i := 1; i < 6; i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0
		}
	}
	switch {
	case code[2:] == "0000":
		return 1
	case code[4:] == "00":
		return 2
	default:
		return 3
	}
}

// RegionAncestors returns code followed by its city and province codes,
// most specific first (a province returns only itself), or nil when code is
// malformed.
func RegionAncestors(code string) []string {
	switch RegionLevel(code) {
	case 1:
		return []string{code}
	case 2:
		return []string{code, code[:2] + "0000"}
	case 3:
		return []string{code, code[:4] + "00", code[:2] + "0000"}
	}
	return nil
}
