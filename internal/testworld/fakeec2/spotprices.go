package fakeec2

import (
	"slices"
	"strconv"
	"time"
)

// Spot prices. EC2 publishes a Spot price per instance type, Availability
// Zone and product description, changing over time; DescribeSpotPriceHistory
// (EC2 API Reference) returns, for a time range, the prices in it and the
// last change before its start: the price in effect at StartTime. The
// emulator holds one price per type and zone, in effect since it was set,
// for the product description Linux/UNIX only (its images are all Linux).
// Options.SpotPrices seeds them, the same in every zone; SetSpotPrice
// changes one. A type with no price has no history, as a type without
// Spot capacity anywhere would.

// linuxProduct is the product description of a Linux instance.
const linuxProduct = "Linux/UNIX"

// spotPrice is one zone's current Spot price of a type.
type spotPrice struct {
	seq   int
	itype string
	az    string
	usd   float64
	since time.Time
}

// SetSpotPrice sets the Spot price of itype in az ("" for every zone) from
// now on.
func (s *Server) SetSpotPrice(itype, az string, usd float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.setSpotPriceLocked(itype, az, usd)
}

func (s *Server) setSpotPriceLocked(itype, az string, usd float64) {
	if s.spotPrices == nil {
		s.spotPrices = map[string]*spotPrice{}
	}
	for _, z := range s.zones() {
		if az != "" && z != az {
			continue
		}
		key := itype + "/" + z
		p := s.spotPrices[key]
		if p == nil {
			p = &spotPrice{seq: len(s.spotPrices) + 1, itype: itype, az: z}
			s.spotPrices[key] = p
		}
		// EC2 stamps prices to the second, as requests give times.
		p.usd, p.since = usd, s.now().Truncate(time.Second)
	}
}

type xmlSpotPrice struct {
	AvailabilityZone   string `xml:"availabilityZone"`
	InstanceType       string `xml:"instanceType"`
	ProductDescription string `xml:"productDescription"`
	SpotPrice          string `xml:"spotPrice"`
	Timestamp          string `xml:"timestamp"`
}

type describeSpotPriceHistoryResult struct {
	SpotPriceHistory []xmlSpotPrice `xml:"spotPriceHistorySet>item"`
	NextToken        string         `xml:"nextToken,omitempty"`
}

var spotPriceFields = fieldFuncs[*spotPrice]{
	"availability-zone":   func(p *spotPrice) []string { return one(p.az) },
	"instance-type":       func(p *spotPrice) []string { return one(p.itype) },
	"product-description": func(*spotPrice) []string { return one(linuxProduct) },
	"spot-price":          func(p *spotPrice) []string { return one(formatSpotPrice(p.usd)) },
	"timestamp":           func(p *spotPrice) []string { return one(xmlTime(p.since)) },
}

// formatSpotPrice writes a price as EC2 does: six decimals ("0.031200").
func formatSpotPrice(usd float64) string { return strconv.FormatFloat(usd, 'f', 6, 64) }

// describeSpotPriceHistory implements DescribeSpotPriceHistory with
// InstanceType.N, ProductDescription.N, AvailabilityZone, StartTime and
// EndTime (ISO 8601; a StartTime after EndTime is refused), and the steps
// every Describe call takes (Filter.N, MaxResults from 5 to 1000,
// NextToken, DryRun). Every price the emulator holds has been in effect
// since it was set, so a price is in the answer when it was set by
// EndTime (now when absent).
func (s *Server) describeSpotPriceHistory(p params) (any, *apiError) {
	end := s.now()
	var start time.Time
	for name, dst := range map[string]*time.Time{"StartTime": &start, "EndTime": &end} {
		if v := p.str(name); v != "" {
			t, perr := time.Parse(time.RFC3339, v)
			if perr != nil {
				return nil, errInvalidValue("Invalid value '%s' for %s. Expected an ISO 8601 timestamp such as 2026-12-07T00:00:00Z.", v, name)
			}
			*dst = t
		}
	}
	if !start.IsZero() && start.After(end) {
		return nil, errInvalidValue("The start time must be before the end time.")
	}
	types, products, az := p.list("InstanceType"), p.list("ProductDescription"), p.str("AvailabilityZone")
	linux := len(products) == 0 || slices.Contains(products, linuxProduct)
	return describe(s, p, query[*spotPrice]{
		fields: spotPriceFields, tags: func(*spotPrice) map[string]string { return nil },
		seq: func(sp *spotPrice) int { return sp.seq },
		selectAll: func() ([]*spotPrice, *apiError) {
			var out []*spotPrice
			for _, sp := range s.spotPrices {
				if linux && (len(types) == 0 || slices.Contains(types, sp.itype)) && (az == "" || sp.az == az) && !sp.since.After(end) {
					out = append(out, sp)
				}
			}
			return out, nil
		},
	}, func(items []*spotPrice, next string) any {
		out := describeSpotPriceHistoryResult{NextToken: next}
		for _, sp := range items {
			out.SpotPriceHistory = append(out.SpotPriceHistory, xmlSpotPrice{AvailabilityZone: sp.az, InstanceType: sp.itype,
				ProductDescription: linuxProduct, SpotPrice: formatSpotPrice(sp.usd), Timestamp: xmlTime(sp.since)})
		}
		return out
	})
}
