package fakeec2

import (
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
)

// idKind says how one kind of resource id looks and how EC2 reports ids of
// that kind that are malformed or unknown.
type idKind struct {
	prefix    string
	malformed string // error code for a malformed id
	notFound  func(ids []string) *apiError
}

var (
	instanceIDs = idKind{"i", "InvalidInstanceID.Malformed", func(ids []string) *apiError {
		return errNotFound("InvalidInstanceID.NotFound", "instance ID", ids)
	}}
	groupIDs = idKind{"sg", "InvalidGroupId.Malformed", func(ids []string) *apiError {
		return errNotFound("InvalidGroup.NotFound", "security group", ids)
	}}
	subnetIDs = idKind{"subnet", "InvalidSubnetID.Malformed", func(ids []string) *apiError {
		return errNotFound("InvalidSubnetID.NotFound", "subnet ID", ids)
	}}
	vpcIDs = idKind{"vpc", "InvalidVpcID.Malformed", func(ids []string) *apiError {
		return errNotFound("InvalidVpcID.NotFound", "vpc ID", ids)
	}}
	// Unknown images are reported with the ids in brackets: "The image id
	// '[ami-12345678]' does not exist".
	imageIDs = idKind{"ami", "InvalidAMIID.Malformed", func(ids []string) *apiError {
		if len(ids) == 1 {
			return clientError("InvalidAMIID.NotFound", "The image id '[%s]' does not exist", ids[0])
		}
		return clientError("InvalidAMIID.NotFound", "The image ids '[%s]' do not exist", strings.Join(ids, ", "))
	}}
)

// selectIDs resolves explicitly requested ids: a malformed one fails first,
// then every unknown one is reported together.
func selectIDs[T any](ids []string, kind idKind, get func(string) (T, bool)) ([]T, *apiError) {
	var out []T
	var missing []string
	for _, id := range ids {
		if !wellFormed(id, kind.prefix) {
			return nil, errMalformed(kind.malformed, id, kind.prefix)
		}
		it, ok := get(id)
		if !ok {
			missing = append(missing, id)
			continue
		}
		out = append(out, it)
	}
	if len(missing) > 0 {
		return nil, kind.notFound(missing)
	}
	return out, nil
}

// page is a describe call's MaxResults / NextToken.
type page struct {
	max   int
	token string
}

// parsePage validates MaxResults: 5 to 1000, and not together with explicit
// ids (EC2 API Reference, "DescribeInstances": "You cannot specify this
// parameter and the instance IDs parameter in the same request").
func parsePage(p params, ids []string, idsElement string) (page, *apiError) {
	n, sent, err := p.integer("MaxResults")
	if err != nil {
		return page{}, err
	}
	if sent && len(ids) > 0 {
		return page{}, errCombination("The parameter %s cannot be used with the parameter maxResults", idsElement)
	}
	if sent && (n < 5 || n > 1000) {
		return page{}, errInvalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value between 5 and 1000.", n)
	}
	return page{max: n, token: p.str("NextToken")}, nil
}

// paginate returns one page of items (sorted by seq) and the token of the
// next. Tokens name the last sequence number returned, so resources created
// between pages do not shift what a caller sees.
func paginate[T any](items []T, seq func(T) int, pg page) ([]T, string, *apiError) {
	sort.SliceStable(items, func(i, j int) bool { return seq(items[i]) < seq(items[j]) })
	after, err := decodeToken(pg.token)
	if err != nil {
		return nil, "", err
	}
	start := sort.Search(len(items), func(i int) bool { return seq(items[i]) > after })
	items = items[start:]
	max := pg.max
	if max == 0 && pg.token != "" {
		max = 1000
	}
	if max == 0 || len(items) <= max {
		return items, "", nil
	}
	return items[:max], encodeToken(seq(items[max-1])), nil
}

func encodeToken(seq int) string {
	return base64.RawURLEncoding.EncodeToString([]byte("seq:" + strconv.Itoa(seq)))
}

// decodeToken reads a NextToken; an unreadable one is EC2's
// InvalidPaginationToken ("The specified pagination token is not valid or
// is expired", common client error codes).
func decodeToken(tok string) (int, *apiError) {
	if tok == "" {
		return 0, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	n, convErr := strconv.Atoi(strings.TrimPrefix(string(raw), "seq:"))
	if err != nil || convErr != nil || !strings.HasPrefix(string(raw), "seq:") {
		return 0, clientError("InvalidPaginationToken", "Invalid token")
	}
	return n, nil
}

// checkDryRun turns a DryRun request that passed validation into the
// DryRunOperation answer.
func checkDryRun(p params) *apiError {
	if p.boolean("DryRun") {
		return errDryRun()
	}
	return nil
}

// one wraps a single value for a filter field.
func one(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// query is what one Describe* call needs beyond the steps every one of
// them takes (filters, paging, DryRun, selection, in EC2's order of
// checks): the names it was given, how to select and read its resources.
type query[T any] struct {
	named      []string // ids (and names) the call gives; MaxResults may not go with them
	namedParam string   // the parameter named in that error, e.g. "instancesSet"
	fields     fieldFuncs[T]
	tags       func(T) map[string]string
	seq        func(T) int // creation order, which pages follow
	// selectAll resolves the named resources, or lists all; s.mu is held.
	selectAll func() ([]T, *apiError)
}

// describe runs a Describe* call: it checks the filters and the page
// before DryRun, as EC2 does, then selects, filters and pages under the
// lock, and renders the page (still under the lock) with its NextToken.
func describe[T any](s *Server, p params, q query[T], render func(items []T, next string) any) (any, *apiError) {
	fs, err := parseFilters(p, q.fields)
	if err != nil {
		return nil, err
	}
	pg, err := parsePage(p, q.named, q.namedParam)
	if err != nil {
		return nil, err
	}
	if err := checkDryRun(p); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := q.selectAll()
	if err != nil {
		return nil, err
	}
	items, next, err := paginate(applyFilters(all, fs, q.fields, q.tags), q.seq, pg)
	if err != nil {
		return nil, err
	}
	return render(items, next), nil
}
