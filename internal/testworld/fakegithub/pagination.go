package fakegithub

import (
	"fmt"
	"strconv"
	"strings"
)

// page is one page of a list call.
type page struct {
	number, size int
}

// pageOf reads page and per_page. GitHub returns 30 items by default and at
// most 100 ("Using pagination in the REST API"); nonsense falls back to the
// defaults rather than failing.
func (s *Server) pageOf(c *call) page {
	q := c.req.URL.Query()
	p := page{number: 1, size: s.opts.PerPageDefault}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		p.number = n
	}
	if n, err := strconv.Atoi(q.Get("per_page")); err == nil && n > 0 {
		p.size = min(n, s.opts.PerPageMax)
	}
	return p
}

// bounds is the slice [lo, hi) of total items this page holds.
func (p page) bounds(total int) (lo, hi int) {
	lo = min((p.number-1)*p.size, total)
	return lo, min(lo+p.size, total)
}

// last is the number of the last page (1 for an empty list).
func (p page) last(total int) int {
	return max(1, (total+p.size-1)/p.size)
}

// paginate slices items and sets the Link header for them.
func paginate[T any](c *call, p page, items []T) ([]T, string) {
	lo, hi := p.bounds(len(items))
	return items[lo:hi], c.link(p, len(items))
}

// link builds the Link header the way GitHub does: relations in the order
// prev, next, last, first; "the link to the previous page won't be included
// if you are on the first page", no next or last on the last page, and no
// header at all when everything fits on one page. The URLs point at
// /repositories/{id}/… (as GitHub's do) and keep the caller's other query
// parameters, per_page included ("The per_page parameter will automatically
// be included in the link header"), with page last.
func (c *call) link(p page, total int) string {
	last := p.last(total)
	if last == 1 && p.number == 1 {
		return ""
	}
	var rels []string
	add := func(n int, rel string) {
		rels = append(rels, fmt.Sprintf("<%s>; rel=%q", c.pageURL(n), rel))
	}
	if p.number > 1 {
		add(min(p.number-1, last), "prev")
	}
	if p.number < last {
		add(p.number+1, "next")
		add(last, "last")
	}
	if p.number > 1 {
		add(1, "first")
	}
	return strings.Join(rels, ", ")
}

// pageURL is this call's URL on page n, rooted at /repositories/{id}.
func (c *call) pageURL(n int) string {
	path := c.req.URL.EscapedPath()
	prefix := "/repos/" + c.repo.owner + "/" + c.repo.name
	if len(path) >= len(prefix) && strings.EqualFold(path[:len(prefix)], prefix) {
		path = fmt.Sprintf("/repositories/%d%s", c.repo.id, path[len(prefix):])
	}
	var keep []string
	for _, kv := range strings.Split(c.req.URL.RawQuery, "&") {
		if kv != "" && !strings.HasPrefix(kv, "page=") {
			keep = append(keep, kv)
		}
	}
	keep = append(keep, "page="+strconv.Itoa(n))
	return c.base + path + "?" + strings.Join(keep, "&")
}

// listReply is a paginated answer.
func listReply(body any, link string) reply {
	rep := reply{status: 200, body: body}
	if link != "" {
		rep.header = map[string][]string{"Link": {link}}
	}
	return rep
}
